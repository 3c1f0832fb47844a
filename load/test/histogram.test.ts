import { createHistogram } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';

import {
  bucketOf,
  bucketPercentile,
  highestEquivalent,
  LatencyHistogram,
} from '../engine/histogram.js';
import { MetricsStore, mergeTotals } from '../engine/metrics.js';

/** A deterministic spread of latencies from 1 µs to about 30 s (xorshift). */
function latencies(count: number, seed: number): number[] {
  let state = seed;
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const unit = (state >>> 0) / 2 ** 32;
    values.push(Math.max(1, Math.round(Math.exp(unit * Math.log(3e7)))));
  }
  return values;
}

const stats = (h: LatencyHistogram) => ({
  count: h.count,
  min: h.hdr.min,
  max: h.hdr.max,
  mean: h.hdr.mean,
  p50: h.hdr.percentile(50),
  p90: h.hdr.percentile(90),
  p99: h.hdr.percentile(99),
  p999: h.hdr.percentile(99.9),
});

describe('latency histograms', () => {
  const a = latencies(20_000, 7);
  const b = latencies(5_000, 99);

  it('merged histograms equal one histogram of all values', () => {
    const left = new LatencyHistogram();
    const right = new LatencyHistogram();
    const whole = new LatencyHistogram();
    a.forEach((v) => left.record(v));
    b.forEach((v) => right.record(v));
    [...a, ...b].forEach((v) => whole.record(v));
    left.merge(right);
    expect(stats(left)).toEqual(stats(whole));
    expect(left.toJSON()).toEqual(whole.toJSON());
  });

  it('survives JSON and keeps every statistic of the original', () => {
    const original = new LatencyHistogram();
    a.forEach((v) => original.record(v));
    const copy = LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(original.toJSON())));
    expect(stats(copy)).toEqual(stats(original));
  });

  it('uses the bucket boundaries of perf_hooks (3 significant digits)', () => {
    for (const value of [1, 2047, 2048, 2049, 4095, 4097, 123_456, 29_999_999]) {
      const native = createHistogram();
      native.record(value);
      expect(highestEquivalent(value)).toBe(native.max);
      expect(bucketOf(value)).toBeLessThanOrEqual(value);
    }
  });

  it('computes window percentiles from bucket counts exactly as perf_hooks does', () => {
    const histogram = new LatencyHistogram();
    a.forEach((v) => histogram.record(v));
    for (const p of [1, 25, 50, 90, 95, 99, 99.9, 100]) {
      expect(bucketPercentile(histogram.buckets, p)).toBe(histogram.hdr.percentile(p));
    }
  });
});

describe('metric store snapshots', () => {
  it('merge by addition: two workers equal one store that saw everything', () => {
    const worker1 = new MetricsStore();
    const worker2 = new MetricsStore();
    const single = new MetricsStore();
    latencies(3000, 3).forEach((us, i) => {
      const store = i % 2 === 0 ? worker1 : worker2;
      const tags = { endpoint: i % 3 === 0 ? 'user' : 'topic' };
      for (const target of [store, single]) {
        target.add('http_req_duration', 'trend', us / 1000, tags, i % 5);
        target.add('http_req_failed', 'rate', i % 97 === 0, tags, i % 5);
        target.add('http_reqs', 'counter', 1, tags, i % 5);
      }
    });
    const merged = new MetricsStore();
    merged.mergeSnapshot(JSON.parse(JSON.stringify(worker1.toJSON())));
    merged.mergeSnapshot(JSON.parse(JSON.stringify(worker2.toJSON())));
    for (const name of ['http_req_duration', 'http_req_failed', 'http_reqs']) {
      const want = mergeTotals(single.select(name));
      const got = mergeTotals(merged.select(name));
      expect(got?.total).toEqual(want?.total);
      if (want?.histogram) expect(stats(got!.histogram!)).toEqual(stats(want.histogram));
    }
    // Per-second aggregates too, in any series order; `last` only means something for gauges.
    const canonical = (store: MetricsStore) =>
      JSON.parse(
        JSON.stringify(
          store
            .toJSON()
            .series.sort(
              (x, y) =>
                JSON.stringify(x.tags).localeCompare(JSON.stringify(y.tags)) ||
                x.name.localeCompare(y.name),
            ),
          (key, value: unknown) => (key === 'last' ? undefined : value),
        ),
      ) as unknown;
    expect(canonical(merged)).toEqual(canonical(single));
  });

  it('refuses to record one metric name as two kinds', () => {
    const store = new MetricsStore();
    store.add('latency', 'trend', 1, {}, 0);
    expect(() => store.add('latency', 'counter', 1, {}, 0)).toThrow(/is a trend/);
  });
});
