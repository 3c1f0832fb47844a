/**
 * Loading drill files: YAML (`.yaml`, `.yml`) or TypeScript (`.ts`, default export), validated
 * against the model on load. Errors name the file and the field: `kill-auth.yaml: method[2].
 * action.type: ...`.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

import { ErrorCode, WarrenError } from '../lib/errors.js';

import { DrillSchema, type Drill } from './model.js';

/** A validated drill and where it came from. */
export interface LoadedDrill {
  drill: Drill;
  file: string;
}

/** Reads and validates one drill file; WARREN_ERR_BAD_INPUT names file and field on error. */
export async function loadDrill(file: string): Promise<LoadedDrill> {
  const path = resolve(file);
  const raw = await readRaw(path);
  return { drill: validateDrill(raw, path), file: path };
}

/** Validates an already-parsed drill; `source` names it in errors. */
export function validateDrill(raw: unknown, source: string): Drill {
  const result = DrillSchema.safeParse(raw);
  if (!result.success) {
    throw new WarrenError(ErrorCode.BadInput, `${source}: ${formatIssues(result.error.issues)}`);
  }
  checkReferences(result.data, source);
  return result.data;
}

async function readRaw(path: string): Promise<unknown> {
  const extension = extname(path);
  if (extension === '.ts' || extension === '.js' || extension === '.mts') {
    const module = (await import(pathToFileURL(path).href).catch((error: unknown) => {
      throw new WarrenError(ErrorCode.BadInput, `${path}: cannot import: ${String(error)}`, {
        cause: error,
      });
    })) as { default?: unknown };
    if (module.default === undefined) {
      throw new WarrenError(
        ErrorCode.BadInput,
        `${path}: no default export (use export default defineDrill({...}))`,
      );
    }
    return module.default;
  }
  if (extension !== '.yaml' && extension !== '.yml') {
    throw new WarrenError(
      ErrorCode.BadInput,
      `${path}: unknown drill format; use .yaml, .yml or .ts`,
    );
  }
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    throw new WarrenError(ErrorCode.BadInput, `${path}: cannot read: ${String(error)}`, {
      cause: error,
    });
  });
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    throw new WarrenError(ErrorCode.BadInput, `${path}: invalid YAML: ${String(error)}`, {
      cause: error,
    });
  }
}

/** `method[2].action.type: Invalid option ...; title: Required`. */
function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${formatPath(issue.path) || '(root)'}: ${issue.message}`)
    .join('; ');
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : `${index === 0 ? '' : '.'}${String(segment)}`,
    )
    .join('');
}

/** Names used across fields must exist: processes, proxies, `since`, unique step names. */
function checkReferences(drill: Drill, source: string): void {
  const problems: string[] = [];
  const processes = new Set(Object.keys(drill.processes ?? {}));
  // A target with `auth-proxy` puts a proxy named `auth` in front of its auth service.
  const targetProxies = drill.requires?.includes('auth-proxy') ? ['auth'] : [];
  const proxies = new Set([...Object.keys(drill.proxies ?? {}), ...targetProxies]);
  const seen = new Set<string>();
  const checkAction = (
    action: { type: string; process?: string; proxy?: string },
    field: string,
  ) => {
    if (action.process !== undefined && !processes.has(action.process)) {
      problems.push(`${field}.process: no process "${action.process}" under processes`);
    }
    if (action.proxy !== undefined && !proxies.has(action.proxy)) {
      problems.push(`${field}.proxy: no proxy "${action.proxy}" under proxies`);
    }
  };
  for (const [index, activity] of drill.method.entries()) {
    const field = `method[${index}]`;
    if (seen.has(activity.name)) problems.push(`${field}.name: "${activity.name}" is used twice`);
    if (activity.type === 'action') checkAction(activity.action, `${field}.action`);
    if (activity.type === 'probe' || activity.type === 'measure')
      checkAction(activity.provider, `${field}.provider`);
    if (activity.type === 'measure' && activity.since !== undefined && !seen.has(activity.since)) {
      problems.push(`${field}.since: no earlier step named "${activity.since}"`);
    }
    seen.add(activity.name);
  }
  for (const [index, rollback] of drill.rollbacks.entries())
    checkAction(rollback.action, `rollbacks[${index}].action`);
  if (problems.length > 0) {
    throw new WarrenError(ErrorCode.BadInput, `${source}: ${problems.join('; ')}`);
  }
}
