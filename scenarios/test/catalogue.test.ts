import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ErrorCode, isWarrenError } from '../../lib/errors.js';
import { missingForgeryYaml } from '../forgery-sync.js';
import { forgeCases } from '../idp.js';
import { loadCatalogue, loadCatalogueFile, loadProfile } from '../load.js';
import { CATEGORIES } from '../model.js';
import { placeholdersIn } from '../template.js';

const catalogue = loadCatalogue();
const profile = loadProfile();

function loadError(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'warren-cat-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, text);
  try {
    loadCatalogueFile(file);
  } catch (error) {
    expect(isWarrenError(error, ErrorCode.BadInput)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected the file to be rejected');
}

describe('the shipped catalogue', () => {
  it('holds at least 150 scenarios across every category', () => {
    expect(catalogue.length).toBeGreaterThanOrEqual(150);
    expect(new Set(catalogue.map((s) => s.category))).toEqual(new Set(CATEGORIES));
  });

  it('has one forgery scenario per forge builder, with the same id and reference', () => {
    // On failure this prints the YAML to add to catalogue/forgery.yaml for new builders.
    expect(missingForgeryYaml(forgeCases, catalogue)).toBe('');
    const forgery = new Map(
      catalogue.filter((s) => s.category === 'forgery').map((s) => [s.id, s]),
    );
    expect([...forgery.keys()].sort()).toEqual(forgeCases.map((c) => c.id).sort());
    for (const forgeCase of forgeCases) {
      const scenario = forgery.get(forgeCase.id);
      expect(scenario?.given.forge).toBe(forgeCase.id);
      expect(scenario?.reference).toBe(forgeCase.reference);
      expect(scenario?.when.at(-1)?.expect).toBe(
        forgeCase.expected === 'reject' ? 'deny' : 'allow',
      );
    }
  });

  it('is deny-first: most scenarios expect a refusal', () => {
    const denyFirst = catalogue.filter((s) => s.tags.includes('deny-first'));
    expect(denyFirst.length / catalogue.length).toBeGreaterThan(0.75);
  });

  it('only expects allows in policy-dependent scenarios', () => {
    const leaks = catalogue.filter(
      (s) => s.policy === 'independent' && s.when.some((step) => step.expect === 'allow'),
    );
    expect(leaks.map((s) => s.id)).toEqual([]);
  });

  it('uses only variables the reference profile defines', () => {
    const builtIn = new Set(['unique', 'issuer', 'audience', 'jwksUrl', 'username']);
    const missing = catalogue.flatMap((s) =>
      [...placeholdersIn([s.given, s.when])]
        .filter(
          (name) => !builtIn.has(name) && !name.startsWith('repeat:') && !(name in profile.vars),
        )
        .map((name) => `${s.id}: ${name}`),
    );
    expect(missing).toEqual([]);
  });
});

describe('loading catalogue files', () => {
  it('names the file, line and field of a bad value', () => {
    const message = loadError(
      'category: protocol\nscenarios:\n  - id: x.y\n    title: t\n    reference: r\n    when:\n      - { login: {}, expect: maybe }\n',
    );
    expect(message).toMatch(/bad\.yaml:7: scenarios\.0\.when\.0\.expect/);
  });

  it('rejects a step with two actions', () => {
    const message = loadError(
      'category: protocol\nscenarios:\n  - id: x.y\n    title: t\n    reference: r\n    when:\n      - { login: {}, vhost: { vhost: a }, expect: deny }\n',
    );
    expect(message).toContain('exactly one action');
  });

  it('rejects unknown fields and unknown categories', () => {
    expect(loadError('category: nope\nscenarios: []\n')).toMatch(/bad\.yaml:1: category/);
    const message = loadError(
      'category: protocol\nscenarios:\n  - id: x.y\n    title: t\n    reference: r\n    colour: red\n    when:\n      - { login: {}, expect: deny }\n',
    );
    expect(message).toMatch(/bad\.yaml:3: scenarios\.0: Unrecognized key.*colour/);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(loadError('category: protocol\nscenarios:\n  - id: [unclosed\n')).toMatch(
      /bad\.yaml:\d+:/,
    );
  });
});
