import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { embedJson, escapeHtml, htmlDocument } from '../html.js';
import { escapeXml, junitXml } from '../junit.js';
import { createRunFolder, publishLatest, writeReportFile } from '../run-folder.js';

const root = mkdtempSync(join(tmpdir(), 'warren-report-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('run folders', () => {
  it('writes each run into its own timestamped folder and points latest at the newest', () => {
    const first = createRunFolder('demo', {
      root,
      startedAt: new Date('2026-01-01T10:00:00.000Z'),
    });
    writeReportFile(first, 'summary.json', { run: 1 });
    publishLatest(first);
    const second = createRunFolder('demo', {
      root,
      startedAt: new Date('2026-01-01T11:00:00.000Z'),
    });
    writeReportFile(second, 'summary.json', { run: 2 });
    publishLatest(second);

    expect(first.name).toBe('2026-01-01T10-00-00-000Z');
    expect(readlinkSync(join(root, 'demo', 'latest'))).toBe(second.name);
    expect(JSON.parse(readFileSync(join(root, 'demo', 'latest', 'summary.json'), 'utf8'))).toEqual({
      run: 2,
    });
    expect(existsSync(join(first.dir, 'summary.json'))).toBe(true);
  });

  it('keeps only the newest runs when asked to prune', () => {
    for (let hour = 0; hour < 4; hour += 1) {
      publishLatest(
        createRunFolder('pruned', { root, startedAt: new Date(Date.UTC(2026, 0, 2, hour)) }),
        2,
      );
    }
    const runs = readdirSync(join(root, 'pruned')).filter((name) => name !== 'latest');
    expect(runs).toEqual(['2026-01-02T02-00-00-000Z', '2026-01-02T03-00-00-000Z']);
  });
});

describe('JUnit XML', () => {
  it('counts failures and skips per suite and escapes what XML cannot hold', () => {
    const xml = junitXml('demo', [
      {
        name: 'suite <a>',
        cases: [
          { name: 'ok', classname: 'c', timeSeconds: 0.5, status: 'passed' },
          {
            name: 'bad',
            classname: 'c',
            timeSeconds: 1,
            status: 'failed',
            message: 'allow\n & "x"',
          },
          { name: 'skip', classname: 'c', timeSeconds: 0, status: 'skipped', message: 'n/a' },
        ],
      },
    ]);
    expect(xml).toContain('<testsuite name="suite &lt;a&gt;" tests="3" failures="1" skipped="1"');
    expect(xml).toContain('<failure message="allow\n &amp; &quot;x&quot;">');
    expect(xml).toContain('<skipped message="n/a"/>');
    expect(escapeXml('a\u0000b')).toBe('a\\u0000b');
  });
});

describe('self-contained HTML', () => {
  it('embeds data so that it can never close its script element', () => {
    const html = htmlDocument({
      title: '<t>',
      style: '',
      body: '<p>x</p>',
      data: { text: '</script><script>alert(1)</script>' },
      script: '',
    });
    expect(html).toContain('<title>&lt;t&gt;</title>');
    expect(html).not.toContain('</script><script>alert(1)');
    expect(JSON.parse(embedJson({ a: '<&>' }))).toEqual({ a: '<&>' });
    expect(escapeHtml(`"'`)).toBe('&quot;&#39;');
    expect(html).toContain("default-src 'none'");
  });
});
