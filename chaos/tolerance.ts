/**
 * Judging outputs: exact, range, regex and JSON-path tolerances.
 * The JSON path dialect is the small, common subset: `$`, `.key`, `['key']`, `[index]`.
 */
import { ErrorCode, WarrenError } from '../lib/errors.js';

import type { Tolerance } from './model.js';

/** The verdict on one output, with a line saying why, for the journal. */
export interface ToleranceResult {
  met: boolean;
  detail: string;
}

/** Splits `$.a.b[0]['c d']` into `['a', 'b', 0, 'c d']`; throws WARREN_ERR_BAD_INPUT when malformed. */
export function parseJsonPath(path: string): (string | number)[] {
  if (!path.startsWith('$')) {
    throw new WarrenError(ErrorCode.BadInput, `JSON path "${path}" must start with "$"`);
  }
  const segments: (string | number)[] = [];
  const pattern = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y;
  let position = 1;
  while (position < path.length) {
    pattern.lastIndex = position;
    const match = pattern.exec(path);
    if (!match) {
      throw new WarrenError(
        ErrorCode.BadInput,
        `JSON path "${path}" is malformed at character ${position + 1}; use $.key, [0] or ['key']`,
      );
    }
    const [, key, index, single, double] = match;
    segments.push(index !== undefined ? Number(index) : (key ?? single ?? double ?? ''));
    position = pattern.lastIndex;
  }
  return segments;
}

/** The value at `path` in `value`, or `undefined` when any step is missing. */
export function selectJsonPath(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const segment of parseJsonPath(path)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

/** Judges `output` against `tolerance`. Never throws for a mismatch; only for a bad path. */
export function checkTolerance(tolerance: Tolerance, output: unknown): ToleranceResult {
  const selected = tolerance.path === undefined ? output : selectJsonPath(output, tolerance.path);
  const where = tolerance.path ?? 'output';
  switch (tolerance.type) {
    case 'exact': {
      const met = deepEqual(selected, tolerance.value);
      return verdict(
        met,
        `${where} ${met ? 'is' : 'is not'} ${show(tolerance.value)} (got ${show(selected)})`,
      );
    }
    case 'range':
      return checkRange(tolerance, selected, where);
    case 'regex': {
      const text = typeof selected === 'string' ? selected : JSON.stringify(selected);
      const met = new RegExp(tolerance.pattern, tolerance.flags).test(text ?? '');
      return verdict(
        met,
        `${where} ${met ? 'matches' : 'does not match'} /${tolerance.pattern}/ (got ${show(selected)})`,
      );
    }
    case 'jsonpath': {
      if (selected === undefined) return verdict(false, `${where} does not resolve`);
      if (tolerance.equals === undefined) return verdict(true, `${where} resolves`);
      const met = deepEqual(selected, tolerance.equals);
      return verdict(
        met,
        `${where} ${met ? 'is' : 'is not'} ${show(tolerance.equals)} (got ${show(selected)})`,
      );
    }
  }
}

function checkRange(
  tolerance: Extract<Tolerance, { type: 'range' }>,
  selected: unknown,
  where: string,
): ToleranceResult {
  const bounds = `[${tolerance.min ?? '-inf'}, ${tolerance.max ?? 'inf'}]`;
  if (typeof selected !== 'number' || Number.isNaN(selected)) {
    return verdict(false, `${where} is not a number (got ${show(selected)})`);
  }
  const met =
    (tolerance.min === undefined || selected >= tolerance.min) &&
    (tolerance.max === undefined || selected <= tolerance.max);
  return verdict(met, `${where} = ${selected} ${met ? 'within' : 'outside'} ${bounds}`);
}

function verdict(met: boolean, detail: string): ToleranceResult {
  return { met, detail };
}

/** Short rendering for journal lines; long values are cut so a body cannot flood the report. */
function show(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) =>
    deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}
