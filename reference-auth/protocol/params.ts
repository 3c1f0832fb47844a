/**
 * Strict parsing of the broker's form encoding (RABBITMQ.md section 1), shared by GET query
 * strings and POST bodies so both methods answer identically. fastify's own parsers are not used:
 * they turn repeated keys into arrays and would accept what the contract says to deny.
 */
import { ReasonCode } from '../decision.js';

/** Size limits (see config.ts `limits`). */
export interface ParamLimits {
  maxValueBytes: number;
  /** Limit for the `password` value (JWTs are longer than other values). */
  maxPasswordBytes: number;
  maxParameters: number;
  maxRequestBytes: number;
}

/** Parsed parameters, or why the request is unusable. */
export type ParseResult =
  | { ok: true; values: ReadonlyMap<string, string> }
  | { ok: false; reason: ReasonCode; field?: string };

// C0 controls and DEL never appear in names the broker accepts; rejecting them also keeps the
// decision cache's NUL-separated keys unambiguous.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const controlCharRe = /[\u0000-\u001f\u007f]/;

/** Parses `key=value&…` (percent-encoding, `+` as space); never throws. */
export function parseForm(raw: string, limits: ParamLimits): ParseResult {
  if (Buffer.byteLength(raw, 'utf8') > limits.maxRequestBytes) {
    return { ok: false, reason: ReasonCode.OversizedParameter, field: '(request)' };
  }
  const values = new Map<string, string>();
  const pairs = raw.split('&').filter((pair) => pair !== '');
  if (pairs.length > limits.maxParameters)
    return { ok: false, reason: ReasonCode.MalformedRequest, field: '(count)' };
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = decode(eq < 0 ? '' : pair.slice(eq + 1));
    if (key === undefined || value === undefined)
      return { ok: false, reason: ReasonCode.MalformedRequest };
    const problem = checkPair(key, value, values, limits);
    if (problem) return problem;
    values.set(key, value);
  }
  return { ok: true, values };
}

function checkPair(
  key: string,
  value: string,
  seen: ReadonlyMap<string, string>,
  limits: ParamLimits,
): ParseResult | undefined {
  const field = safeFieldName(key);
  if (seen.has(key)) return { ok: false, reason: ReasonCode.DuplicateParameter, field };
  const limit = key === 'password' ? limits.maxPasswordBytes : limits.maxValueBytes;
  if (Buffer.byteLength(key) > limits.maxValueBytes || Buffer.byteLength(value) > limit) {
    return { ok: false, reason: ReasonCode.OversizedParameter, field };
  }
  if (controlCharRe.test(key) || controlCharRe.test(value)) {
    return { ok: false, reason: ReasonCode.MalformedRequest, field };
  }
  return undefined;
}

/** Decodes one form component; undefined for bad percent-escapes or invalid UTF-8. */
function decode(component: string): string | undefined {
  try {
    return decodeURIComponent(component.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/** Field names are logged: keep them short and printable. */
function safeFieldName(key: string): string {
  return key.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}

/** The query string of a raw request URL (empty when there is none). */
export function rawQuery(url: string | undefined): string {
  const at = url?.indexOf('?') ?? -1;
  return at < 0 || url === undefined ? '' : url.slice(at + 1);
}
