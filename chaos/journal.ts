/**
 * The journal of one drill run: what was checked and done, when, with what output, and the
 * verdict. Written to `reports/chaos/latest/journal.json`; JUnit and HTML are rendered from it.
 * Everything in it has been through `redact` (template.ts): no credentials, no tokens.
 */
import type { ToleranceResult } from './tolerance.js';
import type { TargetDescription } from './targets/target.js';

/** completed: ran to the end; failed: could not run (setup, steady state before, a step
 * error); aborted: a stop condition fired; interrupted: SIGINT/SIGTERM. */
export type DrillStatus = 'completed' | 'failed' | 'aborted' | 'interrupted';

export type Phase =
  'setup' | 'before' | 'method' | 'during' | 'after' | 'stop-condition' | 'rollback' | 'teardown';

export type StepStatus = 'succeeded' | 'deviated' | 'failed' | 'interrupted' | 'skipped';

export interface StepRecord {
  name: string;
  /** Activity type (`action`, `probe`, `pause`, `measure`, ...) or `setup`. */
  type: string;
  phase: Phase;
  status: StepStatus;
  startedAt: string;
  /** Milliseconds since the drill started, for the timeline. */
  offsetMs: number;
  durationMs: number;
  /** The step as run, placeholders filled, secrets redacted, functions shown as `[function]`. */
  input?: unknown;
  output?: unknown;
  tolerance?: ToleranceResult;
  error?: { code: string; message: string };
  /** Recent broker, service and process log lines, attached to failed or deviated steps. */
  logs?: Record<string, string[]>;
}

export interface HypothesisRecord {
  title: string;
  met: boolean;
  at: string;
  probes: StepRecord[];
}

/** A time-to-effect figure from a `measure` step. */
export interface Measurement {
  reached: boolean;
  /** `null` when the effect was not reached before the deadline. */
  elapsedMs: number | null;
  attempts: number;
  deadlineMs: number;
  sloMs?: number;
}

export interface Journal {
  /** Format version of this file. */
  journalVersion: 1;
  drill: {
    title: string;
    description?: string;
    file: string;
    blastRadius: string;
    tags: string[];
  };
  target: TargetDescription;
  dryRun: boolean;
  status: DrillStatus;
  /** True when any hypothesis, tolerance, SLO or stop condition was missed. */
  deviated: boolean;
  /** One line per miss, in order. */
  deviations: string[];
  startedAt: string;
  endedAt: string;
  durationMs: number;
  steadyStates: {
    before: HypothesisRecord | null;
    during: HypothesisRecord[];
    after: HypothesisRecord | null;
  };
  /** Starting the target and drill resources, and (last) stopping them again. */
  setup: StepRecord[];
  run: StepRecord[];
  rollbacks: StepRecord[];
  measurements: Record<string, Measurement>;
  stopCondition?: { probe: string; detail: string; at: string; checks: number };
  interruption?: { signal: string; at: string };
  /** Why the drill could not run or finish, when status is `failed`. */
  error?: { code: string; message: string };
}

/** 0 the hypothesis held, 1 deviated, 2 the drill could not run (or did not finish). */
export function exitCodeFor(journal: Pick<Journal, 'status' | 'deviated'>): 0 | 1 | 2 {
  if (journal.deviated) return 1;
  return journal.status === 'completed' ? 0 : 2;
}
