/** What every probe, action and TypeScript drill function receives while a drill runs. */
import type { FaultProxy } from './faults/proxy.js';
import type { ManagedProcess } from './faults/process.js';
import type { StartedTarget } from './targets/target.js';
import type { Vars } from './template.js';

export interface RunContext {
  /** Aborted on a stop condition, an interrupt (SIGINT/SIGTERM) or the step's timeout. */
  readonly signal: AbortSignal;
  /** Placeholder values: `target.*`, `ports.*`, `proxies.*`, `processes.*`. */
  readonly vars: Vars;
  readonly processes: ReadonlyMap<string, ManagedProcess>;
  readonly proxies: ReadonlyMap<string, FaultProxy>;
  readonly target: StartedTarget;
}
