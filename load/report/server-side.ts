/**
 * The auth service's side of a storm: its Prometheus endpoint scraped before and after the
 * run, the difference turned into decision-latency percentiles per path (interpolated within
 * histogram buckets, as Prometheus' histogram_quantile does), the cache hit ratio and the
 * number of calls per connection (decisions per user-path decision). Metric names are the
 * reference service's (`reference_auth_*`); any backend exporting the same names works.
 */

/** One parsed sample: name, labels, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (enough of it: no timestamps, no exemplars). */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match?.[1] || match[4] === undefined) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      if (pair[1]) labels[pair[1]] = (pair[2] ?? '').replace(/\\(.)/g, '$1');
    }
    samples.push({ name: match[1], labels, value: Number(match[4]) });
  }
  return samples;
}

/** What the scrape shows about the run. */
export interface ServerSideView {
  /** Decisions answered during the run, per path and verdict (`user:allow`). */
  decisions: Record<string, number>;
  /** Server-side decision time per path, ms (bucket-interpolated). */
  latencyMs: Record<string, { 'p(50)': number; 'p(95)': number; 'p(99)': number; count: number }>;
  /** Decision cache hits / lookups during the run; undefined without lookups. */
  cacheHitRatio?: number;
  /** All decisions / user-path decisions: the backend calls each connection cost. */
  callsPerConnection?: number;
}

const prefix = 'reference_auth_';

function delta(before: Sample[], after: Sample[], name: string): Sample[] {
  const key = (s: Sample): string => JSON.stringify(s.labels);
  const earlier = new Map(before.filter((s) => s.name === name).map((s) => [key(s), s.value]));
  return after
    .filter((s) => s.name === name)
    .map((s) => ({ ...s, value: s.value - (earlier.get(key(s)) ?? 0) }));
}

/** Quantile from cumulative `le` buckets, interpolating linearly within a bucket. */
export function bucketQuantile(buckets: Array<{ le: number; count: number }>, q: number): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted[sorted.length - 1]?.count ?? 0;
  if (total === 0) return 0;
  const rank = q * total;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      // Past the last finite bucket there is no upper bound: report the bound below.
      if (!Number.isFinite(bucket.le)) return lowerLe;
      const inBucket = bucket.count - lowerCount;
      return lowerLe + (bucket.le - lowerLe) * (inBucket > 0 ? (rank - lowerCount) / inBucket : 0);
    }
    lowerLe = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerLe;
}

/** Compares two scrapes taken around a run. */
export function serverSideView(beforeText: string, afterText: string): ServerSideView {
  const before = parsePrometheus(beforeText);
  const after = parsePrometheus(afterText);
  const view: ServerSideView = { decisions: {}, latencyMs: {} };
  let all = 0;
  let logins = 0;
  for (const s of delta(before, after, `${prefix}decisions_total`)) {
    const key = `${s.labels['path']}:${s.labels['verdict']}`;
    view.decisions[key] = (view.decisions[key] ?? 0) + s.value;
    all += s.value;
    if (s.labels['path'] === 'user') logins += s.value;
  }
  if (logins > 0) view.callsPerConnection = all / logins;
  const byPath = new Map<string, Array<{ le: number; count: number }>>();
  for (const s of delta(before, after, `${prefix}decision_duration_seconds_bucket`)) {
    const path = s.labels['path'] ?? '';
    const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
    byPath.set(path, [...(byPath.get(path) ?? []), { le, count: s.value }]);
  }
  for (const [path, buckets] of byPath) {
    const count = buckets.find((b) => !Number.isFinite(b.le))?.count ?? 0;
    if (count === 0) continue;
    const ms = (q: number): number => Math.round(bucketQuantile(buckets, q) * 1e6) / 1000;
    view.latencyMs[path] = { 'p(50)': ms(0.5), 'p(95)': ms(0.95), 'p(99)': ms(0.99), count };
  }
  const lookups = delta(before, after, `${prefix}decision_cache_lookups_total`);
  const hits = lookups.filter((s) => s.labels['result'] === 'hit').reduce((a, s) => a + s.value, 0);
  const total = lookups.reduce((a, s) => a + s.value, 0);
  if (total > 0) view.cacheHitRatio = hits / total;
  return view;
}

/** Fetches a metrics page; undefined when there is none (the view is then left out). */
export async function scrape(url: string, timeoutMs = 2000): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}
