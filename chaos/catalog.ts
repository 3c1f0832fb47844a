/** The built-in drills (chaos/drills/) and resolving a CLI argument to a drill file. */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ErrorCode, WarrenError } from '../lib/errors.js';

/** Folder of the built-in drills. */
export const builtInDrillDir = join(dirname(fileURLToPath(import.meta.url)), 'drills');

const drillExtensions = ['.yaml', '.yml', '.ts'];

/** Names of the built-in drills, sorted (`kill-auth`, `slow-auth`, ...). */
export function listBuiltInDrills(): string[] {
  return readdirSync(builtInDrillDir)
    .filter((file) => drillExtensions.includes(extname(file)))
    .map((file) => basename(file, extname(file)))
    .sort();
}

/** A built-in name or a path to a drill file; WARREN_ERR_BAD_OPTION lists the names. */
export function resolveDrillFile(nameOrPath: string): string {
  if (drillExtensions.includes(extname(nameOrPath))) {
    const path = resolve(nameOrPath);
    if (existsSync(path)) return path;
    throw new WarrenError(ErrorCode.BadOption, `drill file ${path} does not exist`);
  }
  for (const extension of drillExtensions) {
    const path = join(builtInDrillDir, `${nameOrPath}${extension}`);
    if (existsSync(path)) return path;
  }
  throw new WarrenError(
    ErrorCode.BadOption,
    `unknown drill "${nameOrPath}"; built-in drills: ${listBuiltInDrills().join(', ')} (or give a .yaml/.ts path)`,
  );
}
