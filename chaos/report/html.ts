/**
 * A self-contained HTML report (no scripts, no external resources): verdict, measurements,
 * deviations, a timeline of every step by its offset and duration, then each step's details
 * with output, error and attached log lines.
 */
import type { HypothesisRecord, Journal, StepRecord } from '../journal.js';

import { escapeHtml as esc, htmlDocument } from '../../harness/report/html.js';

const style = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2430}
h1{font-size:20px}h2{font-size:17px;margin-top:28px}
.verdict{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff}
.held{background:#2e7d32}.deviated{background:#c62828}.failed,.interrupted,.aborted{background:#6d4c41}
table{border-collapse:collapse}td,th{border:1px solid #ccd;padding:3px 8px;text-align:left}
.timeline{position:relative;border-left:1px solid #99a;margin:8px 0}
.row{display:flex;align-items:center;height:20px}
.label{width:260px;flex:none;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;font-size:12px}
.lane{position:relative;flex:1;height:14px;background:#f3f4f8}
.bar{position:absolute;height:14px;min-width:3px;border-radius:2px}
.s-succeeded{background:#43a047}.s-deviated{background:#e53935}.s-failed{background:#8d6e63}
.s-interrupted{background:#fb8c00}.s-skipped{background:#b0bec5}
pre{background:#f6f8fa;padding:6px;overflow:auto;max-height:260px;font-size:12px}
`;

/** Renders one chaos run (one or more drills) as one HTML page. */
export function renderHtml(journals: readonly Journal[]): string {
  const title =
    journals.length === 1
      ? `Chaos drill: ${journals[0]?.drill.title}`
      : `Chaos drills (${journals.length})`;
  const body = [`<h1>${esc(title)}</h1>`, ...journals.map(renderDrill)].join('\n');
  // No script: the report is static markup, readable with scripts disabled.
  return htmlDocument({ title, style, body, data: {}, script: '' });
}

function verdictOf(journal: Journal): string {
  if (journal.deviated) return 'deviated';
  return journal.status === 'completed' ? 'held' : journal.status;
}

function renderDrill(journal: Journal): string {
  const verdict = verdictOf(journal);
  const steps = allSteps(journal);
  return [
    `<section class="drill" data-status="${journal.status}" data-deviated="${journal.deviated}">`,
    `<h2>${esc(journal.drill.title)} <span class="verdict ${verdict}">${verdict}</span></h2>`,
    '<table class="summary">',
    row('status', journal.status),
    row(
      'target',
      `${journal.target.kind} "${journal.target.name}" (non-production: ${journal.target.nonProduction})`,
    ),
    row('blast radius', journal.drill.blastRadius),
    row('started', journal.startedAt),
    row('duration', `${journal.durationMs} ms`),
    journal.dryRun ? row('dry run', 'yes: nothing was started or injected') : '',
    journal.error ? row('error', `${journal.error.code}: ${journal.error.message}`) : '',
    journal.interruption
      ? row('interrupted', `${journal.interruption.signal} at ${journal.interruption.at}`)
      : '',
    journal.stopCondition
      ? row('stop condition', `${journal.stopCondition.probe}: ${journal.stopCondition.detail}`)
      : '',
    '</table>',
    renderDeviations(journal.deviations),
    renderMeasurements(journal),
    '<h3>Timeline</h3>',
    renderTimeline(steps, Math.max(journal.durationMs, 1)),
    '<h3>Steady state</h3>',
    renderHypothesis('before', journal.steadyStates.before),
    ...journal.steadyStates.during.map((item, index) =>
      renderHypothesis(`during #${index + 1}`, item),
    ),
    renderHypothesis('after', journal.steadyStates.after),
    '<h3>Steps</h3>',
    ...steps.map(renderStep),
    '</section>',
  ].join('\n');
}

function allSteps(journal: Journal): StepRecord[] {
  const teardown = journal.setup.filter((step) => step.phase === 'teardown');
  return [
    ...journal.setup.filter((step) => step.phase !== 'teardown'),
    ...(journal.steadyStates.before?.probes ?? []),
    ...journal.run,
    ...(journal.steadyStates.after?.probes ?? []),
    ...journal.rollbacks,
    ...teardown,
  ];
}

function row(name: string, value: string): string {
  return `<tr><th>${esc(name)}</th><td>${esc(value)}</td></tr>`;
}

function renderDeviations(deviations: readonly string[]): string {
  if (deviations.length === 0) return '';
  return `<h3>Deviations</h3><ul class="deviations">${deviations.map((line) => `<li>${esc(line)}</li>`).join('')}</ul>`;
}

function renderMeasurements(journal: Journal): string {
  const entries = Object.entries(journal.measurements);
  if (entries.length === 0) return '';
  const rows = entries.map(
    ([name, figure]) =>
      `<tr class="measurement"><td>${esc(name)}</td><td>${figure.elapsedMs ?? 'not reached'}</td>` +
      `<td>${figure.sloMs ?? ''}</td><td>${figure.attempts}</td><td>${figure.deadlineMs}</td></tr>`,
  );
  return `<h3>Time to effect</h3><table><tr><th>measure</th><th>elapsed ms</th><th>SLO ms</th><th>attempts</th><th>deadline ms</th></tr>${rows.join('')}</table>`;
}

function renderTimeline(steps: readonly StepRecord[], totalMs: number): string {
  const rows = steps.map((step) => {
    const left = ((step.offsetMs / totalMs) * 100).toFixed(2);
    const width = Math.max((step.durationMs / totalMs) * 100, 0.3).toFixed(2);
    const label = `${step.phase}: ${step.name}`;
    return (
      `<div class="row"><div class="label" title="${esc(label)}">${esc(label)}</div><div class="lane">` +
      `<div class="bar s-${step.status}" data-status="${step.status}" style="left:${left}%;width:${width}%" ` +
      `title="${esc(`${step.name}: ${step.status}, +${step.offsetMs} ms, ${step.durationMs} ms`)}"></div></div></div>`
    );
  });
  return `<div class="timeline">${rows.join('\n')}</div>`;
}

function renderHypothesis(label: string, hypothesis: HypothesisRecord | null): string {
  if (hypothesis === null) return `<p>${esc(label)}: not checked</p>`;
  const probes = hypothesis.probes
    .map(
      (probe) =>
        `<li>${esc(probe.name)}: ${esc(probe.status)} — ${esc(probe.tolerance?.detail ?? probe.error?.message ?? '')}</li>`,
    )
    .join('');
  return `<p>${esc(label)}: <b>${hypothesis.met ? 'held' : 'did not hold'}</b></p><ul>${probes}</ul>`;
}

function renderStep(step: StepRecord): string {
  const open = step.status === 'failed' || step.status === 'deviated' ? ' open' : '';
  const parts = [
    `<details class="step" data-status="${step.status}"${open}>`,
    `<summary>${esc(step.phase)} · ${esc(step.name)} · ${esc(step.status)} · ${step.durationMs} ms</summary>`,
    step.tolerance ? `<p>${esc(step.tolerance.detail)}</p>` : '',
    step.error ? `<p class="error">${esc(step.error.code)}: ${esc(step.error.message)}</p>` : '',
    step.output === undefined ? '' : `<pre>${esc(JSON.stringify(step.output, null, 2))}</pre>`,
    ...Object.entries(step.logs ?? {}).map(
      ([source, lines]) =>
        `<p>log: ${esc(source)}</p><pre class="log">${esc(lines.join('\n'))}</pre>`,
    ),
    '</details>',
  ];
  return parts.join('\n');
}
