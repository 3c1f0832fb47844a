import { describe, expect, it } from 'vitest';

import { builtinScenario, builtinScenarios } from '../builtin/index.js';
import { executorDurationMs } from '../engine/executors.js';
import { applyOverrides } from '../engine/overrides.js';

describe('built-in scenarios', () => {
  it.each(Object.keys(builtinScenarios))('%s validates and declares thresholds', (name) => {
    const scenario = builtinScenario(name);
    expect(scenario.name).toBe(name);
    expect(scenario.thresholds.length).toBeGreaterThan(0);
  });

  it('scales a ramping scenario to the requested peak rate and duration', () => {
    const scenario = applyOverrides(builtinScenario('deploy-storm'), {
      rate: 100,
      durationMs: 15_000,
      targetUrl: 'http://127.0.0.1:9999',
    });
    if (scenario.executor.executor !== 'ramping-arrival-rate') throw new Error('not ramping');
    expect(Math.max(...scenario.executor.stages.map((s) => s.target))).toBe(100);
    expect(executorDurationMs(scenario.executor)).toBeCloseTo(15_000, -2);
    expect(scenario.target.url).toBe('http://127.0.0.1:9999');
  });

  it('names the choices when the scenario is unknown', () => {
    expect(() => builtinScenario('storm')).toThrow(/decision-storm, connect-storm/);
  });
});
