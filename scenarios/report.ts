/**
 * Conformance reports: report.json (summary + every result), JUnit XML (one suite per category)
 * and a self-contained HTML page (filterable, with each scenario's transcript). Transcripts are
 * redacted when recorded; this module adds a last pass that refuses anything token-shaped.
 */
import { htmlDocument } from '../harness/report/html.js';
import { junitXml } from '../harness/report/junit.js';
import type { JunitCase, JunitSuite } from '../harness/report/junit.js';
import type { RunFolder } from '../harness/report/run-folder.js';
import { writeReportFile } from '../harness/report/run-folder.js';
import type { RunSummary, ScenarioResult } from './results.js';
import { summarize, variantLabel } from './results.js';

/** Everything a conformance report states about its run. */
export interface ConformanceReport {
  tool: 'warren-conformance';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  target: { backend: string; profile: string; modes: string[]; rabbitmq: string[] };
  summary: RunSummary;
  /** Per category: total, passed, failed, skipped, xfail. */
  categories: Record<string, RunSummary>;
  results: ScenarioResult[];
}

/**
 * Compact JWS shapes (base64url segments, the first a JSON header): never in a report. Two
 * segments are enough: a reply cut short may hold the front of a token.
 */
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){1,2}/g;

/** Masks anything that still looks like a JWT; a last line of defence behind redaction. */
export function scrubTokens(text: string): string {
  return text.replace(JWT_SHAPE, '<redacted jwt>');
}

/** Builds the report object from results. */
export function buildReport(
  results: readonly ScenarioResult[],
  meta: Omit<ConformanceReport, 'tool' | 'summary' | 'categories' | 'results'>,
): ConformanceReport {
  const categories: Record<string, RunSummary> = {};
  for (const category of [...new Set(results.map((r) => r.category))].sort()) {
    categories[category] = summarize(results.filter((r) => r.category === category));
  }
  const ordered = [...results].sort(
    (a, b) =>
      a.category.localeCompare(b.category) ||
      a.id.localeCompare(b.id) ||
      variantLabel(a).localeCompare(variantLabel(b)),
  );
  return {
    tool: 'warren-conformance',
    ...meta,
    summary: summarize(results),
    categories,
    results: ordered,
  };
}

function transcriptText(result: ScenarioResult): string {
  return result.transcript
    .map((entry) => {
      const parts = [`${entry.step}. ${entry.action} ${entry.ok ? 'ok' : 'FAILED'}`];
      if (entry.request !== undefined) parts.push(`   → ${entry.request}`);
      if (entry.status !== undefined) parts.push(`   ← ${entry.status} ${entry.reply ?? ''}`);
      if (entry.expected !== undefined)
        parts.push(`   expected ${entry.expected}; observed ${entry.observed ?? '-'}`);
      if (entry.detail !== undefined) parts.push(`   ${entry.detail}`);
      for (const call of entry.calls ?? []) parts.push(`   spy: ${call}`);
      return parts.join('\n');
    })
    .join('\n');
}

/** JUnit XML: one suite per category; xfail reads as passed with its reason in the output. */
export function conformanceJunit(report: ConformanceReport): string {
  const suites: JunitSuite[] = Object.keys(report.categories).map((category) => ({
    name: `conformance.${category}`,
    cases: report.results
      .filter((result) => result.category === category)
      .map((result): JunitCase => {
        const status = result.status === 'xfail' ? 'passed' : result.status;
        return {
          name: `${result.id} [${variantLabel(result)}]`,
          classname: `conformance.${category}`,
          timeSeconds: result.durationMs / 1000,
          status,
          ...(result.reason === undefined ? {} : { message: result.reason }),
          output: transcriptText(result),
        };
      }),
  }));
  return junitXml('warren conformance', suites);
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1b1f24}
h1{font-size:1.3rem;margin:0 0 .3rem}
.meta{color:#57606a;margin-bottom:1rem}
.cards{display:flex;gap:.6rem;margin-bottom:1rem}
.card{padding:.5rem .9rem;border-radius:6px;background:#f3f4f6}
.card b{display:block;font-size:1.2rem}
.passed{color:#1a7f37}.failed{color:#cf222e}.skipped{color:#9a6700}.xfail{color:#8250df}
.filters{display:flex;gap:.6rem;margin-bottom:.8rem;flex-wrap:wrap}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e5e7eb;vertical-align:top}
tr.row{cursor:pointer}tr.row:hover{background:#f6f8fa}
pre{background:#0d1117;color:#e6edf3;padding:.7rem;border-radius:6px;white-space:pre-wrap;word-break:break-all;margin:.3rem 0}
td.id{font-family:ui-monospace,monospace}
`;

const SCRIPT = `
const report = JSON.parse(document.getElementById('report-data').textContent);
const rows = document.getElementById('rows');
const fStatus = document.getElementById('f-status');
const fCategory = document.getElementById('f-category');
const fText = document.getElementById('f-text');
for (const c of Object.keys(report.categories)) {
  const o = document.createElement('option'); o.value = c; o.textContent = c; fCategory.appendChild(o);
}
function cell(tr, text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }
function transcript(r) {
  return r.transcript.map(e => {
    const lines = [e.step + '. ' + e.action + ' ' + (e.ok ? 'ok' : 'FAILED')];
    if (e.request) lines.push('   → ' + e.request);
    if (e.status !== undefined) lines.push('   ← ' + e.status + ' ' + (e.reply || ''));
    if (e.expected) lines.push('   expected ' + e.expected + '; observed ' + (e.observed || '-'));
    if (e.detail) lines.push('   ' + e.detail);
    for (const c of e.calls || []) lines.push('   spy: ' + c);
    return lines.join('\\n');
  }).join('\\n') || '(no steps ran)';
}
function render() {
  rows.textContent = '';
  const text = fText.value.toLowerCase();
  let shown = 0;
  for (const r of report.results) {
    if (fStatus.value && r.status !== fStatus.value) continue;
    if (fCategory.value && r.category !== fCategory.value) continue;
    if (text && !(r.id + ' ' + r.title + ' ' + r.tags.join(' ')).toLowerCase().includes(text)) continue;
    shown++;
    const tr = document.createElement('tr'); tr.className = 'row'; tr.dataset.id = r.id;
    cell(tr, r.status, r.status); cell(tr, r.id, 'id'); cell(tr, r.category);
    cell(tr, [r.mode, r.rabbitmq, r.method].filter(Boolean).join(' ')); cell(tr, r.title);
    cell(tr, r.durationMs.toFixed(1) + ' ms');
    const detail = document.createElement('tr'); detail.hidden = true; detail.className = 'detail';
    const td = document.createElement('td'); td.colSpan = 6;
    const info = document.createElement('div');
    info.textContent = 'Reference: ' + r.reference + ' · expected: ' + r.expected + ' · observed: ' + r.observed + (r.reason ? ' · ' + r.reason : '') + ' · ' + r.source;
    const pre = document.createElement('pre'); pre.textContent = transcript(r);
    td.append(info, pre); detail.appendChild(td);
    tr.addEventListener('click', () => { detail.hidden = !detail.hidden; });
    rows.append(tr, detail);
  }
  document.getElementById('shown').textContent = shown + ' shown';
}
for (const el of [fStatus, fCategory]) el.addEventListener('change', render);
fText.addEventListener('input', render);
render();
`;

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The self-contained HTML page. */
export function conformanceHtml(report: ConformanceReport): string {
  const s = report.summary;
  const card = (label: string, value: number, cls: string): string =>
    `<div class="card ${cls}"><b>${value}</b>${label}</div>`;
  const body = `
<h1>Warren conformance report</h1>
<div class="meta">backend ${escape(report.target.backend)} · profile ${escape(report.target.profile)} · modes ${escape(report.target.modes.join(', '))} · ${escape(report.startedAt)} · ${(report.durationMs / 1000).toFixed(1)} s</div>
<div class="cards">${card('total', s.total, '')}${card('passed', s.passed, 'passed')}${card('failed', s.failed, 'failed')}${card('skipped', s.skipped, 'skipped')}${card('expected failures', s.expectedFailures, 'xfail')}</div>
<div class="filters">
<label>status <select id="f-status"><option value="">all</option><option>failed</option><option>passed</option><option>skipped</option><option>xfail</option></select></label>
<label>category <select id="f-category"><option value="">all</option></select></label>
<label>search <input id="f-text" type="search" placeholder="id, title or tag"></label>
<span id="shown"></span>
</div>
<table><thead><tr><th>status</th><th>id</th><th>category</th><th>variant</th><th>title</th><th>time</th></tr></thead><tbody id="rows"></tbody></table>`;
  return htmlDocument({
    title: 'Warren conformance report',
    style: STYLE,
    body,
    data: report,
    script: SCRIPT,
  });
}

/** Writes report.json, junit.xml and report.html into the run folder; returns their paths. */
export function writeConformanceReports(
  folder: RunFolder,
  report: ConformanceReport,
): { json: string; junit: string; html: string } {
  const safe = JSON.parse(scrubTokens(JSON.stringify(report))) as ConformanceReport;
  return {
    json: writeReportFile(folder, 'report.json', safe),
    junit: writeReportFile(folder, 'junit.xml', conformanceJunit(safe)),
    html: writeReportFile(folder, 'report.html', conformanceHtml(safe)),
  };
}
