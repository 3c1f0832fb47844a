/**
 * The metric store: k6's four metric kinds (trend, counter, rate, gauge), each split into
 * series by tags, each series kept as a run total plus one aggregate per second of the run
 * (for rolling-window thresholds and latency-over-time plots). Snapshots are plain JSON and
 * merge by addition, so worker threads and separate machines combine into one run.
 */
import { ErrorCode, WarrenError } from '../../lib/errors.js';
import { LatencyHistogram, addToBuckets, mergeBuckets, type BucketCounts } from './histogram.js';

/** trend: a distribution of times; counter: a running sum; rate: share of true; gauge: last value. */
export type MetricKind = 'trend' | 'counter' | 'rate' | 'gauge';

export type Tags = Readonly<Record<string, string>>;

/** One aggregate. Trends store microseconds; `buckets` only for trends. */
export interface Aggregate {
  /** Samples seen (rate: total checks; counter: number of adds). */
  count: number;
  /** Sum of values (counter: the counter's value; trend: µs). */
  sum: number;
  /** Rate: samples that were true. */
  passes: number;
  min: number;
  max: number;
  /** Gauge: the last value set. */
  last: number;
  buckets?: Map<number, number>;
}

export interface Series {
  name: string;
  kind: MetricKind;
  tags: Tags;
  total: Aggregate;
  /** Trends only: the run total as a perf_hooks histogram. */
  histogram?: LatencyHistogram;
  /** Per-second aggregates, keyed by whole seconds since the run started. */
  seconds: Map<number, Aggregate>;
}

/** JSON form of one series. */
export interface SeriesSnapshot {
  name: string;
  kind: MetricKind;
  tags: Tags;
  total: AggregateSnapshot;
  seconds: Array<[number, AggregateSnapshot]>;
}

export type AggregateSnapshot = Omit<Aggregate, 'buckets'> & { buckets?: BucketCounts };

/** JSON form of a whole store. */
export interface MetricsSnapshot {
  series: SeriesSnapshot[];
}

function emptyAggregate(kind: MetricKind): Aggregate {
  const aggregate: Aggregate = {
    count: 0,
    sum: 0,
    passes: 0,
    min: Infinity,
    max: -Infinity,
    last: 0,
  };
  if (kind === 'trend') aggregate.buckets = new Map();
  return aggregate;
}

function addSample(aggregate: Aggregate, value: number): void {
  aggregate.count += 1;
  aggregate.sum += value;
  if (value > 0) aggregate.passes += 1;
  if (value < aggregate.min) aggregate.min = value;
  if (value > aggregate.max) aggregate.max = value;
  aggregate.last = value;
  if (aggregate.buckets) addToBuckets(aggregate.buckets, value);
}

function mergeAggregate(into: Aggregate, from: Aggregate | AggregateSnapshot): void {
  into.count += from.count;
  into.sum += from.sum;
  into.passes += from.passes;
  into.min = Math.min(into.min, from.min ?? Infinity);
  into.max = Math.max(into.max, from.max ?? -Infinity);
  into.last = from.last;
  if (into.buckets && from.buckets) mergeBuckets(into.buckets, from.buckets);
}

function serialiseAggregate(aggregate: Aggregate): AggregateSnapshot {
  const { buckets, ...rest } = aggregate;
  // JSON has no Infinity: an empty aggregate's min/max travel as null and come back as ±Infinity.
  const snapshot: AggregateSnapshot = { ...rest };
  if (buckets) snapshot.buckets = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  return snapshot;
}

/** The key of a series: its name and sorted tags. */
export function seriesKey(name: string, tags: Tags): string {
  const pairs = Object.keys(tags)
    .sort()
    .map((k) => `${k}:${tags[k]}`);
  return `${name}{${pairs.join(',')}}`;
}

/** Collects samples into series. Not thread-safe by design: one store per thread, then merge. */
export class MetricsStore {
  readonly series = new Map<string, Series>();
  private readonly kinds = new Map<string, MetricKind>();
  /** Series by name and tag object, so hot paths with reused tag objects skip key building. */
  private readonly byTagObject = new Map<string, WeakMap<Tags, Series>>();

  /**
   * Adds one sample. Trends take milliseconds and keep microseconds; rates take 1/0 (or a
   * boolean); counters take the increment; gauges the new value. `second` is the run second.
   */
  add(name: string, kind: MetricKind, value: number | boolean, tags: Tags, second: number): void {
    const series = this.seriesFor(name, kind, tags);
    let numeric = typeof value === 'boolean' ? Number(value) : value;
    if (kind === 'trend') {
      numeric = Math.max(1, Math.round(numeric * 1000));
      series.histogram?.record(numeric);
    }
    addSample(series.total, numeric);
    let window = series.seconds.get(second);
    if (!window) {
      window = emptyAggregate(kind);
      series.seconds.set(second, window);
    }
    addSample(window, numeric);
  }

  private seriesFor(name: string, kind: MetricKind, tags: Tags): Series {
    const cached = this.byTagObject.get(name)?.get(tags);
    if (cached && cached.kind === kind) return cached;
    const series = this.seriesByKey(name, kind, tags);
    let perName = this.byTagObject.get(name);
    if (!perName) this.byTagObject.set(name, (perName = new WeakMap()));
    perName.set(tags, series);
    return series;
  }

  private seriesByKey(name: string, kind: MetricKind, tags: Tags): Series {
    const known = this.kinds.get(name);
    if (known && known !== kind) {
      throw new WarrenError(
        ErrorCode.BadInput,
        `metric ${name} is a ${known}; it cannot also be recorded as a ${kind}`,
      );
    }
    this.kinds.set(name, kind);
    const key = seriesKey(name, tags);
    let series = this.series.get(key);
    if (!series) {
      series = { name, kind, tags: { ...tags }, total: emptyAggregate(kind), seconds: new Map() };
      if (kind === 'trend') series.histogram = new LatencyHistogram();
      this.series.set(key, series);
    }
    return series;
  }

  /** Adds every sample of a snapshot (from a worker, a file, another machine). */
  mergeSnapshot(snapshot: MetricsSnapshot): void {
    for (const incoming of snapshot.series) {
      const series = this.seriesFor(incoming.name, incoming.kind, incoming.tags);
      const total = reviveAggregate(incoming.total);
      mergeAggregate(series.total, total);
      if (series.histogram && incoming.total.buckets) {
        series.histogram.merge(LatencyHistogram.fromJSON(incoming.total.buckets));
      }
      for (const [second, aggregate] of incoming.seconds) {
        let window = series.seconds.get(second);
        if (!window) {
          window = emptyAggregate(series.kind);
          series.seconds.set(second, window);
        }
        mergeAggregate(window, reviveAggregate(aggregate));
      }
    }
  }

  /** The JSON form of every series. */
  toJSON(): MetricsSnapshot {
    return {
      series: [...this.series.values()].map((series) => ({
        name: series.name,
        kind: series.kind,
        tags: series.tags,
        total: serialiseAggregate(series.total),
        seconds: [...series.seconds.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([second, aggregate]) => [second, serialiseAggregate(aggregate)]),
      })),
    };
  }

  /** Empties the store (a worker does this after each flush, so flushes are deltas). */
  clear(): void {
    this.series.clear();
    this.byTagObject.clear();
  }

  /** Series of `name` whose tags include every pair of `filter`. */
  select(name: string, filter: Tags = {}): Series[] {
    return [...this.series.values()].filter(
      (series) =>
        series.name === name && Object.entries(filter).every(([k, v]) => series.tags[k] === v),
    );
  }

  /** Names of all metrics with their kind. */
  metricNames(): Array<[string, MetricKind]> {
    return [...this.kinds.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  }

  /** The last second that holds a sample, or -1. */
  lastSecond(): number {
    let last = -1;
    for (const series of this.series.values()) {
      for (const second of series.seconds.keys()) last = Math.max(last, second);
    }
    return last;
  }
}

function reviveAggregate(snapshot: AggregateSnapshot): Aggregate {
  const aggregate: Aggregate = {
    count: snapshot.count,
    sum: snapshot.sum,
    passes: snapshot.passes,
    min: snapshot.min ?? Infinity,
    max: snapshot.max ?? -Infinity,
    last: snapshot.last,
  };
  if (snapshot.buckets) aggregate.buckets = new Map(snapshot.buckets);
  return aggregate;
}

/** Statistics of a set of series merged together (a tag filter may match several). */
export interface MergedStats {
  kind: MetricKind;
  total: Aggregate;
  histogram?: LatencyHistogram;
}

/** Merges the run totals of several series of one metric. */
export function mergeTotals(series: Series[]): MergedStats | undefined {
  const first = series[0];
  if (!first) return undefined;
  const total = emptyAggregate(first.kind);
  const histogram = first.kind === 'trend' ? new LatencyHistogram() : undefined;
  for (const one of series) {
    mergeAggregate(total, one.total);
    if (histogram && one.histogram) histogram.merge(one.histogram);
  }
  return histogram ? { kind: first.kind, total, histogram } : { kind: first.kind, total };
}

/** Merges the per-second aggregates of several series over seconds [from, to). */
export function mergeWindow(series: Series[], from: number, to: number): Aggregate | undefined {
  const first = series[0];
  if (!first) return undefined;
  const total = emptyAggregate(first.kind);
  for (const one of series) {
    for (let second = from; second < to; second++) {
      const window = one.seconds.get(second);
      if (window) mergeAggregate(total, window);
    }
  }
  return total;
}
