/**
 * What `npm run load` does, as a library: resolve a scenario (built-in or file) with overrides,
 * check the target answers, mint credentials, run, judge, write reports. scripts/load.ts parses
 * flags and chooses the exit code from the returned summary.
 */
import { connect } from 'node:net';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';

import { ErrorCode, WarrenError } from '../lib/errors.js';
import { executorDurationMs } from './engine/executors.js';
import type { MetricsStore } from './engine/metrics.js';
import { applyOverrides, type ScenarioOverrides } from './engine/overrides.js';
import { mergeResults, runScenario, storeOf, type Progress, type RunResult } from './engine/run.js';
import { defineScenario, loadScenarioFile, type Scenario } from './engine/scenario.js';
import { compareRows, formatComparison } from './report/compare.js';
import { formatSummary, summarise, type Summary } from './report/summary.js';
import { writeReports } from './report/write.js';
import { prepareBuiltinScenario } from './builtin/index.js';
import { scrape, serverSideView, type ServerSideView } from './report/server-side.js';
import { mintLoadTokens, type MintSettings } from './targets/credentials.js';
import type { TargetSecrets } from './targets/spec.js';

/** Resolves `--scenario`: a built-in name, or a .yaml/.yml/.json file, or a .ts module. */
export async function resolveScenario(
  nameOrPath: string,
  overrides: ScenarioOverrides,
): Promise<Scenario> {
  const extension = extname(nameOrPath);
  let scenario: Scenario;
  if (extension === '') scenario = await prepareBuiltinScenario(nameOrPath);
  else if (extension === '.ts' || extension === '.js') {
    const module = (await import(pathToFileURL(resolve(nameOrPath)).href)) as { default?: unknown };
    scenario = defineScenario(module.default, nameOrPath);
  } else scenario = loadScenarioFile(nameOrPath);
  return applyOverrides(scenario, overrides);
}

/** Fails fast with a clear message when nothing listens at the target. */
export async function probeTarget(url: string, timeoutMs = 2000): Promise<void> {
  const parsed = new URL(url);
  const defaults: Record<string, number> = { 'https:': 443, 'amqp:': 5672, 'amqps:': 5671 };
  const port = Number(parsed.port || (defaults[parsed.protocol] ?? 80));
  await new Promise<void>((done, fail) => {
    const socket = connect({ host: parsed.hostname, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      done();
    });
    const refuse = (reason: string): void => {
      socket.destroy();
      fail(
        new WarrenError(
          ErrorCode.TargetUnreachable,
          `target ${parsed.protocol}//${parsed.host} is not reachable (${reason}); start it ` +
            '(the reference service: npm run reference-auth) or pass --target URL',
        ),
      );
    };
    socket.once('timeout', () => refuse(`no answer within ${timeoutMs} ms`));
    socket.once('error', (error: NodeJS.ErrnoException) => refuse(error.code ?? error.message));
  });
}

/** Mints what the target needs (PLAIN tokens that outlive the run); nothing for other targets. */
export function prepareSecrets(scenario: Scenario, idp: IdpSettings = {}): TargetSecrets {
  const target = scenario.target;
  if (target.kind === 'http' || target.mechanism !== 'PLAIN') return {};
  const runSeconds = Math.ceil(executorDurationMs(scenario.executor) / 1000);
  return mintLoadTokens(target, { ...idp, lifetimeSeconds: runSeconds + 600 });
}

/** Which IdP keys sign the tokens; defaults: the shared test IdP (127.0.0.1:8700). */
export type IdpSettings = Omit<MintSettings, 'lifetimeSeconds'>;

export interface ExecuteOptions {
  workers?: number;
  /** Called once a second with the live figures. */
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  /** Reports root; default reportsDir(). */
  reportsRoot?: string;
  /** Write no report files (tests, `--no-reports`). */
  noReports?: boolean;
  /** Run shares in this thread instead of worker threads. */
  inThread?: boolean;
  /**
   * The backend's Prometheus page, scraped before and after; default `<target origin>/metrics`
   * for auth-http targets, none for others. Left out of the summary when it does not answer.
   */
  metricsUrl?: string;
  /** Keys and issuer for minted tokens; default the shared test IdP. */
  idp?: IdpSettings;
  /**
   * Credentials made by the caller instead of minted tokens (e.g. per-run passwords of users
   * created in the broker's internal database); default: minted from `idp`. Never written.
   */
  secrets?: TargetSecrets;
}

export interface Outcome {
  result: RunResult;
  summary: Summary;
  /** The k6-like text summary. */
  text: string;
  /** The run folder, when reports were written. */
  reportDir?: string;
}

/** Judges a result and writes its reports. */
export function judge(
  result: RunResult,
  options: Pick<ExecuteOptions, 'noReports' | 'reportsRoot'> = {},
  serverSide?: ServerSideView,
): Outcome {
  const store: MetricsStore = storeOf(result);
  const summary = summarise(result, store);
  if (serverSide) summary.serverSide = serverSide;
  const outcome: Outcome = { result, summary, text: formatSummary(summary) };
  if (!options.noReports)
    outcome.reportDir = writeReports(result, summary, store, options.reportsRoot).dir;
  return outcome;
}

/** Runs a scenario end to end: probe, mint, run, judge, report. */
export async function execute(scenario: Scenario, options: ExecuteOptions = {}): Promise<Outcome> {
  await probeTarget(scenario.target.url);
  const runOptions: Parameters<typeof runScenario>[1] = {
    secrets: options.secrets ?? prepareSecrets(scenario, options.idp),
  };
  if (options.workers !== undefined) runOptions.workers = options.workers;
  if (options.onProgress) runOptions.onProgress = options.onProgress;
  if (options.signal) runOptions.signal = options.signal;
  if (options.inThread) runOptions.inThread = true;
  const metricsUrl =
    options.metricsUrl ??
    (scenario.target.kind === 'auth-http'
      ? `${new URL(scenario.target.url).origin}/metrics`
      : undefined);
  const before = metricsUrl ? await scrape(metricsUrl) : undefined;
  const result = await runScenario(scenario, runOptions);
  const after = metricsUrl && before !== undefined ? await scrape(metricsUrl) : undefined;
  const view =
    before !== undefined && after !== undefined ? serverSideView(before, after) : undefined;
  return judge(result, options, view);
}

/** Reads result files (result.json of earlier runs). */
function readResults(paths: string[], command: string): RunResult[] {
  return paths.map((path) => {
    let result: RunResult;
    try {
      result = JSON.parse(readFileSync(path, 'utf8')) as RunResult;
    } catch (error) {
      throw new WarrenError(
        ErrorCode.BadInput,
        `${command}: ${path} is not a readable result.json`,
        {
          cause: error,
        },
      );
    }
    if (result.version !== 1 || !result.metrics) {
      throw new WarrenError(
        ErrorCode.BadInput,
        `${command}: ${path} is not a Warren load result (version 1)`,
      );
    }
    return result;
  });
}

/** Compares results of one storm against several auth paths; the first is the baseline. */
export function compareFiles(paths: string[], labels?: string[]): string {
  if (paths.length < 2) {
    throw new WarrenError(
      ErrorCode.BadOption,
      'compare: give at least two result files (baseline first)',
    );
  }
  const summaries = readResults(paths, 'compare').map((result) =>
    summarise(result, storeOf(result)),
  );
  return formatComparison(compareRows(summaries, labels ?? paths));
}

/** Reads result files (result.json of earlier runs), merges and judges them. */
export function mergeFiles(
  paths: string[],
  options: Pick<ExecuteOptions, 'noReports' | 'reportsRoot'> = {},
): Outcome {
  const results = readResults(paths, 'merge');
  return judge(mergeResults(results), options);
}
