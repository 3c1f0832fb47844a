/**
 * Running one step (activity, probe, rollback) into a StepRecord: placeholders filled, time
 * taken, output judged, errors coded, logs attached when the step failed or deviated.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { ErrorCode, isWarrenError } from '../lib/errors.js';

import { runAction } from './actions.js';
import type { RunContext } from './context.js';
import type { Phase, StepRecord, StepStatus } from './journal.js';
import type { Provider, Tolerance } from './model.js';
import { runProvider } from './providers.js';
import { fillDeep, redact } from './template.js';
import { checkTolerance, type ToleranceResult } from './tolerance.js';

/** What a step body returns: its output and, for probes, the verdict. */
export interface StepOutcome {
  output?: unknown;
  tolerance?: ToleranceResult;
}

/** Clock and log access shared by every step of one run. */
export interface StepEnv {
  /** performance.now() at drill start. */
  readonly originMs: number;
  /** Recent log lines from every source, for failed steps. */
  collectLogs(): Promise<Record<string, string[]>>;
}

/**
 * Runs `body` as a step named `name`. The step's signal ends at `timeoutMs` or when `ctx.signal`
 * aborts; a WarrenError's code is kept, anything else is recorded as WARREN_ERR_PROCESS_FAILED.
 */
export async function runStep(
  meta: { name: string; type: string; phase: Phase; input: unknown; timeoutMs: number },
  ctx: RunContext,
  env: StepEnv,
  body: (stepCtx: RunContext) => Promise<StepOutcome>,
): Promise<StepRecord> {
  const started = performance.now();
  const record: StepRecord = {
    name: meta.name,
    type: meta.type,
    phase: meta.phase,
    status: 'succeeded',
    startedAt: new Date().toISOString(),
    offsetMs: Math.round(started - env.originMs),
    durationMs: 0,
    input: printable(meta.input),
  };
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(meta.timeoutMs)]);
  try {
    const outcome = await body({ ...ctx, signal });
    record.output = printable(outcome.output);
    if (outcome.tolerance) record.tolerance = outcome.tolerance;
    if (outcome.tolerance?.met === false) record.status = 'deviated';
  } catch (error) {
    record.status = failureStatus(ctx.signal);
    record.error = ctx.signal.aborted
      ? { code: ErrorCode.Interrupted, message: `stopped early: ${String(ctx.signal.reason)}` }
      : codeOf(error, signal, meta.timeoutMs);
  }
  record.durationMs = Math.round(performance.now() - started);
  if (record.status === 'failed' || record.status === 'deviated') {
    record.logs = await env.collectLogs().catch(() => ({}));
  }
  return record;
}

/** Fills placeholders of a step's definition; `field` names it in errors (`method[2]`). */
export function prepare<T>(definition: T, ctx: RunContext, field: string): T {
  return fillDeep(definition, ctx.vars, field);
}

/** A probe: one provider call judged by an optional tolerance. */
export async function probeOnce(
  provider: Provider,
  tolerance: Tolerance | undefined,
  ctx: RunContext,
): Promise<StepOutcome> {
  const output = await runProvider(provider, ctx);
  return { output, tolerance: tolerance ? checkTolerance(tolerance, output) : undefined };
}

/** An action: one fault or undo. */
export async function actOnce(
  action: Parameters<typeof runAction>[0],
  ctx: RunContext,
): Promise<StepOutcome> {
  return { output: await runAction(action, ctx) };
}

/** A pause that ends early (as an interruption) when the run is aborted. */
export async function pauseFor(durationMs: number, ctx: RunContext): Promise<StepOutcome> {
  await sleep(durationMs, undefined, { signal: ctx.signal });
  return { output: { pausedMs: durationMs } };
}

/** Input of a `measure` step after placeholders are filled. */
export interface MeasureInput {
  provider: Provider;
  until: Tolerance;
  deadlineMs: number;
  intervalMs?: number;
  sloMs?: number;
  /** performance.now() the clock starts from. */
  sinceMs: number;
}

/**
 * Time-to-effect: polls until the tolerance holds. Elapsed time runs from `sinceMs` to the end
 * of the first attempt that met it; an attempt that throws counts as "not yet".
 */
export async function measureUntil(input: MeasureInput, ctx: RunContext): Promise<StepOutcome> {
  const deadline = performance.now() + input.deadlineMs;
  let attempts = 0;
  let last: unknown;
  let verdict: ToleranceResult = { met: false, detail: 'never probed' };
  while (!ctx.signal.aborted) {
    attempts += 1;
    try {
      last = await runProvider(input.provider, ctx);
      verdict = checkTolerance(input.until, last);
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      last = { error: error instanceof Error ? error.message : String(error) };
    }
    if (verdict.met)
      return measured(input, attempts, performance.now() - input.sinceMs, last, verdict);
    if (performance.now() >= deadline) break;
    await sleep(input.intervalMs ?? 100, undefined, { signal: ctx.signal });
  }
  ctx.signal.throwIfAborted();
  return measured(input, attempts, null, last, {
    met: false,
    detail: `not reached within ${input.deadlineMs} ms: ${verdict.detail}`,
  });
}

function measured(
  input: MeasureInput,
  attempts: number,
  elapsed: number | null,
  last: unknown,
  verdict: ToleranceResult,
): StepOutcome {
  const elapsedMs = elapsed === null ? null : Math.round(elapsed);
  const overSlo = elapsedMs !== null && input.sloMs !== undefined && elapsedMs > input.sloMs;
  const tolerance = overSlo
    ? { met: false, detail: `reached after ${elapsedMs} ms, over the SLO of ${input.sloMs} ms` }
    : verdict;
  return {
    output: {
      reached: elapsedMs !== null,
      elapsedMs,
      attempts,
      deadlineMs: input.deadlineMs,
      sloMs: input.sloMs,
      last,
    },
    tolerance,
  };
}

function failureStatus(runSignal: AbortSignal): StepStatus {
  return runSignal.aborted ? 'interrupted' : 'failed';
}

function codeOf(
  error: unknown,
  signal: AbortSignal,
  timeoutMs: number,
): { code: string; message: string } {
  if (isWarrenError(error)) return { code: error.code, message: String(redact(error.message)) };
  if (
    signal.aborted &&
    signal.reason instanceof DOMException &&
    signal.reason.name === 'TimeoutError'
  ) {
    return { code: ErrorCode.Timeout, message: `step did not finish within ${timeoutMs} ms` };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: ErrorCode.ProcessFailed, message: String(redact(message)) };
}

/** JSON-safe, redacted copy: functions become "[function]", long strings are cut. */
export function printable(value: unknown): unknown {
  const text = JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'function'
      ? '[function]'
      : typeof item === 'string' && item.length > 4000
        ? `${item.slice(0, 4000)}...`
        : item,
  );
  return text === undefined ? undefined : redact(JSON.parse(text));
}
