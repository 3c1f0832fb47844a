/**
 * `npm run load -- --scenario NAME|FILE [--target URL] [--rate N] [--duration 30s]
 *  [--threshold 'METRIC{tags}:COND'] [--workers N] [--out result.json] [--no-reports]`
 * `npm run load -- merge a.json b.json [--out merged.json]`
 * Exit codes: 0 thresholds held, 99 a threshold failed, 2 invalid run or bad usage.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { isWarrenError } from '../lib/errors.js';
import { compareFiles, execute, mergeFiles, resolveScenario, type Outcome } from '../load/app.js';
import { parseDurationMs } from '../load/engine/duration.js';
import type { ScenarioOverrides } from '../load/engine/overrides.js';
import { parseThresholdFlag } from '../load/engine/thresholds.js';
import { progressLine } from '../load/report/progress.js';
import { builtinScenarios } from '../load/builtin/index.js';

const usage = `usage:
  npm run load -- --scenario NAME|FILE [--target URL] [--rate N] [--duration 30s]
                  [--threshold 'METRIC{tag:value}:CONDITION'] ... [--workers N]
                  [--out result.json] [--no-reports] [--quiet]
  npm run load -- merge RESULT.json RESULT.json ... [--out merged.json] [--no-reports]
  npm run load -- compare BASELINE.json OTHER.json ...   (ratios to the first)
built-in scenarios: ${Object.keys(builtinScenarios).join(', ')}
exit codes: 0 thresholds held, 99 a threshold failed, 2 invalid run or bad usage`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    scenario: { type: 'string' },
    target: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    threshold: { type: 'string', multiple: true },
    workers: { type: 'string' },
    out: { type: 'string' },
    'no-reports': { type: 'boolean' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean' },
  },
});

function positiveNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${flag} ${text}: give a positive number`);
  }
  return value;
}

function overridesFromFlags(): ScenarioOverrides {
  const overrides: ScenarioOverrides = {
    thresholds: (values.threshold ?? []).map(parseThresholdFlag),
  };
  if (values.target) overrides.targetUrl = values.target;
  const rate = positiveNumber('--rate', values.rate);
  if (rate !== undefined) overrides.rate = rate;
  if (values.duration) overrides.durationMs = parseDurationMs(values.duration, '--duration');
  const workers = positiveNumber('--workers', values.workers);
  if (workers !== undefined) overrides.workers = Math.floor(workers);
  return overrides;
}

async function main(): Promise<number> {
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const reportOptions = { noReports: values['no-reports'] ?? false };
  let outcome: Outcome;
  if (positionals[0] === 'compare') {
    console.log(compareFiles(positionals.slice(1)));
    return 0;
  }
  if (positionals[0] === 'merge') {
    outcome = mergeFiles(positionals.slice(1), reportOptions);
  } else if (values.scenario && positionals.length === 0) {
    const scenario = await resolveScenario(values.scenario, overridesFromFlags());
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    const live = process.stderr.isTTY;
    outcome = await execute(scenario, {
      ...reportOptions,
      signal: stop.signal,
      onProgress: (progress) => {
        if (values.quiet) return;
        process.stderr.write(live ? `\r${progressLine(progress)}` : `${progressLine(progress)}\n`);
      },
    });
    if (live && !values.quiet) process.stderr.write('\n');
  } else {
    console.error(usage);
    return 2;
  }
  console.log(outcome.text);
  if (outcome.reportDir) console.log(`\n  reports: ${outcome.reportDir}`);
  if (values.out) writeFileSync(values.out, `${JSON.stringify(outcome.result)}\n`);
  return outcome.summary.exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const code = isWarrenError(error) ? `${error.code}: ` : '';
    console.error(`load: ${code}${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
  },
);
