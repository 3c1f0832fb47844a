import { describe, expect, it } from 'vitest';

import { isWarrenError } from '../../lib/errors.js';
import type { Tolerance } from '../model.js';
import { checkTolerance, parseJsonPath, selectJsonPath } from '../tolerance.js';

const output = { status: 403, body: 'access_refused', json: { items: [{ id: 'a' }, { id: 'b' }] } };

describe('tolerances', () => {
  const rows: [string, Tolerance, unknown, boolean][] = [
    ['exact matches deep values', { type: 'exact', value: { a: [1, 2] } }, { a: [1, 2] }, true],
    [
      'exact rejects a different value',
      { type: 'exact', path: '$.status', value: 200 },
      output,
      false,
    ],
    [
      'range accepts a value inside',
      { type: 'range', path: '$.status', min: 400, max: 499 },
      output,
      true,
    ],
    ['range rejects a value outside', { type: 'range', path: '$.status', max: 399 }, output, false],
    ['range rejects a non-number', { type: 'range', path: '$.body', min: 0 }, output, false],
    ['regex matches text', { type: 'regex', path: '$.body', pattern: '^access_' }, output, true],
    [
      'regex honours flags',
      { type: 'regex', path: '$.body', pattern: 'REFUSED', flags: 'i' },
      output,
      true,
    ],
    ['regex rejects a miss', { type: 'regex', path: '$.body', pattern: '^allow' }, output, false],
    [
      'jsonpath accepts a resolving path',
      { type: 'jsonpath', path: '$.json.items[1].id' },
      output,
      true,
    ],
    [
      'jsonpath rejects a missing path',
      { type: 'jsonpath', path: '$.json.items[5]' },
      output,
      false,
    ],
    [
      'jsonpath compares with equals',
      { type: 'jsonpath', path: "$['json'].items[0].id", equals: 'a' },
      output,
      true,
    ],
  ];
  it.each(rows)('%s', (_title, tolerance, value, met) => {
    expect(checkTolerance(tolerance, value).met).toBe(met);
  });

  it('explains its verdict in the detail line', () => {
    const result = checkTolerance({ type: 'range', path: '$.status', max: 399 }, output);
    expect(result.detail).toBe('$.status = 403 outside [-inf, 399]');
  });
});

describe('JSON paths', () => {
  it('parses keys, indexes and quoted keys', () => {
    expect(parseJsonPath('$.a.b[2][\'c d\']["e"]')).toEqual(['a', 'b', 2, 'c d', 'e']);
  });

  it('returns undefined through a missing step', () => {
    expect(selectJsonPath({ a: null }, '$.a.b')).toBeUndefined();
  });

  it.each(['a.b', '$.a..b', '$[x]'])('rejects the malformed path %s', (path) => {
    expect(() => parseJsonPath(path)).toThrowError(
      expect.objectContaining({ code: 'WARREN_ERR_BAD_INPUT' }) as Error,
    );
    try {
      parseJsonPath(path);
    } catch (error) {
      expect(isWarrenError(error)).toBe(true);
    }
  });
});
