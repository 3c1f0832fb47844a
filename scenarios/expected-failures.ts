/**
 * Expected-failures files: known gaps of a target that should not fail its run. Listed failures
 * become `xfail`; a listed scenario that passes fails the run, so the list cannot go stale.
 */
import { readFileSync } from 'node:fs';

import { parse } from 'yaml';
import { z } from 'zod';

import { ErrorCode, WarrenError } from '../lib/errors.js';
import { METHODS, MODES, RABBITMQ_VERSIONS } from './model.js';
import type { ScenarioResult } from './results.js';

const entrySchema = z.strictObject({
  /** Scenario id, or a category name to list every scenario of it. */
  id: z.string().min(1),
  /** Limit the entry to one mode, method or broker version; default: all. */
  mode: z.enum(MODES).optional(),
  method: z.enum(METHODS).optional(),
  rabbitmq: z.enum(RABBITMQ_VERSIONS).optional(),
  /** Why this failure is accepted (a ticket, a date); shown in reports. */
  reason: z.string().min(1),
});
export type ExpectedFailure = z.infer<typeof entrySchema>;

const fileSchema = z.strictObject({ expectedFailures: z.array(entrySchema) });

/** Loads and validates an expected-failures YAML file. */
export function loadExpectedFailures(file: string): ExpectedFailure[] {
  let data: unknown;
  try {
    data = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new WarrenError(ErrorCode.BadInput, `--expected-failures ${file}: cannot read it`, {
      cause: error,
    });
  }
  const result = fileSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`,
    );
    throw new WarrenError(
      ErrorCode.BadInput,
      `--expected-failures ${file}:\n${problems.join('\n')}`,
    );
  }
  return result.data.expectedFailures;
}

function matches(entry: ExpectedFailure, result: ScenarioResult): boolean {
  return (
    (entry.id === result.id || entry.id === result.category) &&
    (entry.mode === undefined || entry.mode === result.mode) &&
    (entry.method === undefined || entry.method === result.method) &&
    (entry.rabbitmq === undefined || entry.rabbitmq === result.rabbitmq)
  );
}

/** Applies the list to one result: failed → xfail, passed → failed ("expected to fail"). */
export function applyExpectedFailures(
  result: ScenarioResult,
  entries: readonly ExpectedFailure[],
): ScenarioResult {
  const entry = entries.find((candidate) => matches(candidate, result));
  if (entry === undefined) return result;
  if (result.status === 'failed') {
    return {
      ...result,
      status: 'xfail',
      reason: `${result.reason ?? ''} (expected: ${entry.reason})`,
    };
  }
  if (result.status === 'passed') {
    return {
      ...result,
      status: 'failed',
      reason: `listed as an expected failure (${entry.reason}) but passed: remove it from the list`,
    };
  }
  return result;
}
