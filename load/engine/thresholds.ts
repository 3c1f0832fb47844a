/**
 * Thresholds in k6's syntax — `p(95)<10`, `rate<0.001`, `count<1`, `avg`, `med`, `min`, `max`,
 * `value` — on any metric, optionally filtered by tags (`http_req_duration{endpoint:user}`),
 * plus what k6 lacks: rolling windows, written `p(99)<25 each 10s` ("in every 10 s window").
 * Times are in milliseconds, as in k6; counters' `rate` is per second.
 */
import { ErrorCode, WarrenError } from '../../lib/errors.js';
import { parseDurationMs } from './duration.js';
import { bucketPercentile } from './histogram.js';
import {
  mergeTotals,
  mergeWindow,
  type Aggregate,
  type MetricKind,
  type MetricsStore,
  type Tags,
} from './metrics.js';

export type Aggregation =
  | { kind: 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' | 'value' }
  | { kind: 'percentile'; p: number };

export type Operator = '<' | '<=' | '>' | '>=' | '==' | '===' | '!=';

export interface MetricSelector {
  name: string;
  tags: Tags;
  /** As written, for reports. */
  source: string;
}

export interface Condition {
  aggregation: Aggregation;
  operator: Operator;
  value: number;
  /** Rolling window length in whole seconds; undefined = whole run. */
  windowSeconds?: number;
  source: string;
}

/** A threshold as a scenario declares it. */
export interface ThresholdSpec {
  metric: string;
  condition: string;
  /** Stop the run as soon as this threshold fails (default false). */
  abortOnFail?: boolean;
}

export interface Threshold {
  selector: MetricSelector;
  condition: Condition;
  abortOnFail: boolean;
}

export interface ThresholdResult {
  metric: string;
  condition: string;
  ok: boolean;
  abortOnFail: boolean;
  /** The observed value (for windows: the worst window), undefined without samples. */
  observed?: number;
  /** For window thresholds: the run second where the worst window starts. */
  worstWindowStartSecond?: number;
  /** Set when the threshold could not be judged (no samples, wrong aggregation). */
  note?: string;
}

function parseError(what: string, text: string, position: number, expected: string): never {
  throw new WarrenError(
    ErrorCode.BadInput,
    `${what} "${text}": ${expected} at position ${position + 1}` +
      ` (after "${text.slice(0, position)}")`,
  );
}

/** Parses `name` or `name{tag:value,tag:value}`. */
export function parseMetricSelector(text: string): MetricSelector {
  const what = 'threshold metric';
  const match = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*/.exec(text);
  if (!match?.[1]) parseError(what, text, 0, 'expected a metric name ([A-Za-z_][A-Za-z0-9_.]*)');
  const name = match[1];
  let position = match[0].length;
  const tags: Record<string, string> = {};
  if (position < text.length) {
    if (text[position] !== '{') parseError(what, text, position, 'expected "{" or the end');
    const close = text.indexOf('}', position);
    if (close < 0) parseError(what, text, text.length, 'expected "}"');
    if (text.slice(close + 1).trim() !== '') parseError(what, text, close + 1, 'expected the end');
    position += 1;
    for (const pair of text.slice(position, close).split(',')) {
      const colon = pair.indexOf(':');
      const key = pair.slice(0, colon).trim();
      const value = pair
        .slice(colon + 1)
        .trim()
        .replace(/^["'](.*)["']$/, '$1');
      if (colon < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || value === '') {
        parseError(what, text, position, 'expected tag:value');
      }
      tags[key] = value;
      position += pair.length + 1;
    }
  }
  return { name, tags, source: text.trim() };
}

const operators: Operator[] = ['===', '==', '!=', '<=', '>=', '<', '>'];

/** Parses `p(95)<10`, `rate<0.001`, `avg<=5`, `p(99)<25 each 10s`. */
export function parseCondition(text: string): Condition {
  const what = 'threshold';
  let position = skipSpaces(text, 0);
  const { aggregation, end } = parseAggregation(text, position);
  position = skipSpaces(text, end);
  const operator = operators.find((op) => text.startsWith(op, position));
  if (!operator) parseError(what, text, position, 'expected an operator (<, <=, >, >=, ==, !=)');
  position = skipSpaces(text, position + operator.length);
  const number = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(text.slice(position));
  if (!number) parseError(what, text, position, 'expected a number');
  position = skipSpaces(text, position + number[0].length);
  const condition: Condition = {
    aggregation,
    operator,
    value: Number(number[0]),
    source: text.trim(),
  };
  if (position < text.length) {
    const window = /^each\s+(\S+)\s*$/.exec(text.slice(position));
    if (!window?.[1]) parseError(what, text, position, 'expected "each <duration>" or the end');
    const windowMs = parseDurationMs(window[1], `threshold "${text}"`);
    if (windowMs < 1000 || windowMs % 1000 !== 0) {
      parseError(what, text, position, 'expected a window of whole seconds (e.g. each 10s)');
    }
    condition.windowSeconds = windowMs / 1000;
  }
  return condition;
}

function skipSpaces(text: string, position: number): number {
  while (text[position] === ' ' || text[position] === '\t') position++;
  return position;
}

function parseAggregation(
  text: string,
  position: number,
): { aggregation: Aggregation; end: number } {
  const percentile = /^p\(\s*(\d+(\.\d+)?)\s*\)/.exec(text.slice(position));
  if (percentile?.[1]) {
    const p = Number(percentile[1]);
    if (p > 100) parseError('threshold', text, position + 2, 'expected a percentile 0–100');
    return { aggregation: { kind: 'percentile', p }, end: position + percentile[0].length };
  }
  if (text.startsWith('p(', position)) {
    parseError('threshold', text, position + 2, 'expected p(N) with a number N and ")"');
  }
  const word = /^[a-z]+/.exec(text.slice(position))?.[0] ?? '';
  const simple = ['avg', 'min', 'max', 'med', 'count', 'rate', 'value'] as const;
  const kind = simple.find((k) => k === word);
  if (!kind) {
    parseError(
      'threshold',
      text,
      position,
      'expected an aggregation: avg, min, max, med, p(N), count, rate or value',
    );
  }
  return { aggregation: { kind }, end: position + word.length };
}

/** Parses the CLI form `metric{tags}:condition` (the first ":" after any "}"). */
export function parseThresholdFlag(text: string): ThresholdSpec {
  const afterTags = text.includes('}') ? text.indexOf('}') + 1 : 0;
  const colon = text.indexOf(':', afterTags);
  if (colon < 0) {
    parseError(
      '--threshold',
      text,
      text.length,
      'expected METRIC:CONDITION (e.g. http_req_failed:rate<0.001)',
    );
  }
  let condition = text.slice(colon + 1).trim();
  const abortOnFail = /\s+abortOnFail$/.test(condition);
  condition = condition.replace(/\s+abortOnFail$/, '');
  return { metric: text.slice(0, colon).trim(), condition, abortOnFail };
}

/** Compiles declared thresholds, so every parse error surfaces before the run starts. */
export function compileThresholds(specs: ThresholdSpec[]): Threshold[] {
  return specs.map((spec) => ({
    selector: parseMetricSelector(spec.metric),
    condition: parseCondition(spec.condition),
    abortOnFail: spec.abortOnFail ?? false,
  }));
}

/** Value of an aggregation over an aggregate; times in ms, counter rate per `seconds`. */
function aggregateValue(
  aggregation: Aggregation,
  kind: MetricKind,
  total: Aggregate,
  seconds: number,
  percentileOf?: (p: number) => number,
): number | undefined {
  if (aggregation.kind === 'count') return kind === 'counter' ? total.sum : total.count;
  if (total.count === 0) return undefined;
  const timeScale = kind === 'trend' ? 1000 : 1;
  const percentile = (p: number): number =>
    (percentileOf ? percentileOf(p) : bucketPercentile(total.buckets ?? new Map(), p)) / timeScale;
  switch (aggregation.kind) {
    case 'avg':
      return total.sum / total.count / timeScale;
    case 'min':
      return total.min / timeScale;
    case 'max':
      return total.max / timeScale;
    case 'med':
      return kind === 'trend' ? percentile(50) : undefined;
    case 'percentile':
      return kind === 'trend' ? percentile(aggregation.p) : undefined;
    case 'rate':
      if (kind === 'rate') return total.passes / total.count;
      return kind === 'counter' ? total.sum / Math.max(seconds, 1e-9) : undefined;
    case 'value':
      return total.last;
  }
}

function compare(observed: number, operator: Operator, value: number): boolean {
  switch (operator) {
    case '<':
      return observed < value;
    case '<=':
      return observed <= value;
    case '>':
      return observed > value;
    case '>=':
      return observed >= value;
    case '==':
    case '===':
      return observed === value;
    case '!=':
      return observed !== value;
  }
}

/** Judges one threshold over a store; `durationSeconds` is the run length (counter rates). */
export function evaluateThreshold(
  threshold: Threshold,
  store: MetricsStore,
  durationSeconds: number,
): ThresholdResult {
  const { selector, condition } = threshold;
  const base = {
    metric: selector.source,
    condition: condition.source,
    abortOnFail: threshold.abortOnFail,
  };
  const series = store.select(selector.name, selector.tags);
  if (condition.windowSeconds !== undefined) {
    return { ...base, ...evaluateWindows(condition, series, store.lastSecond()) };
  }
  const merged = mergeTotals(series);
  const histogram = merged?.histogram;
  const observed = merged
    ? aggregateValue(
        condition.aggregation,
        merged.kind,
        merged.total,
        durationSeconds,
        histogram ? (p) => histogram.hdr.percentile(Math.max(p, 1e-9)) : undefined,
      )
    : condition.aggregation.kind === 'count'
      ? 0
      : undefined;
  if (observed === undefined) return { ...base, ok: false, note: 'no samples for this metric' };
  return { ...base, ok: compare(observed, condition.operator, condition.value), observed };
}

function evaluateWindows(
  condition: Condition,
  series: ReturnType<MetricsStore['select']>,
  lastSecond: number,
): Omit<ThresholdResult, 'metric' | 'condition' | 'abortOnFail'> {
  const width = condition.windowSeconds ?? 1;
  const kind = series[0]?.kind;
  if (!kind) return { ok: false, note: 'no samples for this metric' };
  // A run shorter than the window is judged as one window.
  const lastStart = Math.max(0, lastSecond - width + 1);
  let worst: { observed: number; start: number; ok: boolean } | undefined;
  for (let start = 0; start <= lastStart; start++) {
    const window = mergeWindow(series, start, start + width);
    if (!window) continue;
    const observed = aggregateValue(condition.aggregation, kind, window, width);
    if (observed === undefined) continue;
    const ok = compare(observed, condition.operator, condition.value);
    if (
      !worst ||
      (worst.ok && !ok) ||
      (worst.ok === ok && isWorse(observed, worst.observed, condition))
    ) {
      worst = { observed, start, ok };
    }
  }
  if (!worst) return { ok: false, note: 'no samples for this metric' };
  return { ok: worst.ok, observed: worst.observed, worstWindowStartSecond: worst.start };
}

/** For "<" thresholds a higher value is worse; for ">" a lower one. */
function isWorse(candidate: number, current: number, condition: Condition): boolean {
  return condition.operator.startsWith('>') ? candidate < current : candidate > current;
}
