/**
 * The local target (default): the project's own brokers, reference service and test IdP,
 * started and torn down by the drill. Each part is a capability; a drill that requires a part
 * this machine cannot provide fails to run (exit 2) and says which part it waits on.
 */
import type { StartedTarget, Target, TargetDescription } from './target.js';

export interface LocalTargetOptions {
  /** Name in the journal; default `local`. */
  name?: string;
}

/** Capabilities and the part of the project each waits on while it is not wired in. */
const pending: Record<string, string> = {
  auth: 'waits on reference-auth wiring in chaos/targets/local.ts',
  broker: 'waits on harness/broker wiring in chaos/targets/local.ts',
  amqp: 'waits on harness/amqp',
  idp: 'waits on harness/idp wiring in chaos/targets/local.ts',
  ca: 'waits on certs/ wiring in chaos/targets/local.ts',
};

/** The default target: loopback only, non-production by construction. */
export function localTarget(options: LocalTargetOptions = {}): Target {
  const description: TargetDescription = {
    kind: 'local',
    name: options.name ?? 'local',
    nonProduction: true,
  };
  return {
    description,
    missing: async (capabilities) => {
      const reasons: Record<string, string> = {};
      for (const name of capabilities)
        reasons[name] = pending[name] ?? `unknown capability "${name}"`;
      return reasons;
    },
    start: async (): Promise<StartedTarget> => ({
      description,
      vars: {},
      capabilities: new Set(),
      recentLogs: async () => ({}),
      stop: async () => undefined,
    }),
  };
}
