/**
 * The policy's pattern language for vhosts, names and routing keys, modelled on AMQP topic
 * bindings so it reads naturally to RabbitMQ users:
 *
 * - words are separated by `.`;
 * - `#` as a whole word matches zero or more words;
 * - `*` matches one or more characters other than `.` and `#` (a whole word, or the rest of a word
 *   as in `amq.gen-*`); excluding `#` keeps a binding key `acme.#` from passing as one word;
 * - `{tenant}`, `{username}`, `{service}`, `{claim:NAME}` are replaced by the caller's value as a
 *   literal: its characters are escaped, never interpreted;
 * - everything else is literal.
 *
 * A placeholder whose value is missing, empty, or contains `.`, `*` or `#` voids the whole
 * pattern (it matches nothing): such a value could otherwise change the word structure and reach
 * another tenant's names. Deny is the safe failure.
 */

/** A compiled pattern. */
export interface Matcher {
  test(value: string): boolean;
  /** The source pattern, for logs and error messages. */
  readonly source: string;
}

/** Placeholder values for one caller. */
export type PatternVars = Readonly<Record<string, string | undefined>>;

const placeholderRe = /\{([A-Za-z_][A-Za-z0-9_]*(?::[A-Za-z0-9_.:-]+)?)\}/g;
const unsafeValueRe = /[.*#]/;
const never: Omit<Matcher, 'source'> = { test: () => false };

/** Placeholder names a pattern uses (for validation at load time). */
export function placeholdersOf(pattern: string): string[] {
  return [...pattern.matchAll(placeholderRe)].map((m) => m[1] as string);
}

/** True when the name is a placeholder the language knows. */
export function isKnownPlaceholder(name: string): boolean {
  return ['tenant', 'username', 'service'].includes(name) || /^claim:[A-Za-z0-9_.:-]+$/.test(name);
}

/** Compiles a pattern for one caller's placeholder values; never throws on caller data. */
export function compilePattern(pattern: string, vars: PatternVars): Matcher {
  const substituted = substitute(pattern, vars);
  if (substituted === undefined) return { ...never, source: pattern };
  const regex = new RegExp(`^${wordsToRegex(substituted)}$`);
  return { test: (value) => regex.test(value), source: pattern };
}

/** One piece of a pattern word: literal text or a `*` wildcard. */
type Piece = { literal: string } | { star: true };

/** Splits into words of pieces, replacing placeholders by literals; undefined when voided. */
function substitute(pattern: string, vars: PatternVars): Piece[][] | undefined {
  const words: Piece[][] = [];
  for (const word of splitWords(pattern)) {
    const pieces: Piece[] = [];
    for (const token of word.match(/\{[^}]*\}|\*|[^{*]+|\{/g) ?? []) {
      const placeholder = /^\{([^}]*)\}$/.exec(token);
      if (placeholder && isKnownPlaceholder(placeholder[1] as string)) {
        const value = vars[placeholder[1] as string];
        if (value === undefined || value === '' || unsafeValueRe.test(value)) return undefined;
        pieces.push({ literal: value });
      } else if (token === '*') {
        pieces.push({ star: true });
      } else {
        pieces.push({ literal: token });
      }
    }
    words.push(pieces);
  }
  return words;
}

/** Splits on dots outside placeholders (a `{claim:a.b}` name may contain dots). */
function splitWords(pattern: string): string[] {
  const words: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of pattern) {
    if (ch === '{') depth += 1;
    if (ch === '}') depth = Math.max(0, depth - 1);
    if (ch === '.' && depth === 0) {
      words.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  words.push(current);
  return words;
}

function isHash(word: Piece[]): boolean {
  return word.length === 1 && 'literal' in word[0]! && word[0].literal === '#';
}

function wordsToRegex(words: Piece[][]): string {
  if (words.length === 1 && isHash(words[0]!)) return '[\\s\\S]*';
  let out = '';
  let leadingHash = false;
  words.forEach((word, i) => {
    if (isHash(word)) {
      // `#` at the start eats "words." before the next word; elsewhere ".words" after the last.
      if (i === 0) {
        out += '(?:[\\s\\S]*\\.)?';
        leadingHash = true;
      } else {
        out += '(?:\\.[\\s\\S]*)?';
      }
      return;
    }
    const separator = i === 0 || (i === 1 && leadingHash) ? '' : '\\.';
    out += separator + wordToRegex(word);
  });
  return out;
}

function wordToRegex(word: Piece[]): string {
  const wholeStar = word.length === 1 && 'star' in word[0]!;
  return word
    .map((piece) =>
      'star' in piece ? (wholeStar ? '[^.#]+' : '[^.#]*') : escapeRegex(piece.literal),
    )
    .join('');
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}
