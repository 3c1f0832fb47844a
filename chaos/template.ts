/**
 * `${name}` placeholders in drill strings, filled from the run's variables (target URLs, ports
 * allocated for the drill, proxy ports), and redaction of secrets before anything is recorded.
 */
import { ErrorCode, WarrenError } from '../lib/errors.js';

/** Variables a drill may use: flat dotted names (`proxies.auth.port`, `target.amqpUrl`). */
export type Vars = Readonly<Record<string, string | number>>;

const placeholder = /\$\{([A-Za-z0-9_.-]+)\}/g;

/** Replaces every `${name}` in `text`; an unknown name is a WARREN_ERR_BAD_INPUT naming it. */
export function fillString(text: string, vars: Vars, field: string): string {
  return text.replace(placeholder, (_whole, name: string) => {
    const value = vars[name];
    if (value === undefined) {
      const known = Object.keys(vars).sort().join(', ') || 'none';
      throw new WarrenError(
        ErrorCode.BadInput,
        `${field}: unknown variable \${${name}} (known: ${known})`,
      );
    }
    return String(value);
  });
}

/**
 * Fills placeholders in every string of a plain value (objects, arrays). Functions and other
 * non-plain values pass through untouched: TypeScript drills may carry callbacks.
 */
export function fillDeep<T>(value: T, vars: Vars, field: string): T {
  if (typeof value === 'string') return fillString(value, vars, field) as T;
  if (Array.isArray(value)) {
    return value.map((item, index) => fillDeep(item, vars, `${field}[${index}]`)) as T;
  }
  if (
    value !== null &&
    typeof value === 'object' &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    const entries = Object.entries(value).map(([key, item]) => [
      key,
      fillDeep(item, vars, `${field}.${key}`),
    ]);
    return Object.fromEntries(entries) as T;
  }
  return value;
}

const secretKey = /pass(word)?|secret|token|authorization|private|credential/i;

/**
 * Copies `value` with secrets removed: user info in URLs and any property whose name suggests
 * a credential. Journals, JUnit and HTML reports only ever see redacted values.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(/(\w+:\/\/)[^/@\s]+@/g, '$1***@');
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const entries = Object.entries(value).map(([key, item]) => [
    key,
    secretKey.test(key) ? '***' : redact(item, depth + 1),
  ]);
  return Object.fromEntries(entries);
}
