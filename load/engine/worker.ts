/**
 * One worker's share of a run: builds the target, runs its part of the schedule, records into
 * its own metric store and flushes deltas once a second. Runs in a worker thread (see
 * worker-entry.ts) or, for tests and tiny runs, in the calling thread.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

import { createTarget } from '../targets/index.js';
import type { TargetSecrets } from '../targets/spec.js';
import type { Recorder } from '../targets/target.js';
import { realClock, type Clock } from './clock.js';
import { runExecutor } from './executors.js';
import { MetricsStore, type MetricKind, type MetricsSnapshot, type Tags } from './metrics.js';
import type { Scenario } from './scenario.js';

/** What a worker is given. */
export interface ShareInput {
  scenario: Scenario;
  /** This worker's number, 0-based, and the number of workers. */
  index: number;
  of: number;
  secrets: TargetSecrets;
  /** Default 1000 ms. */
  flushIntervalMs?: number;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'flush'; metrics: MetricsSnapshot; inFlight: number }
  | { type: 'done'; metrics: MetricsSnapshot }
  | { type: 'failed'; message: string };

/** How a share talks to the coordinator. */
export interface ShareChannel {
  post(message: WorkerMessage): void;
  /** Registers the coordinator's "stop now" (abort on fail, Ctrl-C). */
  onStop(listener: () => void): void;
  /**
   * Resolves with the wall-clock ms (epoch) at which every share starts the schedule; the
   * coordinator picks it once all shares are ready, so slow worker boots cost no iterations.
   */
  startAt(): Promise<number>;
}

/** Runs one share to completion; never throws (failures are posted). */
export async function runShare(
  input: ShareInput,
  channel: ShareChannel,
  clock: Clock = realClock,
): Promise<void> {
  try {
    await runShareOrThrow(input, channel, clock);
  } catch (error) {
    channel.post({
      type: 'failed',
      message: error instanceof Error ? error.message : String(error),
    });
  }
}

async function runShareOrThrow(
  input: ShareInput,
  channel: ShareChannel,
  clock: Clock,
): Promise<void> {
  const { scenario } = input;
  const store = new MetricsStore();
  let startMs = Infinity;
  const secondNow = (): number => Math.max(0, Math.floor((clock.now() - startMs) / 1000));
  const baseTags: Tags = { scenario: scenario.name, ...scenario.tags };
  const recorder = makeRecorder(store, baseTags, secondNow);
  const target = createTarget(scenario.target, input.secrets);
  let stopped = false;
  channel.onStop(() => {
    stopped = true;
  });
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  let inFlight = 0;
  let interrupted = false;
  const flush = (): void => {
    // Event-loop delay per flush interval: the generator's own health, judged by the self-check.
    if (lag.count > 0) {
      recorder.trend('generator_event_loop_lag', lag.percentile(99) / 1e6);
      lag.reset();
    }
    channel.post({ type: 'flush', metrics: store.toJSON(), inFlight });
    store.clear();
  };
  channel.post({ type: 'ready' });
  startMs = (await channel.startAt()) - performance.timeOrigin;
  const timer = setInterval(flush, input.flushIntervalMs ?? 1000);
  let index = input.index;
  try {
    await clock.sleepUntil(startMs);
    await runExecutor(scenario.executor, {
      clock,
      startMs,
      share: { index: input.index, of: input.of },
      stopped: () => stopped,
      gracefulStopMs: scenario.gracefulStopMs,
      iterate: async (intendedMs, vu) => {
        const iterationIndex = index;
        index += input.of;
        inFlight++;
        try {
          await target.iterate({
            intendedMs,
            index: iterationIndex,
            vu,
            now: () => clock.now(),
            record: recorder,
          });
        } finally {
          inFlight--;
        }
      },
      events: {
        ...executorEvents(recorder, scenario.executor.executor !== 'constant-vus'),
        interrupted: (count) => {
          interrupted = true;
          recorder.counter('interrupted_iterations', count);
        },
      },
    });
  } finally {
    clearInterval(timer);
    lag.disable();
    await target.close(interrupted);
  }
  channel.post({ type: 'done', metrics: store.toJSON() });
}

function executorEvents(
  recorder: Recorder,
  openModel: boolean,
): Parameters<typeof runExecutor>[1]['events'] {
  return {
    started: (_intendedMs, startLagMs) => {
      if (openModel) recorder.trend('generator_start_lag', Math.max(0, startLagMs));
    },
    dropped: () => recorder.counter('dropped_iterations', 1),
    ended: (_intendedMs, durationMs, error) => {
      recorder.counter('iterations', 1);
      recorder.trend('iteration_duration', durationMs);
      recorder.rate('iteration_failed', error !== undefined);
    },
  };
}

function makeRecorder(store: MetricsStore, baseTags: Tags, second: () => number): Recorder {
  // Targets that reuse tag objects get the same merged object back, which the store caches.
  const merged = new WeakMap<Tags, Tags>();
  const withBase = (tags: Tags): Tags => {
    let found = merged.get(tags);
    if (!found) merged.set(tags, (found = { ...baseTags, ...tags }));
    return found;
  };
  const add = (name: string, kind: MetricKind, value: number | boolean, tags?: Tags): void =>
    store.add(name, kind, value, tags ? withBase(tags) : baseTags, second());
  return {
    trend: (name, ms, tags) => add(name, 'trend', ms, tags),
    counter: (name, increment = 1, tags) => add(name, 'counter', increment, tags),
    rate: (name, ok, tags) => add(name, 'rate', ok, tags),
    gauge: (name, value, tags) => add(name, 'gauge', value, tags),
    check: (name, ok, tags) => {
      add('checks', 'rate', ok, { ...tags, check: name });
      return ok;
    },
  };
}
