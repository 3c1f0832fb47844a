/**
 * Targets: where a drill runs. Every target must be marked non-production before any fault
 * reaches it (the staging guard); the built-in local target is non-production by construction.
 */
import { ErrorCode, WarrenError } from '../../lib/errors.js';

import type { Vars } from '../template.js';

export type TargetKind = 'local' | 'staging' | 'amazon-mq';

/** What the journal records about a target; never credentials. */
export interface TargetDescription {
  kind: TargetKind;
  name: string;
  nonProduction: boolean;
}

/** The target's auth service, as a fault surface. */
export interface AuthControl {
  /** Down: killed, or the user's stop command. */
  stop(signal: AbortSignal): Promise<unknown>;
  /** Frozen: SIGSTOP, or the user's pause command. */
  pause(signal: AbortSignal): Promise<unknown>;
  /** Back to serving: start or SIGCONT, or the user's restore command. */
  restore(signal: AbortSignal): Promise<unknown>;
}

/** The broker, as a fault surface. */
export interface BrokerControl {
  /** Restarts the node (Amazon MQ: RebootBroker) and resolves once it serves again. */
  restart(signal: AbortSignal): Promise<unknown>;
}

/** A login or operation attempt by a named principal (see the `amqp` provider). */
export interface AmqpAttempt {
  principal: string;
  vhost?: string;
  operation?: 'connect' | 'channel' | 'publish' | 'consume';
  timeoutMs: number;
}

/** A target after setup: its capabilities, placeholder values and teardown. */
export interface StartedTarget {
  readonly description: TargetDescription;
  /** Published as `${target.NAME}` in drills. */
  readonly vars: Vars;
  /** Capability names drills may require: `auth`, `broker`, `amqp`, `idp`, `ca`, ... */
  readonly capabilities: ReadonlySet<string>;
  readonly auth?: AuthControl;
  readonly broker?: BrokerControl;
  /** One AMQP attempt with a typed outcome; present when the target has `amqp`. */
  amqp?(attempt: AmqpAttempt, signal: AbortSignal): Promise<unknown>;
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
