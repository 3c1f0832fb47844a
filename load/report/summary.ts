/**
 * The end-of-run summary, k6-style: per metric min/med/avg/p(90)/p(95)/p(99)/max (trends,
 * in ms), counts and rates, ✓/✗ per threshold, checks apart, the generator's self-check and
 * one verdict with its exit code. The same figures go to summary.json (percentile keys `p(95)`).
 */
import { formatMs } from '../engine/duration.js';
import { mergeTotals, type MetricKind, type MetricsStore, type Series } from '../engine/metrics.js';
import { evaluateThresholds, type RunResult } from '../engine/run.js';
import { selfCheck, type SelfCheckReport } from '../engine/selfcheck.js';
import type { ThresholdResult } from '../engine/thresholds.js';
import type { ServerSideView } from './server-side.js';

/** 0: thresholds held; 99: a threshold failed (k6's code); 2: the run is invalid. */
export type ExitCode = 0 | 2 | 99;

export type Verdict = 'passed' | 'failed' | 'invalid';

/** Figures of one metric (or one tagged part of it); trend times in ms. */
export type MetricValues = Record<string, number>;

export interface MetricSummary {
  kind: MetricKind;
  values: MetricValues;
  /** Per tag value, for the tags that split a metric meaningfully (endpoint, phase, ...). */
  byTag?: Record<string, MetricValues>;
}

export interface CheckSummary {
  name: string;
  passes: number;
  fails: number;
}

export interface Summary {
  scenario: { name: string; description: string; executor: string; target: string };
  startedAt: string;
  durationMs: number;
  sources: number;
  verdict: Verdict;
  exitCode: ExitCode;
  aborted?: string;
  metrics: Record<string, MetricSummary>;
  thresholds: ThresholdResult[];
  checks: CheckSummary[];
  generator: SelfCheckReport & { workers: number; cores: number };
  /** The backend's own figures, from its /metrics before and after the run. */
  serverSide?: ServerSideView;
}

/** Tags by which metrics are broken down in the summary. */
const breakdownTags = ['endpoint', 'phase', 'credential'];

/** Percentiles reported for trends. */
const percentiles = [90, 95, 99];

/** Figures of merged series. */
export function metricValues(series: Series[], durationSeconds: number): MetricValues {
  const merged = mergeTotals(series);
  if (!merged) return {};
  const { total, histogram } = merged;
  switch (merged.kind) {
    case 'trend': {
      if (!histogram || total.count === 0) return { count: 0 };
      const ms = (us: number): number => Math.round(us) / 1000;
      const values: MetricValues = {
        min: ms(total.min),
        med: ms(histogram.hdr.percentile(50)),
        avg: ms(total.sum / total.count),
      };
      for (const p of percentiles) values[`p(${p})`] = ms(histogram.hdr.percentile(p));
      values['max'] = ms(total.max);
      values['count'] = total.count;
      return values;
    }
    case 'counter':
      return { count: total.sum, rate: total.sum / Math.max(durationSeconds, 1e-9) };
    case 'rate':
      return {
        rate: total.count ? total.passes / total.count : 0,
        passes: total.passes,
        fails: total.count - total.passes,
      };
    case 'gauge':
      return { value: total.last, min: total.min, max: total.max };
  }
}

function summariseMetric(
  store: MetricsStore,
  name: string,
  durationSeconds: number,
): MetricSummary {
  const series = store.select(name);
  const summary: MetricSummary = {
    kind: series[0]?.kind ?? 'counter',
    values: metricValues(series, durationSeconds),
  };
  const byTag: Record<string, MetricValues> = {};
  for (const tag of breakdownTags) {
    const values = new Set(series.flatMap((s) => (s.tags[tag] ? [s.tags[tag]] : [])));
    // One value only would repeat the total.
    if (values.size < 2) continue;
    for (const value of [...values].sort()) {
      byTag[`${tag}:${value}`] = metricValues(
        store.select(name, { [tag]: value }),
        durationSeconds,
      );
    }
  }
  if (Object.keys(byTag).length > 0) summary.byTag = byTag;
  return summary;
}

function summariseChecks(store: MetricsStore): CheckSummary[] {
  const byName = new Map<string, CheckSummary>();
  for (const series of store.select('checks')) {
    const name = series.tags['check'] ?? '(unnamed)';
    const entry = byName.get(name) ?? { name, passes: 0, fails: 0 };
    entry.passes += series.total.passes;
    entry.fails += series.total.count - series.total.passes;
    byName.set(name, entry);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Judges a result: thresholds, checks, self-check, verdict and exit code. */
export function summarise(result: RunResult, store: MetricsStore): Summary {
  const durationSeconds = result.durationMs / 1000;
  const thresholds = evaluateThresholds(result, store);
  const generator = selfCheck(result, store);
  const verdict: Verdict = !generator.valid
    ? 'invalid'
    : thresholds.every((t) => t.ok)
      ? 'passed'
      : 'failed';
  const metrics: Record<string, MetricSummary> = {};
  for (const [name] of store.metricNames()) {
    metrics[name] = summariseMetric(store, name, durationSeconds);
  }
  const summary: Summary = {
    scenario: {
      name: result.scenario.name,
      description: result.scenario.description,
      executor: result.scenario.executor.executor,
      target: describeTarget(result),
    },
    startedAt: result.startedAt,
    durationMs: result.durationMs,
    sources: result.sources,
    verdict,
    exitCode: verdict === 'invalid' ? 2 : verdict === 'failed' ? 99 : 0,
    metrics,
    thresholds,
    checks: summariseChecks(store),
    generator: { ...generator, workers: result.generator.workers, cores: result.generator.cores },
  };
  if (result.aborted) summary.aborted = result.aborted.reason;
  return summary;
}

function describeTarget(result: RunResult): string {
  const target = result.scenario.target;
  if (target.kind === 'auth-http') {
    return `auth-http ${target.url} (${target.method}, ${target.mechanism})`;
  }
  if (target.kind === 'amqp-connect') return `amqp-connect ${target.url} (${target.mechanism})`;
  return `${target.kind} ${target.url}`;
}

function formatValue(key: string, value: number, kind: MetricKind): string {
  if (kind === 'trend' && key !== 'count') return formatMs(value);
  if (key === 'rate' && kind === 'rate') return `${(value * 100).toFixed(2)}%`;
  if (key === 'rate') return `${value.toFixed(1)}/s`;
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

function metricLine(label: string, summary: { kind: MetricKind; values: MetricValues }): string {
  const figures = Object.entries(summary.values)
    .map(([key, value]) => `${key}=${formatValue(key, value, summary.kind)}`)
    .join(' ');
  return `  ${label.padEnd(40, '.')}: ${figures}`;
}

/** The k6-like text summary printed at the end of a run. */
export function formatSummary(summary: Summary): string {
  const lines: string[] = [];
  lines.push(
    `  scenario: ${summary.scenario.name} — ${summary.scenario.executor}, ${summary.scenario.target}`,
  );
  lines.push(`  duration: ${(summary.durationMs / 1000).toFixed(1)}s  sources: ${summary.sources}`);
  if (summary.aborted) lines.push(`  aborted: ${summary.aborted}`);
  lines.push('');
  if (summary.thresholds.length > 0) {
    lines.push('  THRESHOLDS');
    for (const t of summary.thresholds) {
      const observed =
        t.observed === undefined ? (t.note ?? 'no value') : String(round(t.observed));
      const where =
        t.worstWindowStartSecond === undefined
          ? ''
          : ` (worst window from ${t.worstWindowStartSecond}s)`;
      lines.push(`  ${t.ok ? '✓' : '✗'} ${t.metric}: ${t.condition}  observed ${observed}${where}`);
    }
    lines.push('');
  }
  if (summary.checks.length > 0) {
    lines.push('  CHECKS');
    for (const c of summary.checks) {
      const total = c.passes + c.fails;
      const share = total ? ((c.passes / total) * 100).toFixed(2) : '0.00';
      lines.push(
        `  ${c.fails === 0 ? '✓' : '✗'} ${c.name}  ${share}% (${c.passes} ✓ / ${c.fails} ✗)`,
      );
    }
    lines.push('');
  }
  lines.push('  METRICS');
  for (const [name, metric] of Object.entries(summary.metrics)) {
    if (name === 'checks') continue;
    lines.push(metricLine(name, metric));
    for (const [tag, values] of Object.entries(metric.byTag ?? {})) {
      lines.push(metricLine(`  { ${tag} }`, { kind: metric.kind, values }));
    }
  }
  lines.push('');
  if (summary.serverSide) lines.push(...formatServerSide(summary.serverSide), '');
  lines.push(...formatGenerator(summary));
  lines.push('');
  lines.push(`  RESULT: ${summary.verdict.toUpperCase()} (exit ${summary.exitCode})`);
  return lines.join('\n');
}

function formatGenerator(summary: Summary): string[] {
  const g = summary.generator;
  const f = g.figures;
  const lines = [
    `  GENERATOR ${g.valid ? '✓ kept up' : '✗ was the bottleneck: run INVALID'}`,
    `    workers=${g.workers} cores=${g.cores} cpu=${(f.cpuShare * 100).toFixed(0)}%` +
      ` loop-lag p95=${formatMs(f.eventLoopLagP95Ms)} start-lag p95=${formatMs(f.startLagP95Ms)}` +
      ` dropped=${f.droppedIterations}/${f.scheduledIterations} socket-errors=${f.socketErrors}`,
  ];
  for (const finding of g.findings) {
    lines.push(
      `    ✗ ${finding.check}: ${round(finding.observed)} > ${finding.limit} — ${finding.message}`,
    );
  }
  return lines;
}

function formatServerSide(view: ServerSideView): string[] {
  const lines = ['  SERVER SIDE (backend /metrics, after − before)'];
  for (const [path, l] of Object.entries(view.latencyMs)) {
    lines.push(
      `    decision ${path.padEnd(9)} p(50)=${formatMs(l['p(50)'])} p(95)=${formatMs(l['p(95)'])}` +
        ` p(99)=${formatMs(l['p(99)'])} count=${l.count}`,
    );
  }
  const decisions = Object.entries(view.decisions)
    .map(([key, count]) => `${key}=${count}`)
    .join(' ');
  lines.push(`    decisions ${decisions}`);
  const ratio =
    view.cacheHitRatio === undefined ? '-' : `${(view.cacheHitRatio * 100).toFixed(1)}%`;
  const calls = view.callsPerConnection === undefined ? '-' : view.callsPerConnection.toFixed(2);
  lines.push(`    cache hit ratio ${ratio}  calls per connection ${calls}`);
  return lines;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
