/**
 * Helpers for self-contained HTML reports: one file, no external requests, data embedded as JSON
 * and rendered by an inline script, so a report opens from disk or a CI artifact as is.
 */

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * JSON safe to place inside `<script type="application/json">`: `<`, `>` and `&` become unicode
 * escapes, so data can never close the script element or open a comment.
 */
export function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** What a page is made of. */
export interface HtmlPage {
  title: string;
  /** CSS, inlined. */
  style: string;
  /** Static body markup (already escaped where it holds data). */
  body: string;
  /** Data available to `script` as `JSON.parse(document.getElementById('report-data').textContent)`. */
  data: unknown;
  /** JavaScript, inlined after the data. */
  script: string;
}

/** A complete self-contained HTML document. A CSP forbids every network fetch. */
export function htmlDocument(page: HtmlPage): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style>${page.style}</style>
</head>
<body>
${page.body}
<script type="application/json" id="report-data">${embedJson(page.data)}</script>
<script>${page.script}</script>
</body>
</html>
`;
}
