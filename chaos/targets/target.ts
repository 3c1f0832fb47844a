/**
 * Targets: where a drill runs. Every target must be marked non-production before any fault
 * reaches it (the staging guard); the built-in local target is non-production by construction.
 */
import { ErrorCode, WarrenError } from '../../lib/errors.js';

import type { FaultProxy } from '../faults/proxy.js';
import type { Vars } from '../template.js';

export type TargetKind = 'local' | 'staging' | 'amazon-mq';

/** What the journal records about a target; never credentials. */
export interface TargetDescription {
  kind: TargetKind;
  name: string;
  nonProduction: boolean;
}

/**
 * One thing a target can do or observe, by name (`auth.stop`, `amqp.attempt`, `idp.rotate`):
 * drills call it through the `target` action and provider. `args` come from the drill file.
 */
export type TargetOperation = (
  args: Readonly<Record<string, unknown>>,
  signal: AbortSignal,
) => Promise<unknown>;

/**
 * Well-known operations. `auth.stop`, `auth.pause`, `auth.restore` (kill / SIGSTOP / start or
 * SIGCONT, or the user's commands on staging); `broker.restart`; `amqp.attempt` with args
 * `{ principal, vhost?, operation?, session?, timeoutMs }`.
 */
export const wellKnownOperations = [
  'auth.stop',
  'auth.pause',
  'auth.restore',
  'broker.restart',
  'amqp.attempt',
] as const;

/** A target after setup: its capabilities, placeholder values and teardown. */
export interface StartedTarget {
  readonly description: TargetDescription;
  /** Published as `${target.NAME}` in drills. */
  readonly vars: Vars;
  /** Capability names drills may require: `auth`, `broker`, `amqp`, `idp`, `ca`, ... */
  readonly capabilities: ReadonlySet<string>;
  /** What drills may ask of this target, by name. */
  readonly operations: Readonly<Record<string, TargetOperation>>;
  /** Fault proxies the target put in front of its parts (local: `auth`, before the service). */
  readonly proxies?: ReadonlyMap<string, FaultProxy>;
  /** Recent lines of broker and service logs, attached to a failed step: source → lines. */
  recentLogs(count: number): Promise<Record<string, string[]>>;
  /** Tears down whatever `start` set up. Always called, also after failures and interrupts. */
  stop(): Promise<void>;
}

export interface Target {
  readonly description: TargetDescription;
  /**
   * Why capabilities are unavailable, by name (`broker: waits on harness/broker`), so a drill
   * that needs them can say so without starting anything.
   */
  missing(capabilities: readonly string[]): Promise<Record<string, string>>;
  start(signal: AbortSignal): Promise<StartedTarget>;
}

/**
 * The staging guard: refuses with WARREN_ERR_UNSAFE_TARGET unless the target was explicitly
 * marked non-production. Called before anything, dry runs included.
 */
export function assertNonProduction(target: TargetDescription): void {
  if (target.nonProduction === true) return;
  throw new WarrenError(
    ErrorCode.UnsafeTarget,
    `target "${target.name}" (${target.kind}) is not marked non-production; ` +
      'add "nonProduction: true" to the target file if faults may really be injected there',
  );
}
