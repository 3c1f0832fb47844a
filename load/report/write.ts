/**
 * Writes a run's reports into reports/load/<timestamp>/ and points reports/load/latest at it:
 * summary.json (the k6-like figures), result.json (raw, mergeable), junit.xml, report.html.
 */
import { junitXml, type JunitCase } from '../../harness/report/junit.js';
import {
  createRunFolder,
  publishLatest,
  writeReportFile,
  type RunFolder,
} from '../../harness/report/run-folder.js';
import type { MetricsStore } from '../engine/metrics.js';
import type { RunResult } from '../engine/run.js';
import { renderHtmlReport } from './html.js';
import type { Summary } from './summary.js';

/** JUnit: one case per threshold, one for the generator self-check, one per check. */
export function junitFor(summary: Summary): string {
  const seconds = summary.durationMs / 1000;
  const classname = `load.${summary.scenario.name}`;
  const thresholds: JunitCase[] = summary.thresholds.map((t) => {
    const testCase: JunitCase = {
      name: `${t.metric}: ${t.condition}`,
      classname,
      timeSeconds: seconds,
      status: t.ok ? 'passed' : 'failed',
    };
    if (!t.ok)
      testCase.message = t.observed === undefined ? (t.note ?? 'failed') : `observed ${t.observed}`;
    return testCase;
  });
  const generator: JunitCase = {
    name: 'generator kept up (self-check)',
    classname,
    timeSeconds: seconds,
    status: summary.generator.valid ? 'passed' : 'failed',
  };
  if (!summary.generator.valid) {
    generator.message = `run INVALID: ${summary.generator.findings.map((f) => f.check).join(', ')}`;
  }
  const checks: JunitCase[] = summary.checks.map((c) => ({
    name: `check: ${c.name}`,
    classname: `${classname}.checks`,
    timeSeconds: seconds,
    // Checks are reported, not judged: they fail a run only through a threshold on `checks`.
    status: 'passed',
    output: `${c.passes} passed, ${c.fails} failed`,
  }));
  return junitXml(`load ${summary.scenario.name}`, [
    { name: `${classname}.thresholds`, cases: [...thresholds, generator] },
    { name: `${classname}.checks`, cases: checks },
  ]);
}

/** Writes every report file and publishes `latest`; returns the run folder. */
export function writeReports(
  result: RunResult,
  summary: Summary,
  store: MetricsStore,
  root?: string,
): RunFolder {
  const folder = createRunFolder('load', root === undefined ? {} : { root });
  writeReportFile(folder, 'summary.json', summary);
  writeReportFile(folder, 'result.json', result);
  writeReportFile(folder, 'junit.xml', junitFor(summary));
  writeReportFile(folder, 'report.html', renderHtmlReport(summary, store));
  publishLatest(folder);
  return folder;
}
