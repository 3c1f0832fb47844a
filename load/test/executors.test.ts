import { describe, expect, it } from 'vitest';

import { VirtualClock } from '../engine/clock.js';
import {
  arrivalOffsets,
  runExecutor,
  type ConstantArrivalRate,
  type ExecutorConfig,
} from '../engine/executors.js';
import { LatencyHistogram } from '../engine/histogram.js';

describe('arrival schedules', () => {
  it('spaces a constant rate evenly from time zero', () => {
    const offsets = [
      ...arrivalOffsets({
        executor: 'constant-arrival-rate',
        rate: 100,
        durationMs: 1000,
        maxVUs: 1,
      }),
    ];
    expect(offsets).toHaveLength(100);
    expect(offsets[0]).toBe(0);
    expect(offsets[1]).toBeCloseTo(10, 9);
    expect(offsets[99]).toBeCloseTo(990, 9);
  });

  it('honours timeUnit (rate per minute)', () => {
    const offsets = [
      ...arrivalOffsets({
        executor: 'constant-arrival-rate',
        rate: 30,
        timeUnitMs: 60_000,
        durationMs: 60_000,
        maxVUs: 1,
      }),
    ];
    expect(offsets).toHaveLength(30);
    expect(offsets[1]).toBeCloseTo(2000, 6);
  });

  it('ramps so that the iterations equal the area under the rate curve', () => {
    // 0 → 100/s over 2 s (100 iterations), hold 100/s for 1 s (100), 100 → 0 over 1 s (50).
    const offsets = [
      ...arrivalOffsets({
        executor: 'ramping-arrival-rate',
        startRate: 0,
        stages: [
          { target: 100, durationMs: 2000 },
          { target: 100, durationMs: 1000 },
          { target: 0, durationMs: 1000 },
        ],
        maxVUs: 1,
      }),
    ];
    expect(offsets.length).toBeGreaterThanOrEqual(249);
    expect(offsets.length).toBeLessThanOrEqual(251);
    expect(offsets.filter((t) => t < 1000)).toHaveLength(25);
    expect(offsets.filter((t) => t >= 2000 && t < 3000)).toHaveLength(100);
    offsets.slice(1).forEach((t, i) => expect(t).toBeGreaterThan(offsets[i]!));
  });

  it('splits one schedule between workers without losing or repeating an iteration', () => {
    const config: ConstantArrivalRate = {
      executor: 'constant-arrival-rate',
      rate: 333,
      durationMs: 3000,
      maxVUs: 10,
    };
    const whole = [...arrivalOffsets(config)];
    const shares = [0, 1, 2].flatMap((index) => [...arrivalOffsets(config, { index, of: 3 })]);
    expect(shares.sort((x, y) => x - y)).toEqual(whole);
  });
});

interface Observed {
  starts: number[];
  dropped: number[];
  latencies: LatencyHistogram;
  maxInFlight: number;
}

/** Runs an executor on a virtual clock; `serviceMs(startMs)` says when the target answers. */
async function simulate(
  config: ExecutorConfig,
  answerAtMs: (clock: VirtualClock) => number,
): Promise<Observed> {
  const clock = new VirtualClock();
  const observed: Observed = {
    starts: [],
    dropped: [],
    latencies: new LatencyHistogram(),
    maxInFlight: 0,
  };
  let inFlight = 0;
  await clock.run(
    runExecutor(config, {
      clock,
      startMs: 0,
      iterate: async () => {
        inFlight++;
        observed.maxInFlight = Math.max(observed.maxInFlight, inFlight);
        await clock.sleepUntil(answerAtMs(clock));
        inFlight--;
      },
      events: {
        started: (intendedMs) => observed.starts.push(intendedMs),
        dropped: (intendedMs) => observed.dropped.push(intendedMs),
        ended: (_intendedMs, durationMs) => observed.latencies.record(durationMs * 1000),
      },
    }),
  );
  return observed;
}

describe('the open-model scheduler (virtual clock)', () => {
  it('starts every iteration at its intended time while VUs are free', async () => {
    const observed = await simulate(
      { executor: 'constant-arrival-rate', rate: 50, durationMs: 10_000, maxVUs: 5 },
      (clock) => clock.now() + 30,
    );
    expect(observed.starts).toHaveLength(500);
    expect(observed.dropped).toHaveLength(0);
    expect(observed.latencies.hdr.max).toBe(30_015); // 30 ms, highest equivalent at 3 digits
    expect(observed.maxInFlight).toBe(2);
  });

  it('drops, and counts, iterations due while every VU is busy', async () => {
    // Every 10 ms an iteration is due; each takes 100 ms; 2 VUs: 2 start, 8 drop, per 100 ms.
    const observed = await simulate(
      { executor: 'constant-arrival-rate', rate: 100, durationMs: 1000, maxVUs: 2 },
      (clock) => clock.now() + 100,
    );
    expect(observed.starts).toHaveLength(20);
    expect(observed.dropped).toHaveLength(80);
    expect(observed.dropped[0]).toBeCloseTo(20, 6);
    expect(observed.starts.slice(0, 4).map(Math.round)).toEqual([0, 10, 100, 110]);
  });

  it('shows a stall in latencies measured from the intended start (no coordinated omission)', async () => {
    // The target answers in 1 ms, except that nothing is answered between 500 ms and 1500 ms.
    const answer = (clock: VirtualClock): number => {
      const now = clock.now();
      return now >= 500 && now < 1500 ? 1501 : now + 1;
    };
    const open = await simulate(
      { executor: 'constant-arrival-rate', rate: 100, durationMs: 3000, maxVUs: 1000 },
      answer,
    );
    const closed = await simulate({ executor: 'constant-vus', vus: 1, durationMs: 3000 }, answer);

    // Open model: the 100 iterations due during the stall each waited for its end.
    expect(open.starts).toHaveLength(300);
    expect(open.latencies.hdr.percentile(90)).toBeGreaterThan(500_000);
    expect(open.latencies.hdr.max).toBeGreaterThan(990_000);
    // Closed model (one VU): the stall is one slow sample among many fast ones.
    expect(closed.latencies.hdr.percentile(99)).toBeLessThan(2_000);
    expect(closed.latencies.hdr.max).toBeGreaterThan(990_000);
  });

  it('ends a constant-vus run at its duration, each VU looping', async () => {
    const observed = await simulate(
      { executor: 'constant-vus', vus: 3, durationMs: 1000 },
      (clock) => clock.now() + 100,
    );
    expect(observed.starts).toHaveLength(30);
    expect(observed.maxInFlight).toBe(3);
  });

  it('interrupts iterations still running when the graceful stop runs out', async () => {
    const clock = new VirtualClock();
    let interrupted = 0;
    let ended = 0;
    await clock.run(
      runExecutor(
        { executor: 'constant-arrival-rate', rate: 10, durationMs: 1000, maxVUs: 100 },
        {
          clock,
          startMs: 0,
          gracefulStopMs: 5000,
          // Iterations started in the first half take a minute; the others 100 ms.
          iterate: (intendedMs) => clock.sleepUntil(intendedMs + (intendedMs < 500 ? 60_000 : 100)),
          events: {
            ended: () => ended++,
            interrupted: (count) => (interrupted = count),
          },
        },
      ),
    );
    expect(clock.now()).toBe(6000);
    expect(interrupted).toBe(5);
    expect(ended).toBe(5);
  });

  it('stops the schedule when told to', async () => {
    const clock = new VirtualClock();
    let started = 0;
    await clock.run(
      runExecutor(
        { executor: 'constant-arrival-rate', rate: 100, durationMs: 10_000, maxVUs: 10 },
        {
          clock,
          startMs: 0,
          iterate: async () => {
            started++;
          },
          stopped: () => clock.now() >= 1000,
        },
      ),
    );
    expect(started).toBe(101);
  });
});
