import { describe, expect, it } from 'vitest';

import { ErrorCode, isWarrenError } from '../../lib/errors.js';
import { MetricsStore } from '../engine/metrics.js';
import {
  compileThresholds,
  evaluateThreshold,
  parseCondition,
  parseMetricSelector,
  parseThresholdFlag,
} from '../engine/thresholds.js';

describe('threshold conditions', () => {
  it.each([
    ['p(95)<10', { kind: 'percentile', p: 95 }, '<', 10, undefined],
    ['p(99.9) <= 25', { kind: 'percentile', p: 99.9 }, '<=', 25, undefined],
    ['rate<0.001', { kind: 'rate' }, '<', 0.001, undefined],
    ['count<1', { kind: 'count' }, '<', 1, undefined],
    ['avg < 5', { kind: 'avg' }, '<', 5, undefined],
    ['med>=2', { kind: 'med' }, '>=', 2, undefined],
    ['max==0', { kind: 'max' }, '==', 0, undefined],
    ['min!=3', { kind: 'min' }, '!=', 3, undefined],
    ['value>1e3', { kind: 'value' }, '>', 1000, undefined],
    ['p(99)<25 each 10s', { kind: 'percentile', p: 99 }, '<', 25, 10],
    ['rate>0.99 each 1m', { kind: 'rate' }, '>', 0.99, 60],
  ])('parses %s', (text, aggregation, operator, value, windowSeconds) => {
    const condition = parseCondition(text);
    expect(condition.aggregation).toEqual(aggregation);
    expect(condition.operator).toBe(operator);
    expect(condition.value).toBe(value);
    expect(condition.windowSeconds).toBe(windowSeconds);
  });

  it.each([
    ['p(95<10', 3, 'p(N)'],
    ['p95<10', 1, 'aggregation'],
    ['avg 10', 5, 'operator'],
    ['avg<', 5, 'number'],
    ['avg<ten', 5, 'number'],
    ['p(101)<1', 3, 'percentile 0–100'],
    ['avg<10 per 10s', 8, 'each <duration>'],
    ['avg<10 each 1500ms', 8, 'whole seconds'],
  ])('rejects %s, naming the expression and position %i', (text, position, expected) => {
    let caught: unknown;
    try {
      parseCondition(text);
    } catch (error) {
      caught = error;
    }
    expect(isWarrenError(caught, ErrorCode.BadInput)).toBe(true);
    const message = (caught as Error).message;
    expect(message).toContain(`"${text}"`);
    expect(message).toContain(`position ${position}`);
    expect(message).toContain(expected);
  });
});

describe('threshold metric selectors', () => {
  it.each([
    ['http_req_duration', 'http_req_duration', {}],
    ['http_req_duration{endpoint:user}', 'http_req_duration', { endpoint: 'user' }],
    ['amqp_phase{phase:tls, endpoint : user}', 'amqp_phase', { phase: 'tls', endpoint: 'user' }],
    ['checks{check:"valid login allowed"}', 'checks', { check: 'valid login allowed' }],
  ])('parses %s', (text, name, tags) => {
    expect(parseMetricSelector(text)).toMatchObject({ name, tags });
  });

  it.each(['9lives', 'http{endpoint}', 'http{endpoint:user', 'http{a:b} extra', 'http endpoint'])(
    'rejects %s',
    (text) => {
      expect(() => parseMetricSelector(text)).toThrow(/threshold metric/);
    },
  );

  it('splits the CLI form at the first colon after the tags', () => {
    expect(parseThresholdFlag('http_req_duration{endpoint:user}:p(95)<10')).toEqual({
      metric: 'http_req_duration{endpoint:user}',
      condition: 'p(95)<10',
      abortOnFail: false,
    });
    expect(parseThresholdFlag('http_req_failed:rate<0.01 abortOnFail')).toEqual({
      metric: 'http_req_failed',
      condition: 'rate<0.01',
      abortOnFail: true,
    });
    expect(() => parseThresholdFlag('http_req_failed')).toThrow(/METRIC:CONDITION/);
  });
});

function storeWithLatencies(): MetricsStore {
  const store = new MetricsStore();
  // user answers in 1..100 ms over seconds 0-9; topic answers in 2 ms; second 5 stalls at 200 ms.
  for (let second = 0; second < 10; second++) {
    for (let i = 1; i <= 100; i++) {
      const ms = second === 5 ? 200 : i;
      store.add('http_req_duration', 'trend', ms, { endpoint: 'user' }, second);
      store.add('http_req_duration', 'trend', 2, { endpoint: 'topic' }, second);
      store.add('http_req_failed', 'rate', i === 1 && second === 0, { endpoint: 'user' }, second);
      store.add('http_reqs', 'counter', 2, {}, second);
    }
  }
  return store;
}

describe('threshold evaluation', () => {
  const store = storeWithLatencies();
  const judge = (metric: string, condition: string) =>
    evaluateThreshold(compileThresholds([{ metric, condition }])[0]!, store, 10);

  it.each([
    ['http_req_duration{endpoint:topic}', 'p(95)<3', true],
    ['http_req_duration{endpoint:user}', 'p(95)<10', false],
    ['http_req_duration{endpoint:user}', 'max<=200', true],
    ['http_req_duration', 'min>=1', true],
    ['http_req_duration{endpoint:user}', 'med<60', true],
    ['http_req_failed', 'rate<0.002', true],
    ['http_req_failed', 'rate<0.001', false],
    ['http_req_failed', 'count==1000', true],
    ['http_reqs', 'count==2000', true],
    ['http_reqs', 'rate==200', true],
    ['http_req_duration{endpoint:user}', 'p(99)<150 each 3s', false],
    ['http_req_duration{endpoint:topic}', 'p(99)<3 each 3s', true],
    ['no_such_metric', 'count<1', true],
  ])('%s %s → %s', (metric, condition, ok) => {
    expect(judge(metric, condition).ok).toBe(ok);
  });

  it('reports where the worst rolling window starts', () => {
    const result = judge('http_req_duration{endpoint:user}', 'p(99)<150 each 2s');
    expect(result.observed).toBeCloseTo(200, 0);
    expect(result.worstWindowStartSecond).toBe(4);
  });

  it('fails a threshold on a metric without samples, saying so', () => {
    const result = judge('no_such_metric', 'p(95)<10');
    expect(result.ok).toBe(false);
    expect(result.note).toMatch(/no samples/);
  });
});
