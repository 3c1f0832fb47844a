/**
 * JUnit for CI, through harness/report: one testsuite per drill, one testcase per step. A
 * deviated step, a step that could not run, a stop condition and a drill-level error are all
 * failures (the shared writer has no separate `error`); dry-run steps are skipped.
 */
import { junitXml, type JunitCase, type JunitSuite } from '../../harness/report/junit.js';

import type { Journal, StepRecord } from '../journal.js';

/** Renders the journals of one chaos run as a JUnit document. */
export function renderJunit(journals: readonly Journal[]): string {
  return junitXml('warren chaos', journals.map(toSuite));
}

function toSuite(journal: Journal): JunitSuite {
  const slug = journal.drill.title.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase();
  const steps = [
    ...journal.setup,
    ...(journal.steadyStates.before?.probes ?? []),
    ...journal.run,
    ...journal.steadyStates.during.flatMap((hypothesis) => hypothesis.probes),
    ...(journal.steadyStates.after?.probes ?? []),
    ...journal.rollbacks,
  ];
  const cases = steps.map((step) => stepCase(slug, step));
  if (journal.stopCondition) {
    cases.push({
      classname: `chaos.${slug}.stop-condition`,
      name: journal.stopCondition.probe,
      timeSeconds: 0,
      status: 'failed',
      message: `stop condition: ${journal.stopCondition.detail}`,
    });
  }
  if (journal.status !== 'completed') {
    const why = journal.error
      ? `${journal.error.code}: ${journal.error.message}`
      : `interrupted by ${journal.interruption?.signal ?? 'abort'}`;
    cases.push({
      classname: `chaos.${slug}`,
      name: `drill ${journal.status}`,
      timeSeconds: journal.durationMs / 1000,
      status: 'failed',
      message: why,
    });
  }
  return { name: journal.drill.title, cases };
}

function stepCase(slug: string, step: StepRecord): JunitCase {
  const base = {
    classname: `chaos.${slug}.${step.phase}`,
    name: step.name,
    timeSeconds: step.durationMs / 1000,
  };
  const logs = step.logs
    ? Object.entries(step.logs)
        .map(([source, lines]) => `--- ${source}\n${lines.join('\n')}`)
        .join('\n')
    : undefined;
  switch (step.status) {
    case 'deviated':
      return {
        ...base,
        status: 'failed',
        message: step.tolerance?.detail ?? 'deviated',
        output: logs,
      };
    case 'failed':
    case 'interrupted':
      return {
        ...base,
        status: 'failed',
        message: `${step.error?.code ?? step.status}: ${step.error?.message ?? ''}`,
        output: logs,
      };
    case 'skipped':
      return { ...base, status: 'skipped', message: 'dry run' };
    default:
      return {
        ...base,
        status: 'passed',
        output: step.output === undefined ? undefined : JSON.stringify(step.output),
      };
  }
}
