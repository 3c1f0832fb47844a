import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { withReportPage } from '../../harness/report/chromium.js';
import { MetricsStore } from '../engine/metrics.js';
import type { RunResult } from '../engine/run.js';
import { defineScenario } from '../engine/scenario.js';
import { renderHtmlReport, trendOverTime } from '../report/html.js';
import { formatSummary, summarise } from '../report/summary.js';
import { junitFor } from '../report/write.js';

const dir = mkdtempSync(join(tmpdir(), 'warren-load-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Ten seconds of a run where 30 requests of second 6 are slow (3 % of the run). */
function syntheticRun(): { result: RunResult; store: MetricsStore } {
  const store = new MetricsStore();
  for (let second = 0; second < 10; second++) {
    for (let i = 0; i < 100; i++) {
      const ms = second === 6 && i < 30 ? 40 + (i % 20) : 1 + (i % 5) * 0.5;
      const tags = { scenario: 'report', endpoint: i % 2 ? 'user' : 'topic' };
      store.add('http_req_duration', 'trend', ms, tags, second);
      store.add('iteration_duration', 'trend', ms, { scenario: 'report' }, second);
      store.add('iterations', 'counter', 1, { scenario: 'report' }, second);
      store.add(
        'checks',
        'rate',
        i !== 0,
        { scenario: 'report', check: 'valid login allowed' },
        second,
      );
    }
  }
  const scenario = defineScenario({
    name: 'report',
    executor: 'constant-arrival-rate',
    rate: 100,
    duration: '10s',
    maxVUs: 10,
    target: { kind: 'http', url: 'http://127.0.0.1:1/' },
    thresholds: { http_req_duration: ['p(95)<10', 'p(99)<25 each 2s'] },
  });
  const result: RunResult = {
    version: 1,
    scenario,
    startedAt: '2026-12-03T12:00:00.000Z',
    durationMs: 10_000,
    metrics: store.toJSON(),
    generator: { workers: 2, cores: 2, cpuShare: 0.2 },
    sources: 1,
  };
  return { result, store };
}

describe('load reports', () => {
  const { result, store } = syntheticRun();
  const summary = summarise(result, store);

  it('judges thresholds, windows and checks into a k6-like text summary', () => {
    expect(summary.thresholds.map((t) => t.ok)).toEqual([true, false]);
    expect(summary.thresholds[1]?.worstWindowStartSecond).toBe(5);
    expect(summary.exitCode).toBe(99);
    const text = formatSummary(summary);
    expect(text).toContain('✓ http_req_duration: p(95)<10');
    expect(text).toContain('✗ http_req_duration: p(99)<25 each 2s');
    expect(text).toContain('✗ valid login allowed  99.00% (990 ✓ / 10 ✗)');
    expect(text).toMatch(/\{ endpoint:user \}\.+: min=/);
    expect(Object.keys(summary.metrics['http_req_duration']!.values)).toEqual([
      'min',
      'med',
      'avg',
      'p(90)',
      'p(95)',
      'p(99)',
      'max',
      'count',
    ]);
  });

  it('shows the slow second in the latency-over-time series', () => {
    const points = trendOverTime(store, 'http_req_duration');
    expect(points).toHaveLength(10);
    expect(points[6]!.p99Ms).toBeGreaterThan(40);
    expect(points[6]!.p50Ms).toBeLessThan(4);
    expect(points[5]!.p99Ms).toBeLessThan(4);
  });

  it('writes JUnit with one failing case per failed threshold', () => {
    const xml = junitFor(summary);
    expect(xml).toContain('failures="1"');
    expect(xml).toContain('name="http_req_duration: p(99)&lt;25 each 2s"');
  });

  it('renders a self-contained HTML report with both plots in Chromium', async () => {
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtmlReport(summary, store));
    const { value, pageErrors } = await withReportPage(file, async (page) => {
      await page.waitForSelector('body[data-ready="true"]');
      const heights = await page
        .locator('svg.distribution rect.bin')
        .evaluateAll((bars) => bars.map((bar) => Number(bar.getAttribute('height'))));
      return {
        verdict: await page.locator('#verdict').textContent(),
        thresholds: await page.locator('#threshold-count').textContent(),
        lines: await page.locator('svg.latency-over-time polyline').count(),
        rateBars: await page.locator('svg.latency-over-time rect.rate').count(),
        bins: heights.filter((height) => height > 0).length,
        plotWidth: (await page.locator('svg.distribution').boundingBox())?.width ?? 0,
      };
    });
    expect(pageErrors).toEqual([]);
    expect(value.verdict).toBe('FAILED (exit 99)');
    expect(value.thresholds).toBe('1 of 2 failed');
    expect(value.lines).toBe(3);
    expect(value.rateBars).toBe(10);
    expect(value.bins).toBeGreaterThan(3);
    expect(value.plotWidth).toBeGreaterThan(500);
  });
});
