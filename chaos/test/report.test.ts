import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { withReportPage } from '../../harness/report/chromium.js';
import { loadDrill } from '../load.js';
import { writeReports } from '../report/write.js';
import { runDrill } from '../runner.js';

import { counter, drillOf, tempDir, testTarget } from './support.js';

const target = testTarget();

describe('the journal and reports of a drill', () => {
  it('runs a drill-owned backend behind a proxy, and writes journal, JUnit and HTML', async () => {
    const dir = tempDir();
    const loaded = await loadDrill(join(import.meta.dirname, 'fixtures', 'backend.yaml'));
    const journal = await runDrill(loaded, { target, vars: { marker: join(dir, 'marker') } });
    expect(journal).toMatchObject({ status: 'completed', deviated: false });
    expect(journal.run.map((step) => step.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    expect(journal.measurements['time until ok again']?.reached).toBe(true);
    expect(readFileSync(join(dir, 'marker'), 'utf8')).toBe('rolled back');

    const written = writeReports([journal], { root: join(dir, 'reports') });
    const onDisk = JSON.parse(readFileSync(join(written.latest, 'journal.json'), 'utf8')) as {
      status: string;
    };
    expect(onDisk.status).toBe('completed');
    expect(readFileSync(written.junit, 'utf8')).toContain('failures="0"');
  });

  it('attaches recent process output to a failed step', async () => {
    const loaded = drillOf({
      processes: {
        chatty: {
          command: [
            process.execPath,
            '-e',
            "console.log('auth: upstream refused'); setInterval(() => {}, 1000)",
          ],
          ready: { logLine: 'upstream refused' },
        },
      },
      method: [
        {
          type: 'action',
          name: 'freeze',
          action: { type: 'process.pause', process: 'chatty' },
        },
        {
          type: 'action',
          name: 'fails',
          action: { type: 'command', argv: [process.execPath, '-e', 'process.exit(4)'] },
        },
      ],
      rollbacks: [{ name: 'resume', action: { type: 'process.resume', process: 'chatty' } }],
    });
    const journal = await runDrill(loaded, { target });
    const failed = journal.run.find((step) => step.status === 'failed');
    expect(failed?.error?.code).toBe('WARREN_ERR_PROCESS_FAILED');
    expect(failed?.logs?.['process:chatty']).toEqual(['auth: upstream refused']);
  });

  it('renders a timeline and the verdict that real Chromium displays', async () => {
    const dir = tempDir();
    let broken = false;
    const journal = await runDrill(
      drillOf({
        steady: async () => (broken ? '<script>alert(1)</script>' : 'ok'),
        method: [
          { type: 'pause', name: 'settle', durationMs: 20 },
          {
            type: 'action',
            name: 'break',
            action: { type: 'function', run: async () => (broken = true) },
          },
        ],
        rollbacks: [{ name: 'undo', action: { type: 'function', run: counter().run } }],
      }),
      { target },
    );
    const written = writeReports([journal], { root: dir });
    const steps = journal.setup.length + 1 + journal.run.length + 1 + journal.rollbacks.length;
    const { value, pageErrors } = await withReportPage(written.html, async (page) => ({
      verdict: await page.locator('.drill .verdict').textContent(),
      bars: await page.locator('.timeline .bar').count(),
      deviatedBars: await page.locator('.timeline .bar[data-status="deviated"]').count(),
      firstBarWidth: await page
        .locator('.timeline .bar')
        .first()
        .evaluate((el) => el.getBoundingClientRect().width),
      scripts: await page
        .locator('script:not([type])')
        .evaluateAll((els) => els.map((el) => el.textContent)),
      deviation: await page.locator('.deviations li').first().textContent(),
    }));
    expect(pageErrors).toEqual([]);
    expect(value.verdict).toBe('deviated');
    expect(value.bars).toBe(steps);
    expect(value.deviatedBars).toBe(1);
    expect(value.firstBarWidth).toBeGreaterThan(0);
    // The probe's hostile output is shown as text, never run: the only script is the empty one.
    expect(value.scripts).toEqual(['']);
    expect(value.deviation).toMatch(/steady state after: steady missed/);
  });
});
