/**
 * Chaos drills: `npm run chaos -- DRILL... | --all [--target FILE] [--dry-run] [--list]`.
 * DRILL is a built-in name (chaos/drills/) or a path to a .yaml/.ts drill file.
 * Exit codes: 0 every hypothesis held, 1 a drill deviated, 2 a drill could not run.
 * Ctrl-C (SIGINT) or SIGTERM interrupts the drill; rollbacks and teardown still run.
 */
import { parseArgs } from 'node:util';

import {
  exitCodeFor,
  listBuiltInDrills,
  loadDrill,
  loadTarget,
  localTarget,
  resolveDrillFile,
  runDrill,
  writeReports,
  type Journal,
  type StepRecord,
} from '../chaos/index.js';
import { ErrorCode, WarrenError, isWarrenError } from '../lib/errors.js';

const usage = `usage: npm run chaos -- DRILL... | --all [--target FILE] [--dry-run] [--list]
built-in drills: ${listBuiltInDrills().join(', ')}`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      all: { type: 'boolean', default: false },
      target: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      var: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return print(usage, 0);
  if (values.list) return print(listBuiltInDrills().join('\n'), 0);
  const names = values.all ? listBuiltInDrills() : positionals;
  if (names.length === 0) return print(`no drill given\n${usage}`, 2);

  const target = values.target ? await loadTarget(values.target) : localTarget();
  const drills = [];
  for (const name of names) drills.push(await loadDrill(resolveDrillFile(name)));

  const vars = parseVars(values.var);
  const interrupt = new AbortController();
  const signals = installSignalHandlers(interrupt);
  const journals: Journal[] = [];
  try {
    for (const loaded of drills) {
      if (interrupt.signal.aborted) break;
      console.log(
        `drill ${loaded.drill.title} (${loaded.file}) on ${target.description.kind} "${target.description.name}"`,
      );
      console.log(
        `  blast radius: ${loaded.drill.blastRadius}${values['dry-run'] ? ' [dry run]' : ''}`,
      );
      const journal = await runDrill(loaded, {
        target,
        dryRun: values['dry-run'],
        signal: interrupt.signal,
        vars,
        onStep: printStep,
      });
      journals.push(journal);
      printVerdict(journal);
    }
  } finally {
    signals.remove();
    if (journals.length > 0) {
      const written = writeReports(journals);
      console.log(`reports: ${written.latest}/ (journal.json, junit.xml, report.html)`);
    }
  }
  return worstExitCode(journals);
}

/** `--var name=value` pairs, for `${name}` placeholders in drills. */
function parseVars(pairs: readonly string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const pair of pairs) {
    const match = /^([A-Za-z0-9_.-]+)=(.*)$/s.exec(pair);
    if (!match?.[1]) {
      throw new WarrenError(ErrorCode.BadOption, `--var "${pair}": expected name=value`);
    }
    vars[match[1]] = match[2] ?? '';
  }
  return vars;
}

function printStep(step: StepRecord): void {
  const detail = step.error
    ? ` ${step.error.code}: ${step.error.message}`
    : step.tolerance
      ? ` ${step.tolerance.detail}`
      : '';
  console.log(`  [${step.phase}] ${step.name}: ${step.status} (${step.durationMs} ms)${detail}`);
}

function printVerdict(journal: Journal): void {
  for (const [name, figure] of Object.entries(journal.measurements)) {
    console.log(`  time to effect ${name}: ${figure.elapsedMs ?? 'not reached'} ms`);
  }
  for (const line of journal.deviations) console.log(`  deviation: ${line}`);
  if (journal.error) console.log(`  error: ${journal.error.code}: ${journal.error.message}`);
  console.log(`  => ${journal.status}, deviated=${journal.deviated}`);
}

/** Deviated beats could-not-run beats held: a deviation is the finding that matters most. */
function worstExitCode(journals: readonly Journal[]): number {
  const codes = journals.map(exitCodeFor);
  if (codes.includes(1)) return 1;
  if (codes.includes(2) || journals.length === 0) return 2;
  return 0;
}

/**
 * First SIGINT/SIGTERM interrupts the drill (rollbacks still run); a third one gives up on
 * the rollbacks and exits at once, for an operator who must get out.
 */
function installSignalHandlers(interrupt: AbortController): { remove(): void } {
  let received = 0;
  const handler = (signal: NodeJS.Signals) => {
    received += 1;
    if (received === 1) {
      console.log(`${signal}: interrupting; running rollbacks (send twice more to skip them)`);
      interrupt.abort(signal);
    } else if (received >= 3) {
      console.log(`${signal}: exiting without finishing rollbacks`);
      process.exit(130);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    remove: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

function print(text: string, code: number): number {
  console.log(text);
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(isWarrenError(error) ? `${error.code}: ${error.message}` : error);
    process.exitCode = 2;
  },
);
