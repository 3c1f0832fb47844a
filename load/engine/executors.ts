/**
 * Executors, as k6 names them. Arrival-rate executors are an open model: every iteration has an
 * intended start fixed by the schedule, whatever the target does, and its latency is measured
 * from that intended start, so a stalled target shows its stall instead of hiding it
 * (coordinated omission). An iteration due while every VU is busy is dropped and counted.
 */
import type { Clock } from './clock.js';

/** A rate of `rate` iterations per `timeUnitMs` (default 1000: per second) for `durationMs`. */
export interface ConstantArrivalRate {
  executor: 'constant-arrival-rate';
  rate: number;
  timeUnitMs?: number;
  durationMs: number;
  /** Most iterations in flight at once; a due iteration beyond it is dropped. */
  maxVUs: number;
}

/** One ramp: reach `target` iterations per time unit, linearly, over `durationMs`. */
export interface Stage {
  target: number;
  durationMs: number;
}

export interface RampingArrivalRate {
  executor: 'ramping-arrival-rate';
  startRate: number;
  timeUnitMs?: number;
  stages: Stage[];
  maxVUs: number;
}

/** Closed model: `vus` loops, each starting its next iteration when the last ends. */
export interface ConstantVus {
  executor: 'constant-vus';
  vus: number;
  durationMs: number;
}

export type ExecutorConfig = ConstantArrivalRate | RampingArrivalRate | ConstantVus;

/** Total scheduled time of an executor, in milliseconds. */
export function executorDurationMs(config: ExecutorConfig): number {
  if (config.executor === 'ramping-arrival-rate') {
    return config.stages.reduce((sum, stage) => sum + stage.durationMs, 0);
  }
  return config.durationMs;
}

/**
 * Intended start offsets (ms from the run start) of every iteration, in order. Iteration k
 * starts when the integral of the rate reaches k, so ramps are smooth and the schedule is
 * the same on every machine. `share` splits the schedule: worker w of n takes every n-th.
 */
export function* arrivalOffsets(
  config: ConstantArrivalRate | RampingArrivalRate,
  share: { index: number; of: number } = { index: 0, of: 1 },
): Generator<number> {
  const unitMs = config.timeUnitMs ?? 1000;
  const stages =
    config.executor === 'constant-arrival-rate'
      ? [{ from: config.rate, to: config.rate, durationMs: config.durationMs }]
      : rampStages(config);
  let k = share.index;
  let countBefore = 0;
  let stageStartMs = 0;
  for (const stage of stages) {
    const a = stage.from / unitMs;
    const b = (stage.to - stage.from) / unitMs / stage.durationMs;
    for (;;) {
      const t = timeToReach(k - countBefore, a, b);
      if (t === undefined || t >= stage.durationMs) break;
      yield stageStartMs + t;
      k += share.of;
    }
    countBefore += a * stage.durationMs + (b * stage.durationMs * stage.durationMs) / 2;
    stageStartMs += stage.durationMs;
  }
}

function rampStages(
  config: RampingArrivalRate,
): Array<{ from: number; to: number; durationMs: number }> {
  let from = config.startRate;
  return config.stages.map((stage) => {
    const ramp = { from, to: stage.target, durationMs: stage.durationMs };
    from = stage.target;
    return ramp;
  });
}

/** Smallest t ≥ 0 with a·t + b·t²/2 = m (rate a per ms, slope b per ms²); undefined if never. */
function timeToReach(m: number, a: number, b: number): number | undefined {
  if (m <= 0) return 0;
  if (Math.abs(b) < 1e-15) return a > 0 ? m / a : undefined;
  const discriminant = a * a + 2 * b * m;
  if (discriminant < 0) return undefined;
  return (-a + Math.sqrt(discriminant)) / b;
}

/** What the scheduler tells about each iteration. */
export interface IterationEvents {
  /** An iteration started; `startLagMs` = actual − intended start. */
  started?(intendedMs: number, startLagMs: number): void;
  /** An iteration was due but every VU was busy. */
  dropped?(intendedMs: number): void;
  /** An iteration ended; `durationMs` is measured from the intended start. */
  ended?(intendedMs: number, durationMs: number, error: unknown): void;
  /** The graceful stop ran out with `count` iterations still in flight (left to the caller). */
  interrupted?(count: number): void;
}

/**
 * One iteration: receives the time its latencies count from (clock ms: the intended start,
 * or the actual start if the clock woke early) and a VU number.
 */
export type Iterate = (intendedMs: number, vu: number) => Promise<void>;

export interface ExecutorRun {
  clock: Clock;
  /** Clock time of the run's start; offsets are added to it. */
  startMs: number;
  iterate: Iterate;
  events?: IterationEvents;
  /** Polled before each iteration; true ends the schedule early (abort on fail, Ctrl-C). */
  stopped?: () => boolean;
  /** This worker's part of the schedule. */
  share?: { index: number; of: number };
  /**
   * How long iterations still in flight at the end of the schedule may finish, ms; default
   * 30000 (k6's gracefulStop). Those still running then are reported as interrupted.
   */
  gracefulStopMs?: number;
}

/** Default graceful stop, ms. */
export const defaultGracefulStopMs = 30_000;

/** Waits for in-flight iterations until `deadlineMs`; returns how many were still running. */
async function settle(
  run: ExecutorRun,
  inFlight: Set<Promise<void>>,
  deadlineMs: number,
): Promise<number> {
  while (inFlight.size > 0 && run.clock.now() < deadlineMs) {
    // Poll in short steps so no long timer outlives the run.
    const stepMs = Math.min(run.clock.now() + 100, deadlineMs);
    await Promise.race([Promise.race(inFlight), run.clock.sleepUntil(stepMs)]);
  }
  if (inFlight.size > 0) run.events?.interrupted?.(inFlight.size);
  return inFlight.size;
}

/** Runs an executor to the end of its schedule and waits for iterations still in flight. */
export async function runExecutor(config: ExecutorConfig, run: ExecutorRun): Promise<void> {
  if (config.executor === 'constant-vus') return runConstantVus(config, run);
  return runArrivals(config, run);
}

async function runArrivals(
  config: ConstantArrivalRate | RampingArrivalRate,
  run: ExecutorRun,
): Promise<void> {
  const share = run.share ?? { index: 0, of: 1 };
  const maxVUs = Math.max(1, Math.ceil(config.maxVUs / share.of));
  const freeVus = Array.from({ length: maxVUs }, (_, i) => maxVUs - 1 - i);
  const inFlight = new Set<Promise<void>>();
  for (const offsetMs of arrivalOffsets(config, share)) {
    if (run.stopped?.()) break;
    const intendedMs = run.startMs + offsetMs;
    await run.clock.sleepUntil(intendedMs);
    const vu = freeVus.pop();
    if (vu === undefined) {
      run.events?.dropped?.(intendedMs);
      continue;
    }
    const iteration = startIteration(run, intendedMs, vu).finally(() => {
      freeVus.push(vu);
      inFlight.delete(iteration);
    });
    inFlight.add(iteration);
  }
  const endMs = run.startMs + executorDurationMs(config);
  await settle(run, inFlight, endMs + (run.gracefulStopMs ?? defaultGracefulStopMs));
}

async function runConstantVus(config: ConstantVus, run: ExecutorRun): Promise<void> {
  const share = run.share ?? { index: 0, of: 1 };
  const vus = Math.floor(config.vus / share.of) + (share.index < config.vus % share.of ? 1 : 0);
  const endMs = run.startMs + config.durationMs;
  const inFlight = new Set<Promise<void>>();
  const loop = async (vu: number): Promise<void> => {
    // Closed model: the next iteration is intended to start when the previous one ends, so
    // latencies here are service times; use an arrival-rate executor to test SLOs.
    while (run.clock.now() < endMs && !run.stopped?.()) {
      const iteration = startIteration(run, run.clock.now(), vu);
      inFlight.add(iteration);
      await iteration;
      inFlight.delete(iteration);
    }
  };
  let loopsDone = false;
  const loops = Promise.all(Array.from({ length: vus }, (_, vu) => loop(vu))).then(() => {
    loopsDone = true;
  });
  while (!loopsDone && run.clock.now() < endMs) {
    await Promise.race([loops, run.clock.sleepUntil(Math.min(run.clock.now() + 100, endMs))]);
  }
  await settle(run, inFlight, endMs + (run.gracefulStopMs ?? defaultGracefulStopMs));
}

async function startIteration(run: ExecutorRun, intendedMs: number, vu: number): Promise<void> {
  const actualMs = run.clock.now();
  const originMs = Math.min(intendedMs, actualMs);
  run.events?.started?.(intendedMs, actualMs - intendedMs);
  let failure: unknown;
  try {
    await run.iterate(originMs, vu);
  } catch (error) {
    failure = error;
  }
  run.events?.ended?.(intendedMs, run.clock.now() - originMs, failure);
}
