/**
 * Placeholders in scenario data: `${name}` takes a profile variable (or a built-in such as
 * `${unique}`), and claim values such as `now-3600` or `now+skew+5` become epoch seconds when
 * the token is minted, so a scenario states boundaries relative to the moment it runs.
 */

const PLACEHOLDER = /\$\{([A-Za-z0-9_.:-]+)\}/g;
/** `${repeat:2000:a}`: the text repeated, for oversized values that would not fit in YAML. */
const REPEAT = /^repeat:(\d{1,6}):(.+)$/;

/** Thrown when a scenario needs a variable the profile does not define; the scenario is skipped. */
export class MissingVariable extends Error {
  override readonly name = 'MissingVariable';
  constructor(readonly variable: string) {
    super(`the profile defines no variable "${variable}"`);
  }
}

/** Names of every `${...}` placeholder in a value (strings, arrays, objects). */
export function placeholdersIn(value: unknown): Set<string> {
  const found = new Set<string>();
  const visit = (item: unknown): void => {
    if (typeof item === 'string') {
      for (const match of item.matchAll(PLACEHOLDER)) found.add(match[1] as string);
    } else if (Array.isArray(item)) {
      item.forEach(visit);
    } else if (item !== null && typeof item === 'object') {
      Object.entries(item).forEach(([key, inner]) => {
        visit(key);
        visit(inner);
      });
    }
  };
  visit(value);
  return found;
}

/** Replaces placeholders in strings, deeply; other values are kept. */
export function fill<T>(value: T, vars: Readonly<Record<string, string>>): T {
  if (typeof value === 'string') {
    return value.replace(PLACEHOLDER, (_whole, name: string) => {
      const repeat = REPEAT.exec(name);
      if (repeat !== null) return (repeat[2] as string).repeat(Number(repeat[1]));
      const replacement = vars[name];
      if (replacement === undefined) throw new MissingVariable(name);
      return replacement;
    }) as T;
  }
  if (Array.isArray(value)) return value.map((item: unknown) => fill(item, vars)) as T;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([key, inner]) => [
      fill(key, vars),
      fill(inner, vars),
    ]);
    return Object.fromEntries(entries) as T;
  }
  return value;
}

const TIME_EXPRESSION = /^now((?:\s*[+-]\s*(?:\d+|skew|life))*)$/;
const TERM = /([+-])\s*(\d+|skew|life)/g;

/** Context for time expressions: the current epoch second, the skew and token lifetime. */
export interface TimeContext {
  nowSeconds: number;
  skewSeconds: number;
  lifetimeSeconds: number;
}

/**
 * `now`, `now-3600`, `now+skew+5`, `now+life` become epoch seconds; any other value (numbers,
 * strings such as `"soon"` used to test type confusion) is returned unchanged.
 */
export function resolveTime(value: unknown, context: TimeContext): unknown {
  if (typeof value !== 'string') return value;
  const match = TIME_EXPRESSION.exec(value);
  if (match === null) return value;
  let seconds = context.nowSeconds;
  for (const term of (match[1] ?? '').matchAll(TERM)) {
    const operand = term[2] as string;
    const amount =
      operand === 'skew'
        ? context.skewSeconds
        : operand === 'life'
          ? context.lifetimeSeconds
          : Number(operand);
    seconds += term[1] === '-' ? -amount : amount;
  }
  return seconds;
}
