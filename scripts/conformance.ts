/**
 * `npm run conformance [-- options]`: runs the deny-first catalogue against an auth backend.
 * Without --backend it starts the test IdP and the reference service itself and stops them after.
 * Exit codes: 0 every scenario passed (or failed as expected), 1 failures, 2 the run could not
 * be set up (the reason is printed).
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { createRunFolder, publishLatest } from '../harness/report/run-folder.js';
import { ErrorCode, WarrenError } from '../lib/errors.js';
import { loadExpectedFailures } from '../scenarios/expected-failures.js';
import type { ExpectedFailure } from '../scenarios/expected-failures.js';
import { idpControl, retireRotatedKeys } from '../scenarios/idp.js';
import {
  catalogueDir,
  loadCatalogue,
  loadProfile,
  referenceProfilePath,
} from '../scenarios/load.js';
import { MODES, RABBITMQ_VERSIONS } from '../scenarios/model.js';
import type { Mode, RabbitmqVersion } from '../scenarios/model.js';
import { buildReport, writeConformanceReports } from '../scenarios/report.js';
import type { ScenarioResult } from '../scenarios/results.js';
import { variantLabel } from '../scenarios/results.js';
import { runConformance, selectScenarios } from '../scenarios/runner.js';
import { prepareTarget } from '../scenarios/setup.js';
import { stagingBrokerMode, startBrokerMode } from '../scenarios/broker/run.js';
import type { BrokerMode, StagingBroker } from '../scenarios/broker/run.js';

const usage = `usage: npm run conformance -- [options]
  --backend URL              backend under test (default: start reference-auth on 127.0.0.1:8600)
  --mode MODE                protocol|broker|spy, repeatable or comma-separated (default: all)
  --rabbitmq VERSION         3.10|4.0 for broker mode (default: both)
  --profile FILE             profile of the target's grants (default: scenarios/profiles/reference.yaml)
  --only ID|CATEGORY         run only these, repeatable or comma-separated
  --broker URL --management URL   a staging broker (amqp://, http://) instead of local ones; needs
                             one --rabbitmq; runs the PLAIN broker scenarios, skips the rest
  --expected-failures FILE   listed failures do not fail the run; listed passes do
  --concurrency N            protocol scenarios at once (default 8)
  --catalogue DIR            catalogue folder (default: scenarios/catalogue)
  --idp-port N               test IdP port (default 8700; a backend must trust this issuer)
  --reference-port N         port of the reference service started without --backend (default 8600)
  --quiet                    no line per scenario, only failures and the summary`;

interface Flags {
  backend?: string;
  /** A staging broker instead of local ones (broker mode, PLAIN scenarios). */
  staging?: StagingBroker;
  modes: Mode[];
  rabbitmq: RabbitmqVersion[];
  profile: string;
  only: string[];
  expectedFailures: ExpectedFailure[];
  concurrency: number;
  catalogue: string;
  idpPort: number;
  referencePort: number;
  quiet: boolean;
}

function portOf(flag: string, value: string | undefined, fallback: number): number {
  const port = Number(value ?? fallback);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new WarrenError(ErrorCode.BadOption, `--${flag} ${value}: give a port from 1 to 65535`);
  }
  return port;
}

function listOf(values: string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((value) => value.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

function pick<T extends string>(flag: string, values: string[], allowed: readonly T[]): T[] {
  for (const value of values) {
    if (!allowed.includes(value as T)) {
      throw new WarrenError(
        ErrorCode.BadOption,
        `--${flag} ${value}: choose one of ${allowed.join(', ')}`,
      );
    }
  }
  return values as T[];
}

function parseFlags(argv: string[]): Flags | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      backend: { type: 'string' },
      mode: { type: 'string', multiple: true },
      rabbitmq: { type: 'string', multiple: true },
      profile: { type: 'string' },
      only: { type: 'string', multiple: true },
      broker: { type: 'string' },
      management: { type: 'string' },
      'expected-failures': { type: 'string' },
      concurrency: { type: 'string' },
      catalogue: { type: 'string' },
      'idp-port': { type: 'string' },
      'reference-port': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) return 'help';
  if (values.backend !== undefined && !/^https?:\/\//.test(values.backend)) {
    throw new WarrenError(
      ErrorCode.BadOption,
      `--backend ${values.backend}: give an http:// or https:// URL`,
    );
  }
  if ((values.broker === undefined) !== (values.management === undefined)) {
    throw new WarrenError(ErrorCode.BadOption, '--broker and --management go together');
  }
  const concurrency = Number(values.concurrency ?? '8');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new WarrenError(
      ErrorCode.BadOption,
      `--concurrency ${values.concurrency}: give a whole number from 1 to 64`,
    );
  }
  const modes = pick('mode', listOf(values.mode), MODES);
  const rabbitmq = pick('rabbitmq', listOf(values.rabbitmq), RABBITMQ_VERSIONS);
  let staging: StagingBroker | undefined;
  if (values.broker !== undefined && values.management !== undefined) {
    if (!/^amqp:\/\//.test(values.broker) || !/^https?:\/\//.test(values.management)) {
      throw new WarrenError(
        ErrorCode.BadOption,
        '--broker takes amqp://host:port, --management http(s)://host:port',
      );
    }
    if (rabbitmq.length !== 1) {
      throw new WarrenError(
        ErrorCode.BadOption,
        "--broker needs exactly one --rabbitmq VERSION (the staging broker's)",
      );
    }
    staging = {
      amqpUrl: values.broker,
      managementUrl: values.management,
      version: rabbitmq[0] as RabbitmqVersion,
    };
  }
  return {
    ...(staging === undefined ? {} : { staging }),
    ...(values.backend === undefined ? {} : { backend: values.backend }),
    modes: modes.length > 0 ? modes : [...MODES],
    rabbitmq,
    profile: resolve(values.profile ?? referenceProfilePath),
    only: listOf(values.only),
    expectedFailures:
      values['expected-failures'] === undefined
        ? []
        : loadExpectedFailures(values['expected-failures']),
    concurrency,
    catalogue: resolve(values.catalogue ?? catalogueDir),
    idpPort: portOf('idp-port', values['idp-port'], 8700),
    referencePort: portOf('reference-port', values['reference-port'], 8600),
    quiet: values.quiet === true,
  };
}

const MARK: Record<ScenarioResult['status'], string> = {
  passed: '✓',
  failed: '✗',
  skipped: '-',
  xfail: '~',
};

function progressLine(result: ScenarioResult, done: number): string {
  const base = `${String(done).padStart(4)} ${MARK[result.status]} ${result.id} [${variantLabel(result)}] ${result.durationMs.toFixed(0)} ms`;
  return result.status === 'passed'
    ? base
    : `${base}\n        ${result.status}: ${result.reason ?? ''}`;
}

function printSummary(report: ReturnType<typeof buildReport>): void {
  console.log('\ncategory          total passed failed skipped xfail');
  for (const [category, s] of Object.entries(report.categories)) {
    console.log(
      `${category.padEnd(17)} ${String(s.total).padStart(5)} ${String(s.passed).padStart(6)} ${String(s.failed).padStart(6)} ${String(s.skipped).padStart(7)} ${String(s.expectedFailures).padStart(5)}`,
    );
  }
  const s = report.summary;
  console.log(
    `${'all'.padEnd(17)} ${String(s.total).padStart(5)} ${String(s.passed).padStart(6)} ${String(s.failed).padStart(6)} ${String(s.skipped).padStart(7)} ${String(s.expectedFailures).padStart(5)}`,
  );
}

async function run(flags: Flags): Promise<number> {
  const startedAt = new Date();
  const started = performance.now();
  const scenarios = selectScenarios(loadCatalogue(flags.catalogue), flags.only);
  const profile = loadProfile(flags.profile);

  let target;
  try {
    target = await prepareTarget({
      idpPort: flags.idpPort,
      referencePort: flags.referencePort,
      ...(flags.backend === undefined ? {} : { backendUrl: flags.backend }),
    });
  } catch (error) {
    throw new WarrenError(ErrorCode.Setup, `setup failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const stopOnSignal = (): void => {
    void target.stop().then(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  let results: ScenarioResult[];
  let brokerMode: BrokerMode | undefined;
  try {
    const idp = await idpControl(target.idp, { clockSkewSeconds: profile.token.clockSkewSeconds });
    if (flags.modes.includes('broker') || flags.modes.includes('spy')) {
      try {
        const brokerOptions = {
          backendUrl: target.backendUrl,
          profile,
          idp,
          versions: flags.rabbitmq.length > 0 ? flags.rabbitmq : [...RABBITMQ_VERSIONS],
          log: (line: string) => console.log(line),
          spy: flags.modes.includes('spy'),
        };
        brokerMode =
          flags.staging === undefined
            ? await startBrokerMode(brokerOptions)
            : await stagingBrokerMode(brokerOptions, flags.staging);
      } catch (error) {
        throw new WarrenError(ErrorCode.Setup, `broker mode: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    console.log(
      `conformance: ${scenarios.length} scenarios against ${target.backendLabel}, profile ${profile.name}, modes ${flags.modes.join(', ')}`,
    );
    let done = 0;
    results = await runConformance({
      scenarios,
      profile,
      backendUrl: target.backendUrl,
      idp,
      modes: flags.modes,
      ...(flags.rabbitmq.length > 0 ? { rabbitmq: flags.rabbitmq } : {}),
      concurrency: flags.concurrency,
      ...(brokerMode === undefined ? {} : { broker: brokerMode.run }),
      expectedFailures: flags.expectedFailures,
      onResult: (result) => {
        done += 1;
        if (!flags.quiet || result.status === 'failed') console.log(progressLine(result, done));
      },
    });
    retireRotatedKeys(target.idp);
  } finally {
    await brokerMode?.stop();
    await target.stop();
  }

  const report = buildReport(results, {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - started),
    target: {
      backend: target.backendLabel,
      profile: profile.source,
      modes: flags.modes,
      rabbitmq: flags.rabbitmq.length > 0 ? flags.rabbitmq : [...RABBITMQ_VERSIONS],
    },
  });
  const folder = createRunFolder('conformance', { startedAt });
  const paths = writeConformanceReports(folder, report);
  publishLatest(folder);
  printSummary(report);
  console.log(`\nreports: ${paths.html}\n         ${paths.json}\n         ${paths.junit}`);
  console.log(`took ${(report.durationMs / 1000).toFixed(1)} s`);
  return report.summary.failed > 0 ? 1 : 0;
}

async function main(): Promise<number> {
  let flags: Flags | 'help';
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (error) {
    console.error(`conformance: ${(error as Error).message}\n${usage}`);
    return 2;
  }
  if (flags === 'help') {
    console.log(usage);
    return 0;
  }
  try {
    return await run(flags);
  } catch (error) {
    const code = error instanceof WarrenError ? error.code : 'unexpected';
    console.error(
      `conformance: the run could not be set up (${code}): ${(error as Error).message}`,
    );
    return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
