/**
 * Profiles: what a target backend's policy grants, so policy-dependent scenarios know what to
 * expect. A profile names identities (JWT claims, certificate usernames, static credentials)
 * and variables (vhosts, exchange names, routing keys) that scenarios use as `${name}`.
 */
import { z } from 'zod';

import { backendPathsSchema, defaultBackendPaths } from '../harness/auth-http/paths.js';
import { SAFE_TAGS } from './model.js';

const tags = z.array(z.enum(SAFE_TAGS)).default([]);

const identitySchema = z.union([
  z.strictObject({
    /** Claims of a token minted by the test IdP; `${unique}` makes a per-run value. */
    claims: z.record(z.string(), z.unknown()),
    /** Tags the backend must grant at login. */
    tags,
  }),
  z.strictObject({
    /** The EXTERNAL username the broker derives from this identity's certificate. */
    external: z.string().min(1),
    tags,
  }),
  z.strictObject({ username: z.string().min(1), password: z.string(), tags }),
]);
export type ProfileIdentity = z.infer<typeof identitySchema>;

export const profileSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  backend: z
    .strictObject({
      /** Decision paths, appended to the backend URL; default /auth/<path>. */
      paths: backendPathsSchema,
      /** Liveness and readiness paths, when the backend offers them. */
      health: z.string().optional(),
      ready: z.string().optional(),
    })
    .default({ paths: { ...defaultBackendPaths } }),
  token: z
    .strictObject({
      /** Audience the backend expects; default `rabbitmq`. */
      audience: z.string().default('rabbitmq'),
      /** Lifetime of minted tokens, seconds; default 300. */
      lifetimeSeconds: z.number().int().positive().default(300),
      /** Clock skew the backend tolerates on exp/nbf/iat, seconds; default 0. */
      clockSkewSeconds: z.number().int().min(0).default(0),
      /** Largest token the backend accepts, bytes (oversized tokens exceed it). */
      maxTokenBytes: z.number().int().positive().default(8192),
      /**
       * How long after a token's exp the backend still honours checks of that login, seconds;
       * default 0. Expiry scenarios wait exp + this + 1 s before expecting denials.
       */
      sessionGraceSeconds: z.number().int().min(0).max(20).default(0),
    })
    .default({
      audience: 'rabbitmq',
      lifetimeSeconds: 300,
      clockSkewSeconds: 0,
      maxTokenBytes: 8192,
      sessionGraceSeconds: 0,
    }),
  /**
   * Scenarios that do not apply to this target, each with the reason (a documented setting of
   * the target, never a defect): they are reported as skipped. Defects belong in an
   * expected-failures file instead.
   */
  notApplicable: z
    .array(z.strictObject({ id: z.string().min(1), reason: z.string().min(1) }))
    .default([]),
  /** p95 decision latency the backend must stay under during a run, ms; default 10. */
  sloP95Ms: z.number().positive().default(10),
  identities: z.record(z.string(), identitySchema),
  vars: z.record(z.string(), z.string()).default({}),
});
export type Profile = z.infer<typeof profileSchema> & { source: string };
