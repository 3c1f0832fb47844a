/**
 * JUnit XML, the format CI systems read: one `<testsuite>` per group (a scenario category, a load
 * threshold set), one `<testcase>` per check.
 */

/** One check's outcome. */
export interface JunitCase {
  name: string;
  /** Grouping shown by CI tools, e.g. `conformance.forgery`. */
  classname: string;
  timeSeconds: number;
  status: 'passed' | 'failed' | 'skipped';
  /** One-line failure or skip reason. */
  message?: string;
  /** Longer text attached to the case (a transcript); must already be free of secrets. */
  output?: string;
}

export interface JunitSuite {
  name: string;
  cases: JunitCase[];
}

/** Escapes text for XML attributes and content; drops characters XML 1.0 cannot carry. */
export function escapeXml(text: string): string {
  return text
    .replace(
      /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/gu,
      (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function caseXml(testCase: JunitCase): string {
  const head = `<testcase name="${escapeXml(testCase.name)}" classname="${escapeXml(testCase.classname)}" time="${testCase.timeSeconds.toFixed(3)}"`;
  const parts: string[] = [];
  const message = escapeXml(testCase.message ?? '');
  if (testCase.status === 'failed')
    parts.push(`<failure message="${message}">${message}</failure>`);
  if (testCase.status === 'skipped') parts.push(`<skipped message="${message}"/>`);
  if (testCase.output !== undefined)
    parts.push(`<system-out>${escapeXml(testCase.output)}</system-out>`);
  return parts.length === 0
    ? `    ${head}/>`
    : `    ${head}>\n      ${parts.join('\n      ')}\n    </testcase>`;
}

/** Renders suites as one JUnit XML document. */
export function junitXml(name: string, suites: readonly JunitSuite[]): string {
  const count = (cases: readonly JunitCase[], status: JunitCase['status']): number =>
    cases.filter((c) => c.status === status).length;
  const all = suites.flatMap((suite) => suite.cases);
  const time = (cases: readonly JunitCase[]): string =>
    cases.reduce((sum, c) => sum + c.timeSeconds, 0).toFixed(3);
  const body = suites.map((suite) => {
    const attrs = `name="${escapeXml(suite.name)}" tests="${suite.cases.length}" failures="${count(suite.cases, 'failed')}" skipped="${count(suite.cases, 'skipped')}" errors="0" time="${time(suite.cases)}"`;
    return `  <testsuite ${attrs}>\n${suite.cases.map(caseXml).join('\n')}\n  </testsuite>`;
  });
  const rootAttrs = `name="${escapeXml(name)}" tests="${all.length}" failures="${count(all, 'failed')}" skipped="${count(all, 'skipped')}" errors="0" time="${time(all)}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ${rootAttrs}>\n${body.join('\n')}\n</testsuites>\n`;
}
