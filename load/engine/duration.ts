import { ErrorCode, WarrenError } from '../../lib/errors.js';

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a k6-style duration ("250ms", "30s", "1m30s", "2h") into milliseconds. A bare number
 * is taken as seconds, as k6 does. `field` names the option in the error message.
 */
export function parseDurationMs(text: string | number, field: string): number {
  if (typeof text === 'number') return checkFinite(text * 1000, field, String(text));
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  const consumed = parts.map((p) => p[0]).join('');
  if (parts.length === 0 || consumed !== trimmed) {
    throw new WarrenError(
      ErrorCode.BadOption,
      `${field}: "${text}" is not a duration; write e.g. 500ms, 30s, 1m30s or 2h`,
    );
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * (unitMs[p[2] ?? 's'] ?? 1000), 0);
}

function checkFinite(ms: number, field: string, text: string): number {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new WarrenError(ErrorCode.BadOption, `${field}: "${text}" is not a duration`);
  }
  return ms;
}

/** Formats milliseconds the way k6 prints durations: "850µs", "12.3ms", "1.52s". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 1) return `${(ms * 1000).toFixed(0)}µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}
