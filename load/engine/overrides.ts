/** Command-line overrides applied to any scenario (built-in or from a file). */
import type { ExecutorConfig } from './executors.js';
import { executorDurationMs } from './executors.js';
import type { Scenario } from './scenario.js';
import type { ThresholdSpec } from './thresholds.js';

export interface ScenarioOverrides {
  /** Base URL of the target. */
  targetUrl?: string;
  /**
   * Iterations per second. Constant rate: the rate. Ramping: stages are scaled so the peak
   * equals it. constant-vus: the number of VUs.
   */
  rate?: number;
  /** Total duration, ms; ramping stages are scaled proportionally. */
  durationMs?: number;
  /** Extra thresholds (added to the scenario's own). */
  thresholds?: ThresholdSpec[];
  workers?: number;
}

function overrideExecutor(executor: ExecutorConfig, o: ScenarioOverrides): ExecutorConfig {
  switch (executor.executor) {
    case 'constant-arrival-rate':
      return {
        ...executor,
        rate: o.rate ?? executor.rate,
        durationMs: o.durationMs ?? executor.durationMs,
      };
    case 'constant-vus':
      return {
        ...executor,
        vus: o.rate ?? executor.vus,
        durationMs: o.durationMs ?? executor.durationMs,
      };
    case 'ramping-arrival-rate': {
      const peak = Math.max(executor.startRate, ...executor.stages.map((s) => s.target));
      const rateScale = o.rate !== undefined && peak > 0 ? o.rate / peak : 1;
      const timeScale =
        o.durationMs !== undefined ? o.durationMs / executorDurationMs(executor) : 1;
      return {
        ...executor,
        startRate: executor.startRate * rateScale,
        stages: executor.stages.map((s) => ({
          target: s.target * rateScale,
          durationMs: Math.max(1, Math.round(s.durationMs * timeScale)),
        })),
      };
    }
  }
}

/** A copy of `scenario` with the overrides applied. */
export function applyOverrides(scenario: Scenario, o: ScenarioOverrides): Scenario {
  const result: Scenario = {
    ...scenario,
    executor: overrideExecutor(scenario.executor, o),
    target: o.targetUrl ? { ...scenario.target, url: o.targetUrl } : scenario.target,
    thresholds: [...scenario.thresholds, ...(o.thresholds ?? [])],
  };
  if (o.workers !== undefined) result.workers = o.workers;
  return result;
}
