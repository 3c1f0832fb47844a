/**
 * Target files (`--target FILE`, YAML): `kind: local | staging | amazon-mq`, a `name`, and
 * `nonProduction: true`, without which Warren refuses to inject anything (the staging guard).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { ErrorCode, WarrenError } from '../../lib/errors.js';

import { AmazonMqTargetSchema, amazonMqTarget } from './amazon-mq.js';
import { localTarget } from './local.js';
import { StagingTargetSchema, stagingTarget } from './staging.js';
import { assertNonProduction, type Target } from './target.js';

/** `kind: local` files choose the broker version and the auth chain of the local stack. */
const LocalTargetSchema = z.strictObject({
  kind: z.literal('local'),
  name: z.string().min(1),
  nonProduction: z.boolean().optional(),
  brokerVersion: z.enum(['3.10', '4.0']).optional(),
  cache: z.boolean().optional(),
  authTimeoutMs: z.number().int().positive().optional(),
  fallbackInternal: z.boolean().optional(),
  /** false: reference-auth gets no management credentials (shows the never-expiring session). */
  eviction: z.boolean().optional(),
});

const TargetFileSchema = z.looseObject({
  kind: z.enum(['local', 'staging', 'amazon-mq']),
  name: z.string().min(1),
  nonProduction: z.boolean().optional(),
});

/**
 * Reads a target file and builds the target. Fails with WARREN_ERR_BAD_INPUT naming the field,
 * or WARREN_ERR_UNSAFE_TARGET when the non-production mark is missing or false.
 */
export async function loadTarget(file: string): Promise<Target> {
  const path = resolve(file);
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    throw new WarrenError(ErrorCode.BadOption, `--target ${path}: cannot read: ${String(error)}`);
  });
  const raw = parseYaml(text) as unknown;
  const head = TargetFileSchema.safeParse(raw);
  if (!head.success) {
    const issue = head.error.issues[0];
    throw new WarrenError(
      ErrorCode.BadInput,
      `${path}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  const description = {
    kind: head.data.kind,
    name: head.data.name,
    nonProduction: head.data.nonProduction === true,
  };
  assertNonProduction(description);
  switch (head.data.kind) {
    case 'local': {
      const file = parseWith(LocalTargetSchema, raw, path);
      return localTarget({
        name: file.name,
        brokerVersion: file.brokerVersion,
        cache: file.cache,
        authTimeoutMs: file.authTimeoutMs,
        fallbackInternal: file.fallbackInternal,
        eviction: file.eviction,
      });
    }
    case 'staging':
      return stagingTarget(parseWith(StagingTargetSchema, raw, path), path);
    case 'amazon-mq':
      return amazonMqTarget(parseWith(AmazonMqTargetSchema, raw, path));
    default:
      throw new WarrenError(
        ErrorCode.BadInput,
        `${path}: kind: "${head.data.kind}" is not supported yet`,
      );
  }
}

/** Validates the whole file against its kind's schema; errors name file and field. */
function parseWith<T>(schema: z.ZodType<T>, raw: unknown, path: string): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  throw new WarrenError(ErrorCode.BadInput, `${path}: ${problems}`);
}
