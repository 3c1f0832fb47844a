/**
 * Scenario definitions, as TypeScript objects or YAML files, in k6's vocabulary
 * (executor, rate, timeUnit, duration, stages, maxVUs, vus, thresholds), validated once and
 * turned into the engine's millisecond-based form. Errors name the field and the fix.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';

import { ErrorCode, WarrenError } from '../../lib/errors.js';
import { targetSchema, type TargetSpec } from '../targets/spec.js';
import { parseDurationMs } from './duration.js';
import type { ExecutorConfig } from './executors.js';
import { compileThresholds, type ThresholdSpec } from './thresholds.js';

const duration = z.union([z.string(), z.number()]);

const thresholdEntry = z.union([
  z.string(),
  z.object({ threshold: z.string(), abortOnFail: z.boolean().default(false) }),
]);

/** Limits of the generator self-check; beyond any of them the run is INVALID. */
export const selfCheckSchema = z
  .object({
    /** Event-loop delay p99 in any worker, ms; default 50. */
    maxEventLoopLagMs: z.number().positive().default(50),
    /** Iterations started late (actual − intended) at p95, ms; default 10. */
    maxStartLagP95Ms: z.number().positive().default(10),
    /** Share of scheduled iterations dropped (all VUs busy); default 0.01. */
    maxDroppedRatio: z.number().min(0).default(0.01),
    /** Process CPU as a share of all cores, averaged over the run; default 0.9. */
    maxCpuShare: z.number().positive().default(0.9),
    /** Generator-side socket errors (EADDRNOTAVAIL, EMFILE, ...); default 0. */
    maxSocketErrors: z.number().int().min(0).default(0),
  })
  .default({
    maxEventLoopLagMs: 50,
    maxStartLagP95Ms: 10,
    maxDroppedRatio: 0.01,
    maxCpuShare: 0.9,
    maxSocketErrors: 0,
  });

export type SelfCheckLimits = z.infer<typeof selfCheckSchema>;

const common = {
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case words joined by "-"'),
  description: z.string().default(''),
  target: targetSchema,
  thresholds: z.record(z.string(), z.array(thresholdEntry)).default({}),
  selfCheck: selfCheckSchema,
  /** Worker threads; default: one per core. */
  workers: z.number().int().positive().optional(),
  /** Tags added to every sample. */
  tags: z.record(z.string(), z.string()).default({}),
  /** Time iterations in flight at the end may finish (k6's gracefulStop); default 30s. */
  gracefulStop: duration.default('30s'),
};

/** The scenario file format (see load/README.md). */
export const scenarioFileSchema = z.discriminatedUnion('executor', [
  z.object({
    ...common,
    executor: z.literal('constant-arrival-rate'),
    rate: z.number().positive(),
    timeUnit: duration.default('1s'),
    duration,
    preAllocatedVUs: z.number().int().positive().optional(),
    maxVUs: z.number().int().positive(),
  }),
  z.object({
    ...common,
    executor: z.literal('ramping-arrival-rate'),
    startRate: z.number().min(0).default(0),
    timeUnit: duration.default('1s'),
    stages: z.array(z.object({ target: z.number().min(0), duration })).min(1),
    preAllocatedVUs: z.number().int().positive().optional(),
    maxVUs: z.number().int().positive(),
  }),
  z.object({
    ...common,
    executor: z.literal('constant-vus'),
    vus: z.number().int().positive(),
    duration,
  }),
]);

export type ScenarioFile = z.input<typeof scenarioFileSchema>;

/** A validated scenario in engine units. Plain data: it crosses into workers and reports. */
export interface Scenario {
  name: string;
  description: string;
  executor: ExecutorConfig;
  target: TargetSpec;
  thresholds: ThresholdSpec[];
  selfCheck: SelfCheckLimits;
  workers?: number;
  tags: Record<string, string>;
  /** Iterations still running this long after the schedule ends are interrupted, ms. */
  gracefulStopMs: number;
}

/** Validates a scenario object (from TypeScript or parsed YAML); `source` names it in errors. */
export function defineScenario(input: unknown, source = 'scenario'): Scenario {
  const parsed = scenarioFileSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    throw new WarrenError(ErrorCode.BadInput, `${source}: ${problems}`);
  }
  const file = parsed.data;
  const scenario: Scenario = {
    name: file.name,
    description: file.description,
    executor: toExecutor(file, source),
    target: file.target,
    thresholds: toThresholdSpecs(file.thresholds),
    selfCheck: file.selfCheck,
    tags: file.tags,
    gracefulStopMs: parseDurationMs(file.gracefulStop, `${source}: gracefulStop`),
  };
  if (file.workers !== undefined) scenario.workers = file.workers;
  compileThresholds(scenario.thresholds);
  return scenario;
}

function toExecutor(file: z.output<typeof scenarioFileSchema>, source: string): ExecutorConfig {
  switch (file.executor) {
    case 'constant-arrival-rate':
      return {
        executor: file.executor,
        rate: file.rate,
        timeUnitMs: parseDurationMs(file.timeUnit, `${source}: timeUnit`),
        durationMs: parseDurationMs(file.duration, `${source}: duration`),
        maxVUs: file.maxVUs,
      };
    case 'ramping-arrival-rate':
      return {
        executor: file.executor,
        startRate: file.startRate,
        timeUnitMs: parseDurationMs(file.timeUnit, `${source}: timeUnit`),
        stages: file.stages.map((stage, i) => ({
          target: stage.target,
          durationMs: parseDurationMs(stage.duration, `${source}: stages.${i}.duration`),
        })),
        maxVUs: file.maxVUs,
      };
    case 'constant-vus':
      return {
        executor: file.executor,
        vus: file.vus,
        durationMs: parseDurationMs(file.duration, `${source}: duration`),
      };
  }
}

function toThresholdSpecs(
  declared: Record<string, Array<string | { threshold: string; abortOnFail: boolean }>>,
): ThresholdSpec[] {
  return Object.entries(declared).flatMap(([metric, entries]) =>
    entries.map((entry) =>
      typeof entry === 'string'
        ? { metric, condition: entry }
        : { metric, condition: entry.threshold, abortOnFail: entry.abortOnFail },
    ),
  );
}

/** Loads a scenario from a YAML (.yaml/.yml) or JSON file. */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new WarrenError(ErrorCode.BadInput, `scenario file ${path} cannot be read`, {
      cause: error,
    });
  }
  return defineScenario(parseYaml(text), path);
}
