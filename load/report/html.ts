/**
 * The HTML report: one self-contained file (harness/report's htmlDocument, no network), with
 * the summary tables, latency over time (p50/p95/p99 per second with the rate as bars) and the
 * latency distribution (log-spaced bins), drawn as inline SVG when the report is written.
 */
import { escapeHtml, htmlDocument } from '../../harness/report/html.js';
import { formatMs } from '../engine/duration.js';
import { bucketPercentile, mergeBuckets } from '../engine/histogram.js';
import type { MetricsStore } from '../engine/metrics.js';
import type { Summary } from './summary.js';

/** One second of a trend. */
export interface SecondPoint {
  second: number;
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

/** Per-second percentiles of a trend (all series merged). */
export function trendOverTime(store: MetricsStore, name: string): SecondPoint[] {
  const perSecond = new Map<number, Map<number, number>>();
  for (const series of store.select(name)) {
    for (const [second, aggregate] of series.seconds) {
      const buckets = perSecond.get(second) ?? new Map<number, number>();
      if (aggregate.buckets) mergeBuckets(buckets, aggregate.buckets);
      perSecond.set(second, buckets);
    }
  }
  return [...perSecond.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([second, buckets]) => ({
      second,
      count: [...buckets.values()].reduce((a, b) => a + b, 0),
      p50Ms: bucketPercentile(buckets, 50) / 1000,
      p95Ms: bucketPercentile(buckets, 95) / 1000,
      p99Ms: bucketPercentile(buckets, 99) / 1000,
    }));
}

/** Counts of a trend's run total in log-spaced bins (microseconds). */
export function trendDistribution(
  store: MetricsStore,
  name: string,
  bins = 40,
): Array<{ fromMs: number; toMs: number; count: number }> {
  const buckets = new Map<number, number>();
  for (const series of store.select(name))
    if (series.total.buckets) mergeBuckets(buckets, series.total.buckets);
  if (buckets.size === 0) return [];
  const keys = [...buckets.keys()];
  const low = Math.log10(Math.max(1, Math.min(...keys)));
  const high = Math.log10(Math.max(...keys) + 1);
  const step = Math.max((high - low) / bins, 1e-9);
  const counts = new Array<number>(bins).fill(0);
  for (const [bucket, count] of buckets) {
    const index = Math.min(bins - 1, Math.floor((Math.log10(Math.max(1, bucket)) - low) / step));
    counts[index] = (counts[index] ?? 0) + count;
  }
  return counts.map((count, i) => ({
    fromMs: 10 ** (low + i * step) / 1000,
    toMs: 10 ** (low + (i + 1) * step) / 1000,
    count,
  }));
}

const width = 760;
const height = 260;
const pad = { left: 60, right: 50, top: 16, bottom: 34 };

function scale(value: number, max: number, size: number): number {
  return max <= 0 ? 0 : (value / max) * size;
}

/** Latency over time as SVG: percentile lines on the left axis, iterations/s as bars. */
export function latencyOverTimeSvg(points: SecondPoint[], title: string): string {
  if (points.length === 0) return '<p>no samples</p>';
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const lastSecond = Math.max(...points.map((p) => p.second)) + 1;
  const maxMs = Math.max(...points.map((p) => p.p99Ms)) * 1.1 || 1;
  const maxCount = Math.max(...points.map((p) => p.count)) || 1;
  const x = (second: number): number => pad.left + scale(second + 0.5, lastSecond, plotW);
  const y = (ms: number): number => pad.top + plotH - scale(ms, maxMs, plotH);
  const barWidth = Math.max(1, plotW / lastSecond - 1);
  const bars = points
    .map((p) => {
      const h = scale(p.count, maxCount, plotH);
      return `<rect class="rate" x="${(x(p.second) - barWidth / 2).toFixed(1)}" y="${(pad.top + plotH - h).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}"><title>${p.second}s: ${p.count} samples</title></rect>`;
    })
    .join('');
  const line = (key: 'p50Ms' | 'p95Ms' | 'p99Ms', cls: string): string =>
    `<polyline class="${cls}" fill="none" points="${points.map((p) => `${x(p.second).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ')}"><title>${key.slice(0, 3)}</title></polyline>`;
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (f) =>
        `<text class="axis" x="${pad.left - 6}" y="${y(maxMs * f) + 4}" text-anchor="end">${formatMs(maxMs * f)}</text>`,
    )
    .join('');
  return `<svg role="img" aria-label="${escapeHtml(title)}" class="plot latency-over-time" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">
<rect class="frame" x="${pad.left}" y="${pad.top}" width="${plotW}" height="${plotH}"/>${bars}${line('p50Ms', 'p50')}${line('p95Ms', 'p95')}${line('p99Ms', 'p99')}${ticks}
<text class="axis" x="${pad.left}" y="${height - 8}">0s</text><text class="axis" x="${width - pad.right}" y="${height - 8}" text-anchor="end">${lastSecond}s</text>
<text class="axis" x="${width - pad.right + 4}" y="${pad.top + 10}">${maxCount}/s</text>
</svg>`;
}

/** Latency distribution as SVG bars over log-spaced bins. */
export function distributionSvg(bins: ReturnType<typeof trendDistribution>, title: string): string {
  if (bins.length === 0) return '<p>no samples</p>';
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const maxCount = Math.max(...bins.map((b) => b.count)) || 1;
  const barWidth = plotW / bins.length;
  const bars = bins
    .map((bin, i) => {
      const h = scale(bin.count, maxCount, plotH);
      return `<rect class="bin" x="${(pad.left + i * barWidth).toFixed(1)}" y="${(pad.top + plotH - h).toFixed(1)}" width="${Math.max(1, barWidth - 1).toFixed(1)}" height="${h.toFixed(1)}"><title>${formatMs(bin.fromMs)}–${formatMs(bin.toMs)}: ${bin.count}</title></rect>`;
    })
    .join('');
  const first = bins[0];
  const last = bins[bins.length - 1];
  return `<svg role="img" aria-label="${escapeHtml(title)}" class="plot distribution" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">
<rect class="frame" x="${pad.left}" y="${pad.top}" width="${plotW}" height="${plotH}"/>${bars}
<text class="axis" x="${pad.left}" y="${height - 8}">${formatMs(first?.fromMs ?? 0)}</text><text class="axis" x="${width - pad.right}" y="${height - 8}" text-anchor="end">${formatMs(last?.toMs ?? 0)} (log scale)</text>
<text class="axis" x="${pad.left - 6}" y="${pad.top + 10}" text-anchor="end">${maxCount}</text>
</svg>`;
}

const style = `body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
.ok{color:#16794a}.bad{color:#b3261e}.verdict{font-size:18px;font-weight:600}
.frame{fill:#fafafa;stroke:#bbb}.rate{fill:#dfe7f3}.bin{fill:#7a9cc6}.axis{font-size:11px;fill:#555}
.p50{stroke:#2e7d32;stroke-width:1.5}.p95{stroke:#ef6c00;stroke-width:1.5}.p99{stroke:#b3261e;stroke-width:1.5}
.legend span{margin-right:14px}.legend .p50{color:#2e7d32}.legend .p95{color:#ef6c00}
.legend .p99{color:#b3261e}.legend .bars{color:#9fb3d1}`;

/** The inline script: fills the threshold count from the embedded data and marks the page ready. */
const script = `const data = JSON.parse(document.getElementById('report-data').textContent);
const failed = data.thresholds.filter((t) => !t.ok).length;
document.getElementById('threshold-count').textContent = failed + ' of ' + data.thresholds.length + ' failed';
document.body.dataset.ready = 'true';`;

function metricsTable(summary: Summary): string {
  const rows = Object.entries(summary.metrics)
    .filter(([name]) => name !== 'checks')
    .map(([name, metric]) => {
      const figures = Object.entries(metric.values)
        .map(
          ([k, v]) =>
            `${k}=${metric.kind === 'trend' && k !== 'count' ? formatMs(v) : Number.isInteger(v) ? v : v.toFixed(3)}`,
        )
        .join(' ');
      return `<tr><td>${escapeHtml(name)}</td><td>${metric.kind}</td><td>${escapeHtml(figures)}</td></tr>`;
    })
    .join('');
  return `<table><tr><th>metric</th><th>kind</th><th>figures</th></tr>${rows}</table>`;
}

function thresholdTable(summary: Summary): string {
  const rows = summary.thresholds
    .map(
      (t) =>
        `<tr class="${t.ok ? 'ok' : 'bad'}"><td>${t.ok ? '✓' : '✗'} ${escapeHtml(t.metric)}</td><td>${escapeHtml(t.condition)}</td><td>${t.observed === undefined ? escapeHtml(t.note ?? '') : t.observed.toFixed(3)}</td></tr>`,
    )
    .join('');
  return `<table id="thresholds"><tr><th>metric</th><th>condition</th><th>observed</th></tr>${rows}</table>`;
}

function serverSideTable(summary: Summary): string {
  const view = summary.serverSide;
  if (!view) return '';
  const rows = Object.entries(view.latencyMs)
    .map(
      ([path, l]) =>
        `<tr><td>${escapeHtml(path)}</td><td>${formatMs(l['p(50)'])}</td><td>${formatMs(l['p(95)'])}</td><td>${formatMs(l['p(99)'])}</td><td>${l.count}</td></tr>`,
    )
    .join('');
  const ratio =
    view.cacheHitRatio === undefined ? '-' : `${(view.cacheHitRatio * 100).toFixed(1)} %`;
  const calls = view.callsPerConnection === undefined ? '-' : view.callsPerConnection.toFixed(2);
  return `<h2>Server side (backend /metrics)</h2><table id="server-side"><tr><th>path</th><th>p(50)</th><th>p(95)</th><th>p(99)</th><th>decisions</th></tr>${rows}</table><p>cache hit ratio ${ratio}, calls per connection ${calls}</p>`;
}

/** The complete report page. */
export function renderHtmlReport(summary: Summary, store: MetricsStore): string {
  const trend =
    store.select('http_req_duration').length > 0 ? 'http_req_duration' : 'iteration_duration';
  const g = summary.generator;
  const body = `<h1>Warren load run: ${escapeHtml(summary.scenario.name)}</h1>
<p class="verdict ${summary.verdict === 'passed' ? 'ok' : 'bad'}" id="verdict">${summary.verdict.toUpperCase()} (exit ${summary.exitCode})</p>
<p>${escapeHtml(summary.scenario.executor)} against ${escapeHtml(summary.scenario.target)}, started ${escapeHtml(summary.startedAt)}, ${(summary.durationMs / 1000).toFixed(1)} s${summary.aborted ? `, aborted: ${escapeHtml(summary.aborted)}` : ''}</p>
<h2>Thresholds <small id="threshold-count"></small></h2>${thresholdTable(summary)}
<h2>${escapeHtml(trend)} over time</h2><p class="legend"><span class="p50">— p50</span><span class="p95">— p95</span><span class="p99">— p99</span><span class="bars">▮ ${escapeHtml(trend)} samples/s</span></p>
${latencyOverTimeSvg(trendOverTime(store, trend), `${trend} over time`)}
<h2>${escapeHtml(trend)} distribution</h2>${distributionSvg(trendDistribution(store, trend), `${trend} distribution`)}
<h2>Checks</h2><table><tr><th>check</th><th>passes</th><th>fails</th></tr>${summary.checks.map((c) => `<tr class="${c.fails ? 'bad' : 'ok'}"><td>${escapeHtml(c.name)}</td><td>${c.passes}</td><td>${c.fails}</td></tr>`).join('')}</table>
<h2>Metrics</h2>${metricsTable(summary)}
${serverSideTable(summary)}
<h2>Generator self-check: ${g.valid ? 'kept up' : 'INVALID'}</h2>
<ul>${g.findings.map((f) => `<li class="bad">${escapeHtml(f.check)}: ${f.observed.toFixed(3)} &gt; ${f.limit} — ${escapeHtml(f.message)}</li>`).join('') || '<li class="ok">no findings</li>'}</ul>`;
  return htmlDocument({
    title: `Warren load: ${summary.scenario.name}`,
    style,
    body,
    data: { thresholds: summary.thresholds, verdict: summary.verdict },
    script,
  });
}
