/**
 * The conformance runner: picks the scenarios, expands their variants (mode, method, broker
 * version), runs independent ones concurrently and serial ones (IdP changes, storms) one by one
 * afterwards, evaluates run-wide scenarios (p95 decision latency) last, and yields one result
 * per scenario and variant.
 */
import { performance } from 'node:perf_hooks';

import { ErrorCode, WarrenError } from '../lib/errors.js';
import { applyExpectedFailures } from './expected-failures.js';
import type { ExpectedFailure } from './expected-failures.js';
import type { IdpControl } from './identity.js';
import { METHODS, RABBITMQ_VERSIONS, modesOf, stepAction } from './model.js';
import type { HttpMethod, Mode, RabbitmqVersion, Scenario } from './model.js';
import type { Profile } from './profile.js';
import { BackendClient } from './protocol/client.js';
import { runProtocolScenario } from './protocol/run.js';
import type { ScenarioResult, TranscriptEntry } from './results.js';

/** Runs broker-mode scenarios; supplied by scenarios/broker when brokers are available. */
export type BrokerModeRunner = (
  scenario: Scenario,
  version: RabbitmqVersion,
  mode: 'broker' | 'spy',
) => Promise<{
  status: 'passed' | 'failed' | 'skipped';
  reason?: string;
  transcript: TranscriptEntry[];
}>;

export interface RunOptions {
  scenarios: readonly Scenario[];
  profile: Profile;
  /** Base URL of the backend under test, e.g. `http://127.0.0.1:8600`. */
  backendUrl: string;
  idp: IdpControl;
  /** Modes to run; default protocol only. */
  modes?: readonly Mode[];
  /** Broker versions for broker mode; default both. */
  rabbitmq?: readonly RabbitmqVersion[];
  /** Broker-mode runner; without it broker scenarios are skipped with a reason. */
  broker?: BrokerModeRunner;
  /** Scenarios run at once in protocol mode; default 8. */
  concurrency?: number;
  expectedFailures?: readonly ExpectedFailure[];
  /** Called once per finished result, for progress lines. */
  onResult?: (result: ScenarioResult) => void;
  /** Backend request timeout, ms; default 15000 as the broker's. */
  requestTimeoutMs?: number;
}

/** One scenario in one mode and variant. */
export interface Job {
  scenario: Scenario;
  mode: Mode;
  method: HttpMethod | null;
  rabbitmq: RabbitmqVersion | null;
}

/** Keeps `only` (scenario ids or category names); all when empty. Unknown names throw. */
export function selectScenarios(
  scenarios: readonly Scenario[],
  only: readonly string[],
): Scenario[] {
  if (only.length === 0) return [...scenarios];
  const known = new Set(scenarios.flatMap((scenario) => [scenario.id, scenario.category]));
  const unknown = only.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    const names = unknown.join(', ');
    throw new WarrenError(ErrorCode.BadOption, `--only ${names}: no such scenario id or category`);
  }
  return scenarios.filter(
    (scenario) => only.includes(scenario.id) || only.includes(scenario.category),
  );
}

function expandJobs(scenarios: readonly Scenario[], options: RunOptions): Job[] {
  const modes = options.modes ?? ['protocol'];
  const versions = options.rabbitmq ?? RABBITMQ_VERSIONS;
  const jobs: Job[] = [];
  for (const scenario of scenarios) {
    for (const mode of modesOf(scenario).filter((candidate) => modes.includes(candidate))) {
      if (scenario.aggregate !== undefined) {
        // Run-wide checks are evaluated once, over every request of every variant.
        jobs.push({ scenario, mode, method: null, rabbitmq: null });
      } else if (mode === 'protocol') {
        for (const method of scenario.variants.method ?? METHODS) {
          jobs.push({ scenario, mode, method, rabbitmq: null });
        }
      } else {
        const wanted = scenario.variants.rabbitmq ?? RABBITMQ_VERSIONS;
        for (const version of versions.filter((v) => wanted.includes(v))) {
          jobs.push({ scenario, mode, method: null, rabbitmq: version });
        }
      }
    }
  }
  return jobs;
}

function describeSteps(
  scenario: Scenario,
  pick: (entry: TranscriptEntry) => string | undefined,
  transcript: TranscriptEntry[],
): string {
  const parts = transcript
    .map((entry) => pick(entry))
    .filter((text): text is string => text !== undefined);
  return parts.length > 0 ? parts.join(' → ') : scenario.when.map(stepAction).join(' → ');
}

function expectedOf(scenario: Scenario): string {
  return scenario.when
    .map((step) => step.expect ?? step.outcome)
    .filter((value) => value !== undefined)
    .map((value) => (typeof value === 'string' ? value : `allow [${value.allow.tags.join(' ')}]`))
    .join(' → ');
}

/** `publish ok: resource, topic` — which backend paths one operation cost, in order. */
function spySummary(entry: TranscriptEntry): string {
  const paths = (entry.calls ?? []).map((call) => /\/(\w+) /.exec(call)?.[1] ?? '?');
  return `${entry.action} ${entry.observed ?? ''}: ${paths.length === 0 ? 'no calls' : paths.join(', ')}`;
}

/** p95 of a sample, nearest rank. */
export function percentile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, rank)] as number;
}

/** Runs the selected scenarios and returns every result (after expected failures). */
export async function runConformance(options: RunOptions): Promise<ScenarioResult[]> {
  const client = new BackendClient({
    baseUrl: options.backendUrl,
    timeoutMs: options.requestTimeoutMs ?? 15_000,
  });
  const latencies: number[] = [];
  const results: ScenarioResult[] = [];
  const finish = (result: ScenarioResult): void => {
    const final = applyExpectedFailures(result, options.expectedFailures ?? []);
    results.push(final);
    options.onResult?.(final);
  };
  const runJob = async (job: Job): Promise<void> => {
    finish(await executeJob(job, options, client, (ms) => latencies.push(ms)));
  };

  try {
    const jobs = expandJobs(options.scenarios, options);
    const aggregates = jobs.filter((job) => job.scenario.aggregate !== undefined);
    const inPhase = (phase: Scenario['phase']): Job[] =>
      jobs.filter((job) => job.scenario.phase === phase && job.scenario.aggregate === undefined);
    const isProtocol = (job: Job): boolean => job.mode === 'protocol';
    for (const job of inPhase('first').filter(isProtocol)) await runJob(job);
    await runPool(
      slowFirst(inPhase('parallel').filter(isProtocol)),
      options.concurrency ?? 8,
      runJob,
    );
    for (const job of inPhase('last').filter(isProtocol)) await runJob(job);
    for (const job of jobs.filter((candidate) => !isProtocol(candidate))) await runJob(job);
    for (const job of aggregates) {
      finish(
        job.scenario.aggregate === 'get-post-parity'
          ? evaluateParity(job, results)
          : evaluateAggregate(job, options.profile, latencies),
      );
    }
  } finally {
    client.close();
  }
  return results;
}

/** Scenarios that wait (expiry, JWKS refetch cooldowns) start first, so they overlap the rest. */
function slowFirst(jobs: readonly Job[]): Job[] {
  const waits = (job: Job): boolean =>
    job.scenario.when.some(
      (step) => step.wait !== undefined || step.eventuallyWithinSeconds !== undefined,
    );
  return [...jobs.filter(waits), ...jobs.filter((job) => !waits(job))];
}

async function runPool<T>(
  items: readonly T[],
  size: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

async function executeJob(
  job: Job,
  options: RunOptions,
  client: BackendClient,
  recordLatency: (ms: number) => void,
): Promise<ScenarioResult> {
  const started = performance.now();
  let outcome: {
    status: 'passed' | 'failed' | 'skipped';
    reason?: string;
    transcript: TranscriptEntry[];
  };
  const notApplicable = options.profile.notApplicable.find((entry) => entry.id === job.scenario.id);
  try {
    if (notApplicable !== undefined) {
      outcome = {
        status: 'skipped',
        reason: `not applicable to this target: ${notApplicable.reason}`,
        transcript: [],
      };
    } else if (job.mode === 'protocol') {
      outcome = await runProtocolScenario(job.scenario, {
        client,
        profile: options.profile,
        idp: options.idp,
        method: job.method ?? 'GET',
        recordLatency,
      });
    } else if (options.broker === undefined || job.rabbitmq === null) {
      outcome = {
        status: 'skipped',
        reason: 'broker mode is not available in this run',
        transcript: [],
      };
    } else {
      outcome = await options.broker(
        job.scenario,
        job.rabbitmq,
        job.mode === 'spy' ? 'spy' : 'broker',
      );
    }
  } catch (error) {
    outcome = {
      status: 'failed',
      reason: `runner error: ${error instanceof Error ? error.message : String(error)}`,
      transcript: [],
    };
  } finally {
    if (job.scenario.phase !== 'parallel')
      await options.idp.setJwks('normal').catch(() => undefined);
  }
  return toResult(job, outcome, performance.now() - started);
}

function toResult(
  job: Job,
  outcome: {
    status: 'passed' | 'failed' | 'skipped';
    reason?: string;
    transcript: TranscriptEntry[];
  },
  durationMs: number,
): ScenarioResult {
  const scenario = job.scenario;
  return {
    id: scenario.id,
    category: scenario.category,
    title: scenario.title,
    reference: scenario.reference,
    tags: scenario.tags,
    mode: job.mode,
    rabbitmq: job.rabbitmq,
    method: job.method,
    status: outcome.status,
    expected: expectedOf(scenario),
    observed:
      job.mode === 'spy'
        ? describeSteps(scenario, spySummary, outcome.transcript)
        : describeSteps(scenario, (entry) => entry.observed, outcome.transcript),
    ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
    durationMs: Math.round(durationMs * 10) / 10,
    transcript: outcome.transcript,
    source: scenario.source,
  };
}

/**
 * GET/POST parity over the whole run: the broker may use either method (RABBITMQ.md §1), so a
 * scenario that reads differently over GET and POST is a defect even when one of them passes.
 */
export function evaluateParity(job: Job, results: readonly ScenarioResult[]): ScenarioResult {
  const byId = new Map<string, Partial<Record<'GET' | 'POST', ScenarioResult>>>();
  for (const result of results) {
    if (result.mode !== 'protocol' || result.method === null || result.status === 'skipped')
      continue;
    byId.set(result.id, { ...byId.get(result.id), [result.method]: result });
  }
  const differing: string[] = [];
  let compared = 0;
  for (const [id, pair] of byId) {
    if (pair.GET === undefined || pair.POST === undefined) continue;
    compared += 1;
    if (pair.GET.observed !== pair.POST.observed) {
      differing.push(`${id}: GET ${pair.GET.observed} | POST ${pair.POST.observed}`);
    }
  }
  const ok = differing.length === 0;
  const observed = `${differing.length} of ${compared} scenarios differ between GET and POST`;
  const result = toResult(
    job,
    {
      status: compared === 0 ? 'skipped' : ok ? 'passed' : 'failed',
      ...(compared === 0
        ? { reason: 'no scenario ran over both GET and POST' }
        : ok
          ? {}
          : {
              reason: `GET and POST differ: ${differing.map((line) => line.split(':')[0]).join(', ')}`,
            }),
      transcript: [
        {
          step: 1,
          action: 'aggregate',
          expected: 'the same observation over GET and POST',
          observed,
          ok,
          ...(ok ? {} : { detail: differing.join('\n') }),
        },
      ],
    },
    0,
  );
  return { ...result, expected: 'GET = POST', observed };
}

function evaluateAggregate(
  job: Job,
  profile: Profile,
  latencies: readonly number[],
): ScenarioResult {
  const p95 = percentile(latencies, 0.95);
  const slo = profile.sloP95Ms;
  const enough = latencies.length >= 20;
  const ok = enough && p95 <= slo;
  const observed = `p95 ${p95.toFixed(2)} ms over ${latencies.length} decisions`;
  const result = toResult(
    job,
    {
      status: enough ? (ok ? 'passed' : 'failed') : 'skipped',
      ...(enough
        ? ok
          ? {}
          : { reason: `decision p95 ${p95.toFixed(2)} ms exceeds the SLO of ${slo} ms` }
        : { reason: `only ${latencies.length} decisions measured; at least 20 are needed` }),
      transcript: [
        {
          step: 1,
          action: 'aggregate',
          expected: `p95 ≤ ${slo} ms`,
          observed: `${observed}; p50 ${percentile(latencies, 0.5).toFixed(2)} ms, max ${percentile(latencies, 1).toFixed(2)} ms`,
          ok,
        },
      ],
    },
    0,
  );
  return { ...result, expected: `p95 ≤ ${slo} ms`, observed };
}
