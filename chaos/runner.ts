/**
 * Runs one drill: guard, setup, steady state before, method (stop conditions watched),
 * steady state after, then rollbacks and teardown — always, in that order, whether the run
 * succeeded, failed, was aborted by a stop condition or interrupted by SIGINT/SIGTERM.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { ErrorCode, WarrenError, isWarrenError } from '../lib/errors.js';

import type { RunContext } from './context.js';
import type { FaultProxy } from './faults/proxy.js';
import type { LoadedDrill } from './load.js';
import type { HypothesisRecord, Journal, StepRecord } from './journal.js';
import type { Activity, Drill } from './model.js';
import { DrillResources, readLogTails } from './resources.js';
import {
  actOnce,
  measureUntil,
  pauseFor,
  prepare,
  printable,
  probeOnce,
  runStep,
  type StepEnv,
} from './steps.js';
import { assertNonProduction, type StartedTarget, type Target } from './targets/target.js';

export interface RunOptions {
  target: Target;
  /** Validate, guard and write the plan; start nothing, inject nothing. Default false. */
  dryRun?: boolean;
  /** Aborts the run as `interrupted`; its reason (e.g. "SIGINT") is recorded. */
  signal?: AbortSignal;
  /** Progress callback, one call per finished step (the CLI prints these). */
  onStep?: (step: StepRecord) => void;
  /** Deadline for each rollback step; default 60000 ms. */
  rollbackTimeoutMs?: number;
  /** Extra placeholder values (`--var name=value`), used as `${name}`. */
  vars?: Readonly<Record<string, string>>;
  /** Deadline for method steps without their own `timeoutMs`; default 120000 ms. */
  stepTimeoutMs?: number;
}

const stopReason = 'stop-condition';

/**
 * Runs `loaded` against `options.target` and returns its journal. Throws only
 * WARREN_ERR_UNSAFE_TARGET (before anything happens); every other problem is in the journal.
 */
export async function runDrill(loaded: LoadedDrill, options: RunOptions): Promise<Journal> {
  assertNonProduction(options.target.description);
  const run = new DrillRun(loaded, options);
  return options.dryRun ? run.plan() : run.execute();
}

class DrillRun {
  private readonly drill: Drill;
  private readonly journal: Journal;
  private readonly originMs = performance.now();
  private readonly method = new AbortController();
  private readonly resources: DrillResources;
  private readonly endOf = new Map<string, number>();
  private target: StartedTarget | undefined;

  constructor(
    loaded: LoadedDrill,
    private readonly options: RunOptions,
  ) {
    this.drill = loaded.drill;
    this.resources = new DrillResources(loaded.drill);
    this.journal = newJournal(loaded, options);
  }

  /**
   * Dry run: every step listed as skipped with its definition; nothing starts. Capabilities
   * the target lacks still fail the plan, so `--all --dry-run` shows what could run here.
   */
  async plan(): Promise<Journal> {
    this.journal.error = await this.missingCapabilities();
    const skipped = (name: string, type: string, phase: StepRecord['phase'], input: unknown) =>
      this.push(phase === 'rollback' ? this.journal.rollbacks : this.journal.run, {
        name,
        type,
        phase,
        status: 'skipped',
        startedAt: new Date().toISOString(),
        offsetMs: 0,
        durationMs: 0,
        input: printable(input),
      });
    for (const probe of this.drill.steadyState.probes)
      skipped(probe.name, 'probe', 'before', probe);
    for (const activity of this.drill.method)
      skipped(activity.name, activity.type, 'method', activity);
    for (const probe of this.drill.steadyState.probes) skipped(probe.name, 'probe', 'after', probe);
    for (const rollback of this.drill.rollbacks)
      skipped(rollback.name, 'action', 'rollback', rollback.action);
    return this.finish(this.journal.error ? 'failed' : 'completed');
  }

  async execute(): Promise<Journal> {
    const onInterrupt = () => this.interrupt();
    this.options.signal?.addEventListener('abort', onInterrupt, { once: true });
    if (this.options.signal?.aborted) this.interrupt();
    try {
      await this.body();
    } catch (error) {
      this.fail(error);
    } finally {
      await this.rollBack();
      await this.tearDown();
      this.options.signal?.removeEventListener('abort', onInterrupt);
    }
    return this.finish(this.finalStatus());
  }

  private async body(): Promise<void> {
    if (!(await this.setUp())) return;
    const before = await this.hypothesis('before');
    this.journal.steadyStates.before = before;
    if (!before.met) {
      this.journal.error = {
        code: ErrorCode.BadInput,
        message: 'steady state did not hold before the method; nothing was injected',
      };
      return;
    }
    const stopWatch = this.watchStopConditions();
    try {
      await this.runMethod();
    } finally {
      await stopWatch.stop();
    }
    if (this.method.signal.aborted) return;
    this.journal.steadyStates.after = await this.hypothesis('after');
  }

  /** Why the target cannot serve the drill's `requires`, or undefined when it can. */
  private async missingCapabilities(): Promise<Journal['error']> {
    const missing = await this.options.target.missing(this.drill.requires ?? []);
    if (Object.keys(missing).length === 0) return undefined;
    const list = Object.entries(missing)
      .map(([name, why]) => `${name}: ${why}`)
      .join('; ');
    return { code: ErrorCode.MissingDependency, message: `cannot run here: ${list}` };
  }

  /** Capabilities, target, ports, proxies, processes; false when the drill cannot run. */
  private async setUp(): Promise<boolean> {
    this.journal.error = await this.missingCapabilities();
    if (this.journal.error) return false;
    const step = await runStep(
      {
        name: 'start target and drill resources',
        type: 'setup',
        phase: 'setup',
        input: undefined,
        timeoutMs: 300_000,
      },
      this.context(),
      this.env(),
      async (ctx) => {
        this.target = await this.options.target.start(ctx.signal);
        await this.resources.start(this.target.vars, this.options.vars ?? {});
        return { output: { vars: this.resources.vars } };
      },
    );
    this.push(this.journal.setup, step);
    if (step.status === 'succeeded') return true;
    this.journal.error = step.error ?? { code: ErrorCode.ProcessFailed, message: 'setup failed' };
    return false;
  }

  private async runMethod(): Promise<void> {
    for (const [index, activity] of this.drill.method.entries()) {
      if (this.method.signal.aborted) return;
      const record = await this.runActivity(activity, `method[${index}]`);
      this.endOf.set(activity.name, performance.now());
      this.push(this.journal.run, record);
      if (record.status === 'deviated')
        this.deviate(`${activity.name}: ${record.tolerance?.detail ?? ''}`);
      if (record.status === 'failed') {
        this.journal.error = record.error ?? {
          code: ErrorCode.ProcessFailed,
          message: `${activity.name} failed`,
        };
        return;
      }
    }
  }

  private async runActivity(activity: Activity, field: string): Promise<StepRecord> {
    const ctx = this.context();
    const timeoutMs =
      activity.timeoutMs ??
      (activity.type === 'pause'
        ? activity.durationMs + 5000
        : activity.type === 'measure'
          ? activity.deadlineMs + 30_000
          : (this.options.stepTimeoutMs ?? 120_000));
    const meta = { name: activity.name, type: activity.type, phase: 'method' as const, timeoutMs };
    if (activity.type === 'hypothesis') return this.checkpoint(meta);
    const filled = prepare(activity, ctx, field);
    return runStep({ ...meta, input: filled }, ctx, this.env(), (stepCtx) => {
      switch (filled.type) {
        case 'action':
          return actOnce(filled.action, stepCtx);
        case 'probe':
          return probeOnce(filled.provider, filled.tolerance, stepCtx);
        case 'pause':
          return pauseFor(filled.durationMs, stepCtx);
        case 'measure':
          return this.measure(filled, stepCtx);
        default:
          throw new WarrenError(ErrorCode.BadInput, `${field}: unknown activity type`);
      }
    });
  }

  private async measure(activity: Extract<Activity, { type: 'measure' }>, ctx: RunContext) {
    const sinceMs =
      activity.since === undefined ? performance.now() : this.endOf.get(activity.since);
    if (sinceMs === undefined) {
      throw new WarrenError(
        ErrorCode.BadInput,
        `measure "${activity.name}": since "${activity.since}" has not run yet`,
      );
    }
    const outcome = await measureUntil({ ...activity, sinceMs }, ctx);
    const output = outcome.output as {
      reached: boolean;
      elapsedMs: number | null;
      attempts: number;
    };
    this.journal.measurements[activity.name] = {
      reached: output.reached,
      elapsedMs: output.elapsedMs,
      attempts: output.attempts,
      deadlineMs: activity.deadlineMs,
      ...(activity.sloMs === undefined ? {} : { sloMs: activity.sloMs }),
    };
    return outcome;
  }

  /** A `hypothesis` step: the steady state re-checked mid-method, kept under `during`. */
  private async checkpoint(meta: {
    name: string;
    type: string;
    timeoutMs: number;
  }): Promise<StepRecord> {
    const started = performance.now();
    const during = await this.hypothesis('during');
    this.journal.steadyStates.during.push(during);
    return {
      ...meta,
      phase: 'method',
      status: during.met ? 'succeeded' : 'deviated',
      startedAt: during.at,
      offsetMs: Math.round(started - this.originMs),
      durationMs: Math.round(performance.now() - started),
      output: { met: during.met },
      tolerance: {
        met: during.met,
        detail: `steady state "${during.title}" ${during.met ? 'held' : 'did not hold'}`,
      },
    };
  }

  private async hypothesis(phase: 'before' | 'during' | 'after'): Promise<HypothesisRecord> {
    const at = new Date().toISOString();
    const ctx = this.context();
    const probes: StepRecord[] = [];
    for (const [index, probe] of this.drill.steadyState.probes.entries()) {
      const filled = prepare(probe, ctx, `steadyState.probes[${index}]`);
      const record = await runStep(
        { name: filled.name, type: 'probe', phase, input: filled.provider, timeoutMs: 60_000 },
        ctx,
        this.env(),
        (stepCtx) => probeOnce(filled.provider, filled.tolerance, stepCtx),
      );
      probes.push(record);
      this.options.onStep?.(record);
    }
    const met = probes.every((probe) => probe.status === 'succeeded');
    if (!met && phase !== 'before') {
      const missed = probes
        .filter((probe) => probe.status !== 'succeeded')
        .map((probe) => probe.name);
      this.deviate(`steady state ${phase}: ${missed.join(', ')} missed`);
    }
    return { title: this.drill.steadyState.title, met, at, probes };
  }

  /** Polls the stop conditions during the method; a miss aborts the method at once. */
  private watchStopConditions(): { stop(): Promise<void> } {
    const conditions = this.drill.stopConditions;
    if (conditions === undefined) return { stop: async () => undefined };
    const done = new AbortController();
    const signal = AbortSignal.any([done.signal, this.method.signal]);
    let checks = 0;
    const loop = (async () => {
      while (!signal.aborted) {
        for (const [index, probe] of conditions.probes.entries()) {
          checks += 1;
          const tripped = await this.checkStopCondition(probe, index, signal, checks);
          if (tripped || signal.aborted) return;
        }
        await sleep(conditions.intervalMs ?? 250, undefined, { signal }).catch(() => undefined);
      }
    })();
    return {
      stop: async () => {
        done.abort();
        await loop;
      },
    };
  }

  private async checkStopCondition(
    probe: NonNullable<Drill['stopConditions']>['probes'][number],
    index: number,
    signal: AbortSignal,
    checks: number,
  ): Promise<boolean> {
    const ctx = { ...this.context(), signal };
    try {
      const filled = prepare(probe, ctx, `stopConditions.probes[${index}]`);
      const outcome = await probeOnce(filled.provider, filled.tolerance, ctx);
      if (outcome.tolerance?.met !== false || signal.aborted) return false;
      this.journal.stopCondition = {
        probe: probe.name,
        detail: outcome.tolerance.detail,
        at: new Date().toISOString(),
        checks,
      };
      this.deviate(`stop condition "${probe.name}": ${outcome.tolerance.detail}`);
      this.method.abort(stopReason);
      return true;
    } catch {
      // A stop-condition probe that cannot run is not evidence of an unsafe state; the
      // hypothesis after the method still judges the run.
      return false;
    }
  }

  /** Rollbacks run with their own deadlines: the interrupt must not cancel them. */
  private async rollBack(): Promise<void> {
    if (this.target === undefined) return;
    const ctx = { ...this.context(), signal: new AbortController().signal };
    for (const [index, rollback] of this.drill.rollbacks.entries()) {
      const record = await runStep(
        {
          name: rollback.name,
          type: rollback.action.type,
          phase: 'rollback',
          input: rollback.action,
          timeoutMs: this.options.rollbackTimeoutMs ?? 60_000,
        },
        ctx,
        this.env(),
        (stepCtx) =>
          actOnce(prepare(rollback.action, stepCtx, `rollbacks[${index}].action`), stepCtx),
      );
      this.push(this.journal.rollbacks, record);
    }
  }

  /** Drill resources in reverse, then the target; errors are recorded, never thrown. */
  private async tearDown(): Promise<void> {
    const started = performance.now();
    const errors = await this.resources.stop();
    if (this.target) {
      await this.target.stop().catch((error: unknown) => errors.push(String(error)));
    }
    this.push(this.journal.setup, {
      name: 'stop target and drill resources',
      type: 'teardown',
      phase: 'teardown',
      status: errors.length > 0 ? 'failed' : 'succeeded',
      startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
      offsetMs: Math.round(started - this.originMs),
      durationMs: Math.round(performance.now() - started),
      ...(errors.length > 0
        ? { error: { code: ErrorCode.ProcessFailed, message: errors.join('; ') } }
        : {}),
    });
    if (errors.length > 0 && this.journal.error === undefined) {
      this.journal.error = {
        code: ErrorCode.ProcessFailed,
        message: `teardown: ${errors.join('; ')}`,
      };
    }
  }

  private interrupt(): void {
    const reason = this.options.signal?.reason;
    this.journal.interruption = {
      signal: typeof reason === 'string' ? reason : 'abort',
      at: new Date().toISOString(),
    };
    this.method.abort('interrupted');
  }

  private fail(error: unknown): void {
    this.journal.error = isWarrenError(error)
      ? { code: error.code, message: error.message }
      : {
          code: ErrorCode.ProcessFailed,
          message: error instanceof Error ? error.message : String(error),
        };
  }

  private deviate(line: string): void {
    this.journal.deviated = true;
    this.journal.deviations.push(line);
  }

  private finalStatus(): Journal['status'] {
    if (this.journal.interruption) return 'interrupted';
    if (this.journal.stopCondition) return 'aborted';
    return this.journal.error ? 'failed' : 'completed';
  }

  private finish(status: Journal['status']): Journal {
    this.journal.status = status;
    this.journal.endedAt = new Date().toISOString();
    this.journal.durationMs = Math.round(performance.now() - this.originMs);
    return this.journal;
  }

  private push(list: StepRecord[], record: StepRecord): void {
    list.push(record);
    this.options.onStep?.(record);
  }

  private context(): RunContext {
    return {
      signal: this.method.signal,
      vars: this.resources.vars,
      processes: this.resources.processes,
      proxies: this.proxies(),
      target: this.target ?? placeholderTarget(this.options.target),
    };
  }

  /** The drill's own proxies plus those the target put in front of its parts. */
  private proxies(): ReadonlyMap<string, FaultProxy> {
    const fromTarget = this.target?.proxies;
    if (fromTarget === undefined || fromTarget.size === 0) return this.resources.proxies;
    return new Map([...fromTarget, ...this.resources.proxies]);
  }

  private env(): StepEnv {
    return {
      originMs: this.originMs,
      collectLogs: async () => ({
        ...(this.target ? await this.target.recentLogs(20) : {}),
        ...this.resources.recentLogs(20),
        ...(await readLogTails(this.drill.logs ?? {}, 20)),
      }),
    };
  }
}

/** Stands in for the target before it started, so setup steps have a context. */
function placeholderTarget(target: Target): StartedTarget {
  return {
    description: target.description,
    vars: {},
    capabilities: new Set(),
    operations: {},
    recentLogs: async () => ({}),
    stop: async () => undefined,
  };
}

function newJournal(loaded: LoadedDrill, options: RunOptions): Journal {
  const now = new Date().toISOString();
  return {
    journalVersion: 1,
    drill: {
      title: loaded.drill.title,
      ...(loaded.drill.description ? { description: loaded.drill.description } : {}),
      file: loaded.file,
      blastRadius: loaded.drill.blastRadius,
      tags: loaded.drill.tags ?? [],
    },
    target: options.target.description,
    dryRun: options.dryRun ?? false,
    status: 'failed',
    deviated: false,
    deviations: [],
    startedAt: now,
    endedAt: now,
    durationMs: 0,
    steadyStates: { before: null, during: [], after: null },
    setup: [],
    run: [],
    rollbacks: [],
    measurements: {},
  };
}
