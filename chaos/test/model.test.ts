import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { listBuiltInDrills, resolveDrillFile } from '../catalog.js';
import { loadDrill } from '../load.js';

import { tempDir } from './support.js';

const dir = tempDir();

const valid = `
title: t
blastRadius: nothing
steadyState:
  title: s
  probes:
    - name: p
      provider: { type: tcp, host: 127.0.0.1, port: 1 }
      tolerance: { type: exact, path: $.connected, value: false }
method:
  - { name: wait, type: pause, durationMs: 1 }
rollbacks: []
`;

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('loading drill files', () => {
  it('accepts a valid YAML drill', async () => {
    const loaded = await loadDrill(write('valid.yaml', valid));
    expect(loaded.drill.method[0]?.name).toBe('wait');
  });

  const broken: [string, string, RegExp][] = [
    ['a missing blast radius', valid.replace('blastRadius: nothing\n', ''), /blastRadius:/],
    [
      'an unknown action type',
      valid.replace(
        '  - { name: wait, type: pause, durationMs: 1 }',
        '  - { name: x, type: action, action: { type: explode } }',
      ),
      /method\[0\]\.action\.type/,
    ],
    [
      'a process that is not declared',
      valid.replace(
        '  - { name: wait, type: pause, durationMs: 1 }',
        '  - { name: x, type: action, action: { type: process.kill, process: auth } }',
      ),
      /method\[0\]\.action\.process: no process "auth"/,
    ],
    [
      'a measure since a later step',
      valid.replace(
        '  - { name: wait, type: pause, durationMs: 1 }',
        `  - name: m
    type: measure
    since: later
    provider: { type: tcp, host: 127.0.0.1, port: 1 }
    until: { type: exact, value: 1 }
    deadlineMs: 10`,
      ),
      /method\[0\]\.since: no earlier step named "later"/,
    ],
    [
      'a negative pause',
      valid.replace('durationMs: 1', 'durationMs: -5'),
      /method\[0\]\.durationMs/,
    ],
    ['an unknown field', valid.replace('title: t', 'title: t\nextra: 1'), /extra/],
    ['broken YAML', 'title: [', /invalid YAML/],
  ];
  it.each(broken)('rejects %s, naming the file and the field', async (_title, text, message) => {
    const path = write('broken.yaml', text);
    const error = await loadDrill(path).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'WARREN_ERR_BAD_INPUT' });
    expect(String((error as Error).message)).toContain(path);
    expect(String((error as Error).message)).toMatch(message);
  });

  it('loads a TypeScript drill from its default export', async () => {
    const path = join(import.meta.dirname, 'fixtures', 'typed.drill.ts');
    const loaded = await loadDrill(path);
    expect(loaded.drill.title).toBe('typed drill');
  });

  it('validates every built-in drill', async () => {
    const names = listBuiltInDrills();
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) await loadDrill(resolveDrillFile(name));
  });

  it('refuses an unknown drill name, listing the built-in ones', () => {
    expect(() => resolveDrillFile('no-such-drill')).toThrowError(/built-in drills: /);
  });
});
