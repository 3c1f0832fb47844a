/**
 * Loading catalogue and profile files: YAML parsed with positions kept, validated with zod, and
 * every problem reported as `file:line: field: message` so a reviewer can jump to it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

import { LineCounter, isNode, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import type { z } from 'zod';

import { ErrorCode, WarrenError } from '../lib/errors.js';
import { repoRoot } from '../lib/paths.js';
import { catalogueFileSchema } from './model.js';
import type { Scenario } from './model.js';
import { profileSchema } from './profile.js';
import type { Profile } from './profile.js';

/** The shipped catalogue folder. */
export const catalogueDir = join(repoRoot, 'scenarios', 'catalogue');
/** The shipped profile for reference-auth's demo policy. */
export const referenceProfilePath = join(repoRoot, 'scenarios', 'profiles', 'reference.yaml');

interface Parsed {
  doc: Document;
  lines: LineCounter;
  name: string;
}

function parseYaml(file: string): Parsed {
  const source = readFileSync(file, 'utf8');
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, uniqueKeys: true });
  const name = relative(process.cwd(), file) || file;
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((error) => {
      const line = error.linePos?.[0]?.line ?? 0;
      return `${name}:${line}: ${error.message.split('\n')[0]}`;
    });
    throw new WarrenError(ErrorCode.BadInput, `invalid YAML:\n${problems.join('\n')}`);
  }
  return { doc, lines, name };
}

/** The line of the deepest existing node on `path`, 1-based. */
function lineOf(parsed: Parsed, path: readonly PropertyKey[]): number {
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const node: unknown = parsed.doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) return parsed.lines.linePos(node.range[0]).line;
  }
  return 1;
}

function validate<T>(parsed: Parsed, schema: z.ZodType<T>): T {
  const result = schema.safeParse(parsed.doc.toJS());
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join('.') : '(file)';
    return `${parsed.name}:${lineOf(parsed, issue.path)}: ${field}: ${issue.message}`;
  });
  throw new WarrenError(ErrorCode.BadInput, `invalid file:\n${problems.join('\n')}`);
}

/** Loads one catalogue file; scenarios carry their category and `file:line`. */
export function loadCatalogueFile(file: string): Scenario[] {
  const parsed = parseYaml(file);
  const data = validate(parsed, catalogueFileSchema);
  return data.scenarios.map((scenario, index) => ({
    ...scenario,
    category: data.category,
    source: `${parsed.name}:${lineOf(parsed, ['scenarios', index])}`,
  }));
}

/**
 * Loads every `*.yaml` file of a catalogue folder (default: the shipped one) and checks that
 * ids are unique across files.
 */
export function loadCatalogue(dir: string = catalogueDir): Scenario[] {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort();
  const scenarios = files.flatMap((name) => loadCatalogueFile(join(dir, name)));
  const seen = new Map<string, string>();
  const duplicates: string[] = [];
  for (const scenario of scenarios) {
    const earlier = seen.get(scenario.id);
    if (earlier !== undefined) {
      duplicates.push(`${scenario.source}: id: ${scenario.id} is already used at ${earlier}`);
    }
    seen.set(scenario.id, scenario.source);
  }
  if (duplicates.length > 0) {
    throw new WarrenError(ErrorCode.BadInput, `duplicate scenario ids:\n${duplicates.join('\n')}`);
  }
  return scenarios;
}

/** Loads and validates a profile (default: the shipped reference profile). */
export function loadProfile(file: string = referenceProfilePath): Profile {
  const parsed = parseYaml(file);
  return { ...validate(parsed, profileSchema), source: parsed.name };
}
