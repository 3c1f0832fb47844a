/** Shared helpers for chaos tests: small drills built in code, a recording target. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { validateDrill, type LoadedDrill } from '../load.js';
import type { Drill } from '../model.js';
import type { Target, TargetDescription } from '../targets/target.js';

/** A drill whose steady state is one function probe that must return "ok". */
export function drillOf(
  overrides: Partial<Drill> & { steady?: () => Promise<unknown> },
): LoadedDrill {
  const { steady, ...rest } = overrides;
  const drill: Drill = {
    title: 'test drill',
    blastRadius: 'this test process only',
    steadyState: {
      title: 'steady returns ok',
      probes: [
        {
          name: 'steady',
          provider: { type: 'function', run: steady ?? (async () => 'ok') },
          tolerance: { type: 'exact', value: 'ok' },
        },
      ],
    },
    method: [{ type: 'pause', name: 'short pause', durationMs: 1 }],
    rollbacks: [],
    ...rest,
  };
  return { drill: validateDrill(drill, 'test drill'), file: 'test drill' };
}

/** A function action that counts its calls. */
export function counter(): { calls: number; run: () => Promise<unknown> } {
  const state = {
    calls: 0,
    run: async () => {
      state.calls += 1;
      return { calls: state.calls };
    },
  };
  return state;
}

/**
 * A bare non-production target with no parts (the real local target boots a broker): every
 * capability is reported missing. `description` overrides, e.g. for the staging guard.
 */
export function testTarget(description?: Partial<TargetDescription>): Target {
  const full: TargetDescription = {
    kind: 'local',
    name: 'bare',
    nonProduction: true,
    ...description,
  };
  return {
    description: full,
    missing: async (wanted) =>
      Object.fromEntries(wanted.map((name) => [name, 'not in the bare test target'])),
    start: async () => ({
      description: full,
      vars: {},
      capabilities: new Set(),
      operations: {},
      recentLogs: async () => ({}),
      stop: async () => undefined,
    }),
  };
}

/** A fresh temporary folder. */
export function tempDir(prefix = 'warren-chaos-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
