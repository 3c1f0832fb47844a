/**
 * The coordinator: starts one share per worker thread, merges their flushes into one metric
 * store, reports progress, stops the run when an abort-on-fail threshold fails, and returns a
 * serialisable result that merges with results from other runs or machines.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import { ErrorCode, WarrenError } from '../../lib/errors.js';
import type { TargetSecrets } from '../targets/spec.js';
import { executorDurationMs } from './executors.js';
import { MetricsStore, type MetricsSnapshot } from './metrics.js';
import type { Scenario } from './scenario.js';
import { compileThresholds, evaluateThreshold, type ThresholdResult } from './thresholds.js';
import { runShare, type ShareChannel, type ShareInput, type WorkerMessage } from './worker.js';

/** A run's raw outcome: plain JSON, mergeable (see mergeResults). */
export interface RunResult {
  version: 1;
  scenario: Scenario;
  /** ISO time the schedule started. */
  startedAt: string;
  /** Wall time from schedule start to the last worker's end, ms. */
  durationMs: number;
  metrics: MetricsSnapshot;
  generator: GeneratorUsage;
  /** Set when an abort-on-fail threshold (or the caller) stopped the run early. */
  aborted?: { reason: string };
  /** Runs merged into this one (1 for a single run). */
  sources: number;
}

/** What the generator process used, for the self-check. */
export interface GeneratorUsage {
  workers: number;
  cores: number;
  /** Process CPU time / (wall time × cores), 0–1; merged runs keep the highest. */
  cpuShare: number;
}

/** Live figures, once a second. */
export interface Progress {
  elapsedMs: number;
  plannedMs: number;
  store: MetricsStore;
  inFlight: number;
}

export interface RunOptions {
  /** Worker threads; default the scenario's `workers`, else one per core. */
  workers?: number;
  /** Run the shares in this thread (tests, tiny runs); default false. */
  inThread?: boolean;
  secrets?: TargetSecrets;
  onProgress?: (progress: Progress) => void;
  /** Aborting it stops the schedule; in-flight iterations finish. */
  signal?: AbortSignal;
}

/** Runs a scenario to the end (or to an abort) and returns its merged result. */
export async function runScenario(
  scenario: Scenario,
  options: RunOptions = {},
): Promise<RunResult> {
  const workers = options.workers ?? scenario.workers ?? availableParallelism();
  const store = new MetricsStore();
  const abortThresholds = compileThresholds(scenario.thresholds).filter((t) => t.abortOnFail);
  const plannedMs = executorDurationMs(scenario.executor);
  const inFlight = new Array<number>(workers).fill(0);
  let aborted: { reason: string } | undefined;
  const shares = startShares(scenario, workers, options);
  const stopAll = (reason: string): void => {
    if (aborted) return;
    aborted = { reason };
    for (const share of shares.handles) share.stop();
  };
  options.signal?.addEventListener('abort', () => stopAll('stopped by the caller'), { once: true });

  const onMessage = (worker: number, message: WorkerMessage): void => {
    if (message.type === 'flush' || message.type === 'done') store.mergeSnapshot(message.metrics);
    if (message.type === 'flush') inFlight[worker] = message.inFlight;
  };
  const finished = Promise.all(shares.handles.map((share) => share.finished(onMessage)));
  // A worker that fails while booting must not leave the others waiting for a start.
  await Promise.race([shares.ready, finished]);
  const runStartEpochMs = Date.now() + 20;
  for (const share of shares.handles) share.start(runStartEpochMs);
  const cpuBefore = process.cpuUsage();
  const tick = setInterval(() => {
    const elapsedMs = Date.now() - runStartEpochMs;
    const failed = abortThresholds
      .map((t) => evaluateThreshold(t, store, elapsedMs / 1000))
      .find((result) => !result.ok && result.observed !== undefined);
    if (failed) stopAll(`threshold ${failed.metric}: ${failed.condition} failed (abortOnFail)`);
    const total = inFlight.reduce((a, b) => a + b, 0);
    options.onProgress?.({ elapsedMs, plannedMs, store, inFlight: total });
  }, 1000);
  try {
    await finished;
  } catch (error) {
    for (const share of shares.handles) share.terminate();
    throw error;
  } finally {
    clearInterval(tick);
  }
  const durationMs = Date.now() - runStartEpochMs;
  const cpu = process.cpuUsage(cpuBefore);
  const cores = availableParallelism();
  const result: RunResult = {
    version: 1,
    scenario,
    startedAt: new Date(runStartEpochMs).toISOString(),
    durationMs,
    metrics: store.toJSON(),
    generator: {
      workers,
      cores,
      cpuShare: (cpu.user + cpu.system) / 1000 / Math.max(durationMs, 1) / cores,
    },
    sources: 1,
  };
  if (aborted) result.aborted = aborted;
  return result;
}

/** One share of the run, in a worker thread or in this thread. */
interface ShareHandle {
  /** Resolves once the share has built its target and waits for the start. */
  ready: Promise<void>;
  start(runStartEpochMs: number): void;
  /** Resolves when the share posted "done"; rejects when it failed. */
  finished(onMessage: (worker: number, message: WorkerMessage) => void): Promise<void>;
  stop(): void;
  terminate(): void;
}

function startShares(
  scenario: Scenario,
  workers: number,
  options: RunOptions,
): { handles: ShareHandle[]; ready: Promise<void> } {
  const handles = Array.from({ length: workers }, (_, index) => {
    const input: ShareInput = { scenario, index, of: workers, secrets: options.secrets ?? {} };
    return options.inThread ? inThreadShare(input) : threadShare(input);
  });
  return { handles, ready: Promise.all(handles.map((h) => h.ready)).then(() => undefined) };
}

/** Code a worker evaluates: register tsx (the project runs TypeScript directly), then the entry. */
function workerBootstrap(): string {
  const require = createRequire(import.meta.url);
  const tsxApi = join(dirname(require.resolve('tsx/package.json')), 'dist/esm/api/index.mjs');
  const entry = new URL('./worker-entry.ts', import.meta.url).href;
  return (
    `import(${JSON.stringify(pathToFileURL(tsxApi).href)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`
  );
}

/** Routes a share's messages: ready, flushes and done to the coordinator, failure as a rejection. */
function messageRouter(index: number) {
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  let forward: (worker: number, message: WorkerMessage) => void = () => undefined;
  const failure = (text: string, cause?: unknown): WarrenError =>
    new WarrenError(ErrorCode.ProcessFailed, `load worker ${index}: ${text}`, { cause });
  const finished = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  // Nobody may be listening yet when a worker fails early; the rejection is handled later.
  finished.catch(() => undefined);
  return {
    ready,
    deliver(message: WorkerMessage): void {
      if (message.type === 'ready') markReady();
      else if (message.type === 'failed') settle?.reject(failure(message.message));
      else forward(index, message);
      if (message.type === 'done') settle?.resolve();
    },
    fail(text: string, cause?: unknown): void {
      settle?.reject(failure(text, cause));
    },
    finished(onMessage: (worker: number, message: WorkerMessage) => void): Promise<void> {
      forward = onMessage;
      return finished;
    },
  };
}

function threadShare(input: ShareInput): ShareHandle {
  const router = messageRouter(input.index);
  const worker = new Worker(workerBootstrap(), { eval: true, workerData: input });
  worker.on('message', (message: WorkerMessage) => router.deliver(message));
  worker.on('error', (error) => router.fail('crashed', error));
  worker.on('exit', (code) => {
    if (code !== 0) router.fail(`exited with code ${code}`);
  });
  return {
    ready: router.ready,
    start: (epochMs) => worker.postMessage({ type: 'start', epochMs }),
    finished: router.finished,
    stop: () => worker.postMessage({ type: 'stop' }),
    terminate: () => void worker.terminate(),
  };
}

function inThreadShare(input: ShareInput): ShareHandle {
  const router = messageRouter(input.index);
  const stopListeners: Array<() => void> = [];
  let startAt: (epochMs: number) => void = () => undefined;
  const start = new Promise<number>((resolve) => (startAt = resolve));
  const channel: ShareChannel = {
    post: (message) => router.deliver(message),
    onStop: (listener) => stopListeners.push(listener),
    startAt: () => start,
  };
  void runShare(input, channel);
  return {
    ready: router.ready,
    start: startAt,
    finished: router.finished,
    stop: () => stopListeners.forEach((listener) => listener()),
    terminate: () => stopListeners.forEach((listener) => listener()),
  };
}

/** Judges every threshold of a result. */
export function evaluateThresholds(result: RunResult, store: MetricsStore): ThresholdResult[] {
  return compileThresholds(result.scenario.thresholds).map((threshold) =>
    evaluateThreshold(threshold, store, result.durationMs / 1000),
  );
}

/** A store holding a result's metrics. */
export function storeOf(result: RunResult): MetricsStore {
  const store = new MetricsStore();
  store.mergeSnapshot(result.metrics);
  return store;
}

/**
 * Merges results of the same scenario run at the same time on several machines (or
 * several runs to be judged together): metrics add up, the duration is the longest, the
 * generator figures keep the worst.
 */
export function mergeResults(results: RunResult[]): RunResult {
  const [first, ...rest] = results;
  if (!first) throw new WarrenError(ErrorCode.BadOption, 'merge: give at least one result file');
  const store = storeOf(first);
  for (const result of rest) {
    if (result.scenario.name !== first.scenario.name) {
      throw new WarrenError(
        ErrorCode.BadInput,
        `merge: results of different scenarios (${first.scenario.name}, ${result.scenario.name})`,
      );
    }
    store.mergeSnapshot(result.metrics);
  }
  // Every threshold any of the runs declared is judged on the merged figures.
  const thresholds = new Map(
    results.flatMap((r) => r.scenario.thresholds).map((t) => [`${t.metric} ${t.condition}`, t]),
  );
  const merged: RunResult = {
    ...first,
    scenario: { ...first.scenario, thresholds: [...thresholds.values()] },
    startedAt: results.map((r) => r.startedAt).sort()[0] ?? first.startedAt,
    durationMs: Math.max(...results.map((r) => r.durationMs)),
    metrics: store.toJSON(),
    generator: {
      workers: results.reduce((sum, r) => sum + r.generator.workers, 0),
      cores: results.reduce((sum, r) => sum + r.generator.cores, 0),
      cpuShare: Math.max(...results.map((r) => r.generator.cpuShare)),
    },
    sources: results.reduce((sum, r) => sum + r.sources, 0),
  };
  const abortReasons = results.flatMap((r) => (r.aborted ? [r.aborted.reason] : []));
  if (abortReasons.length > 0) merged.aborted = { reason: abortReasons.join('; ') };
  else delete merged.aborted;
  return merged;
}
