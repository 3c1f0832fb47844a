import { execFile } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { withReportPage } from '../../harness/report/chromium.js';
import { repoRoot } from '../../lib/paths.js';
import type { ConformanceReport } from '../report.js';

let stateDir: string;
let reportsDir: string;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function conformance(args: string[]): Promise<CliRun> {
  const ports = [
    '--idp-port',
    String(await freePort()),
    '--reference-port',
    String(await freePort()),
  ];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'scripts', 'conformance.ts'), ...ports, ...args],
      {
        cwd: repoRoot,
        env: { ...process.env, WARREN_STATE_DIR: stateDir, WARREN_REPORTS_DIR: reportsDir },
        timeout: 120_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function latestReport(): ConformanceReport {
  const file = join(reportsDir, 'conformance', 'latest', 'report.json');
  return JSON.parse(readFileSync(file, 'utf8')) as ConformanceReport;
}

beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'warren-state-'));
  reportsDir = mkdtempSync(join(tmpdir(), 'warren-reports-'));
});

afterAll(() => {
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(reportsDir, { recursive: true, force: true });
});

describe('npm run conformance', () => {
  it('passes a selection against the embedded reference, writes the reports and exits 0', async () => {
    const run = await conformance([
      '--mode',
      'protocol',
      '--only',
      'authorization,forge.alg-none.none',
      '--quiet',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/authorization\s+128\s+128\s+0/);

    const report = latestReport();
    expect(report.summary).toMatchObject({ total: 130, passed: 130, failed: 0, skipped: 0 });
    const result = report.results.find(
      (r) => r.id === 'az.vhost.other-tenant' && r.method === 'POST',
    );
    expect(result).toMatchObject({
      category: 'authorization',
      mode: 'protocol',
      rabbitmq: null,
      status: 'passed',
    });
    expect(result?.expected).toBe('allow → deny');
    expect(result?.durationMs).toBeGreaterThan(0);

    const latest = join(reportsDir, 'conformance', 'latest');
    const junit = readFileSync(join(latest, 'junit.xml'), 'utf8');
    expect(junit).toContain('<testsuite name="conformance.authorization" tests="128" failures="0"');
    const html = readFileSync(join(latest, 'report.html'), 'utf8');
    expect(html).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
    expect(realpathSync(latest)).not.toBe(latest);
  });

  it('renders a filterable HTML report with transcripts in real Chromium', async () => {
    const file = join(reportsDir, 'conformance', 'latest', 'report.html');
    const { value, pageErrors } = await withReportPage(file, async (page) => {
      const allRows = await page.locator('tr.row').count();
      await page.selectOption('#f-category', 'forgery');
      const forgeryRows = await page.locator('tr.row').count();
      await page.fill('#f-text', 'other-tenant');
      await page.selectOption('#f-category', '');
      const searched = await page.locator('tr.row').count();
      await page.locator('tr.row').first().click();
      const transcript = await page.locator('tr.detail:not([hidden]) pre').first().textContent();
      return { allRows, forgeryRows, searched, transcript };
    });
    expect(pageErrors).toEqual([]);
    expect(value.allRows).toBe(130);
    expect(value.forgeryRows).toBe(2);
    expect(value.searched).toBeGreaterThan(0);
    expect(value.searched).toBeLessThan(value.allRows);
    expect(value.transcript).toContain('1. login ok');
    expect(value.transcript).toContain('<redacted sha256:');
  });

  it('fails the run when an expected failure passes, and keeps the earlier run', async () => {
    const list = join(stateDir, 'expected.yaml');
    writeFileSync(list, 'expectedFailures:\n  - id: az.vhost.other-tenant\n    reason: test\n');
    const run = await conformance([
      '--mode',
      'protocol',
      '--only',
      'az.vhost.other-tenant',
      '--expected-failures',
      list,
      '--quiet',
    ]);
    expect(run.code).toBe(1);
    const report = latestReport();
    expect(report.results.every((r) => r.status === 'failed')).toBe(true);
    expect(report.results[0]?.reason).toContain('listed as an expected failure');
    const runs = readdirSync(join(reportsDir, 'conformance')).filter((name) => name !== 'latest');
    expect(runs.length).toBeGreaterThanOrEqual(2);
  });

  it('exits 2 with the reason when the backend cannot be reached or a flag is wrong', async () => {
    const unreachable = await conformance([
      '--mode',
      'protocol',
      '--backend',
      'http://127.0.0.1:9',
      '--only',
      'tv.exp.zero',
    ]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('http://127.0.0.1:9');

    const badFlag = await conformance(['--mode', 'sideways']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('--mode sideways');
  });
});
