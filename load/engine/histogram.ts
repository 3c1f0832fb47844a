/**
 * Latency histograms: node:perf_hooks' HDR histogram (3 significant digits) for statistics,
 * plus a sparse map of bucket counts that is its wire form. The map uses HDR's own bucket
 * boundaries, so replaying it into a fresh perf_hooks histogram reproduces every statistic
 * exactly: serialise, send to another thread or machine, merge, and nothing is lost.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Values below this are their own bucket; above, each power of two holds 1024 buckets. */
const exactBelow = 2048;

/** The lowest value of the HDR bucket (3 significant digits) that holds `value`. */
export function bucketOf(value: number): number {
  if (value < exactBelow) return value;
  const shift = Math.floor(Math.log2(value)) - 10;
  const width = 2 ** shift;
  return Math.floor(value / width) * width;
}

/** The highest value that falls in the same bucket as `value` (what HDR percentiles report). */
export function highestEquivalent(value: number): number {
  if (value < exactBelow) return value;
  const shift = Math.floor(Math.log2(value)) - 10;
  return bucketOf(value) + 2 ** shift - 1;
}

/** Serialised histogram: `[bucket, count]` pairs, integers, values in the recorded unit. */
export type BucketCounts = Array<[number, number]>;

/** Adds one value (an integer ≥ 1) `count` times to a sparse bucket map. */
export function addToBuckets(map: Map<number, number>, value: number, count = 1): void {
  const bucket = bucketOf(value);
  map.set(bucket, (map.get(bucket) ?? 0) + count);
}

/** Merges `from` into `into` (both sparse bucket maps). */
export function mergeBuckets(into: Map<number, number>, from: Iterable<[number, number]>): void {
  for (const [bucket, count] of from) into.set(bucket, (into.get(bucket) ?? 0) + count);
}

/**
 * The value at percentile `p` (0–100) of a sparse bucket map, computed as HDR does: the
 * highest equivalent value of the first bucket whose cumulative count reaches p % of the total.
 * Used for time windows, where a full perf_hooks histogram per second would cost too much memory.
 */
export function bucketPercentile(map: Map<number, number>, p: number): number {
  const total = [...map.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const wanted = Math.max(1, Math.floor((Math.min(p, 100) / 100) * total + 0.5));
  let seen = 0;
  const buckets = [...map.keys()].sort((a, b) => a - b);
  for (const bucket of buckets) {
    seen += map.get(bucket) ?? 0;
    if (seen >= wanted) return highestEquivalent(bucket);
  }
  return highestEquivalent(buckets[buckets.length - 1] ?? 0);
}

/** A latency histogram in whole microseconds (perf_hooks needs integers ≥ 1). */
export class LatencyHistogram {
  readonly hdr: RecordableHistogram = createHistogram();
  readonly buckets = new Map<number, number>();

  /** Records one value in microseconds; fractions are rounded, values below 1 become 1. */
  record(valueUs: number): void {
    const value = Math.max(1, Math.round(valueUs));
    this.hdr.record(value);
    addToBuckets(this.buckets, value);
  }

  get count(): number {
    return this.hdr.count;
  }

  /** Adds every value of `other` to this histogram (perf_hooks `add`, plus the wire map). */
  merge(other: LatencyHistogram): void {
    this.hdr.add(other.hdr);
    mergeBuckets(this.buckets, other.buckets);
  }

  /** The wire form: sorted `[bucket, count]` pairs. */
  toJSON(): BucketCounts {
    return [...this.buckets.entries()].sort((a, b) => a[0] - b[0]);
  }

  /** Rebuilds a histogram from its wire form by replaying each bucket's lowest value. */
  static fromJSON(counts: BucketCounts): LatencyHistogram {
    const histogram = new LatencyHistogram();
    for (const [bucket, count] of counts) {
      for (let i = 0; i < count; i++) histogram.hdr.record(bucket);
      histogram.buckets.set(bucket, (histogram.buckets.get(bucket) ?? 0) + count);
    }
    return histogram;
  }
}
