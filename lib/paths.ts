import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the folder holding package.json. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The ignored folder for everything generated at run time (CA keys, broker data, IdP keys,
 * the RabbitMQ 4.0 root). `WARREN_STATE_DIR` overrides it; default `<repo>/.warren`.
 */
export function stateDir(...segments: string[]): string {
  const base = process.env['WARREN_STATE_DIR'] ?? join(repoRoot, '.warren');
  return join(resolve(base), ...segments);
}

/** Where runs write reports: `WARREN_REPORTS_DIR`, default `<repo>/reports`. */
export function reportsDir(...segments: string[]): string {
  const base = process.env['WARREN_REPORTS_DIR'] ?? join(repoRoot, 'reports');
  return join(resolve(base), ...segments);
}
