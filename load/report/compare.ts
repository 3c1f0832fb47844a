/**
 * `compare`: the same storm against several auth paths (broker internal, HTTP with an allow-all
 * server, the reference service, the reference behind the broker's cache), reported side by side
 * and as ratios to the first, so each path's cost reads directly ("reference p95 = 1.4 × allow-all").
 */
import { formatMs } from '../engine/duration.js';
import type { Summary } from './summary.js';

export interface CompareRow {
  label: string;
  /** Iterations per second achieved. */
  rate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Failed iterations / all iterations. */
  failedShare: number;
  verdict: string;
}

/** The trend a comparison reads: the connection time when present, else the request time. */
export function primaryTrend(summary: Summary): string {
  return (
    ['amqp_connect_duration', 'http_req_duration'].find((name) => summary.metrics[name]) ??
    'iteration_duration'
  );
}

/** One row per summary; `labels` default to the scenario targets. */
export function compareRows(summaries: Summary[], labels?: string[]): CompareRow[] {
  return summaries.map((summary, i) => {
    const trend = summary.metrics[primaryTrend(summary)]?.values ?? {};
    const failed = summary.metrics['iteration_failed']?.values ?? {};
    return {
      label: labels?.[i] ?? summary.scenario.target,
      rate: summary.metrics['iterations']?.values['rate'] ?? 0,
      p50Ms: trend['med'] ?? NaN,
      p95Ms: trend['p(95)'] ?? NaN,
      p99Ms: trend['p(99)'] ?? NaN,
      failedShare: failed['rate'] ?? 0,
      verdict: summary.verdict,
    };
  });
}

/** A text table with ratios to the first row (the baseline). */
export function formatComparison(rows: CompareRow[]): string {
  const base = rows[0];
  if (!base) return '(nothing to compare)';
  const ratio = (value: number, of: number): string =>
    of > 0 && Number.isFinite(value) ? `${(value / of).toFixed(2)}×` : '-';
  const header =
    `${'path'.padEnd(44)} ${'it/s'.padStart(7)} ${'p50'.padStart(8)} ${'p95'.padStart(8)}` +
    ` ${'p99'.padStart(8)} ${'failed'.padStart(7)}   p50/p95/p99 vs first`;
  const lines = rows.map(
    (row) =>
      `${row.label.slice(0, 44).padEnd(44)} ${row.rate.toFixed(1).padStart(7)}` +
      ` ${formatMs(row.p50Ms).padStart(8)} ${formatMs(row.p95Ms).padStart(8)}` +
      ` ${formatMs(row.p99Ms).padStart(8)} ${(row.failedShare * 100).toFixed(2).padStart(6)}%` +
      `   ${ratio(row.p50Ms, base.p50Ms)} / ${ratio(row.p95Ms, base.p95Ms)} / ${ratio(row.p99Ms, base.p99Ms)}` +
      (row.verdict === 'invalid' ? '  (INVALID run)' : ''),
  );
  return [header, ...lines].join('\n');
}
