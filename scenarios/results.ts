/**
 * What a run produces: one result per scenario, mode and variant, with a transcript whose
 * secrets are already redacted (tokens and passwords never reach a report).
 */
import type { Category, HttpMethod, Mode, RabbitmqVersion } from './model.js';

/** `passed`/`failed`/`skipped`; `xfail` is a failure listed in the expected-failures file. */
export type ResultStatus = 'passed' | 'failed' | 'skipped' | 'xfail';

/** One step as it happened. */
export interface TranscriptEntry {
  step: number;
  action: string;
  /** The request line as sent (method, path, query or body), secrets redacted. */
  request?: string;
  status?: number;
  /** The reply body, JSON-quoted so `allow\n` stays visible. */
  reply?: string;
  expected?: string;
  observed?: string;
  ok: boolean;
  /** Why the step failed, or an informational note. */
  detail?: string;
  latencyMs?: number;
  /** Spy mode: the calls the broker made to the backend during this step, passwords redacted. */
  calls?: string[];
}

export interface ScenarioResult {
  id: string;
  category: Category;
  title: string;
  reference: string;
  tags: string[];
  mode: Mode;
  /** Null in protocol mode: no broker was involved. */
  rabbitmq: RabbitmqVersion | null;
  method: HttpMethod | null;
  status: ResultStatus;
  /** What the scenario expected, step by step, in one line. */
  expected: string;
  /** What was observed, step by step, in one line. */
  observed: string;
  /** Why it failed or was skipped. */
  reason?: string;
  durationMs: number;
  transcript: TranscriptEntry[];
  source: string;
}

/** Summary counts of a run. */
export interface RunSummary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  /** Failures listed as expected: they do not fail the run. */
  expectedFailures: number;
}

export function summarize(results: readonly ScenarioResult[]): RunSummary {
  const count = (status: ResultStatus): number => results.filter((r) => r.status === status).length;
  return {
    total: results.length,
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    expectedFailures: count('xfail'),
  };
}

/** A variant's short label for progress lines and JUnit names: `GET`, `4.0`, `4.0 POST`. */
export function variantLabel(result: Pick<ScenarioResult, 'mode' | 'rabbitmq' | 'method'>): string {
  return [result.mode, result.rabbitmq, result.method].filter((part) => part !== null).join(' ');
}
