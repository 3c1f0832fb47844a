/**
 * The admin API: a separate listener (127.0.0.1:8601 by default) for operators. Every route
 * requires the configured bearer token or basic credentials; without them the answer is 401 and
 * nothing else. Request logging is the service's own: one line per action, never a header.
 */
import type { ServerOptions as HttpsServerOptions } from 'node:https';

import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';

import type { KillSwitchStore, RevocationStore } from '../controls.js';
import type { ReloadResult } from '../policy/store.js';
import { type AdminCredentials, createAuthorizationCheck } from './credentials.js';

/** What the admin API drives; the composition root supplies the live objects. */
export interface AdminDeps {
  killSwitch: KillSwitchStore;
  revocations: RevocationStore;
  /** Re-reads the policy file; a bad file keeps the old policy and reports why. */
  reloadPolicy(): Promise<ReloadResult>;
  /** A JSON-serialisable snapshot for `GET /status` (policy version, sessions, readiness…). */
  status(): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** Service logger; admin actions log at `info`, refused credentials at `warn`. */
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/** Options of {@link createAdminServer}. */
export interface AdminServerOptions {
  credentials: AdminCredentials;
  /** Largest accepted request body, bytes. Default 16384. */
  bodyLimitBytes?: number;
  /** Serve HTTPS with these options (certificate and key). Default: plain HTTP. */
  https?: HttpsServerOptions;
}

const killRuleSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('identity'), identity: z.string().min(1) }),
  z.strictObject({ kind: z.literal('tenant'), tenant: z.string().min(1) }),
  z.strictObject({
    kind: z.literal('route'),
    vhost: z.string().min(1),
    resource: z.enum(['exchange', 'queue', 'topic']).optional(),
    name: z.string().min(1).optional(),
    routingKey: z.string().min(1).optional(),
  }),
]);

const revocationSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('jti'), jti: z.string().min(1) }),
  z.strictObject({ kind: z.literal('subject'), subject: z.string().min(1) }),
  z.strictObject({ kind: z.literal('certificate'), identity: z.string().min(1) }),
]);

/** Parses a body with a schema; on failure answers 400 naming the field and returns undefined. */
function parseBody<T>(schema: z.ZodType<T>, request: FastifyRequest, reply: FastifyReply) {
  const parsed = schema.safeParse(request.body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join('.') || 'body';
  void reply.code(400).send({ error: 'bad_request', field, message: issue?.message ?? 'invalid' });
  return undefined;
}

/**
 * Builds the admin Fastify app (not yet listening). Throws AuthServiceError(BadConfig) when no
 * credentials are configured: the admin API never runs open.
 */
export function createAdminServer(deps: AdminDeps, options: AdminServerOptions): FastifyInstance {
  const authorized = createAuthorizationCheck(options.credentials);
  const challenge = options.credentials.token
    ? 'Bearer realm="reference-auth-admin"'
    : 'Basic realm="reference-auth-admin"';
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimitBytes ?? 16384,
    ...(options.https ? { https: options.https } : {}),
  }) as unknown as FastifyInstance;

  app.addHook('onRequest', async (request, reply) => {
    if (authorized(request.headers.authorization)) return;
    deps.logger.warn(
      { admin: true, method: request.method, url: request.url, remote: request.ip },
      'admin request refused: missing or wrong credentials',
    );
    return reply.code(401).header('www-authenticate', challenge).send({ error: 'unauthorized' });
  });

  registerStatusRoutes(app, deps);
  registerKillSwitchRoutes(app, deps);
  registerRevocationRoutes(app, deps);
  return app;
}

function registerStatusRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get('/status', async () => deps.status());

  app.post('/reload', async (_request, reply) => {
    const result = await deps.reloadPolicy();
    if (result.ok) {
      deps.logger.info(
        { admin: 'reload', policyVersion: result.version, changed: result.changed },
        'policy reloaded',
      );
      return result;
    }
    deps.logger.error(
      { admin: 'reload', err: result.error },
      'policy reload failed; old policy kept',
    );
    return reply.code(422).send(result);
  });
}

function registerKillSwitchRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get('/kill-switch', async () => ({ rules: deps.killSwitch.list() }));

  app.post('/kill-switch', async (request, reply) => {
    const rule = parseBody(killRuleSchema, request, reply);
    if (!rule) return reply;
    const entry = deps.killSwitch.engage(rule);
    deps.logger.info({ admin: 'kill_switch_on', rule: entry }, 'kill switch engaged');
    return reply.code(201).send(entry);
  });

  app.delete<{ Params: { id: string } }>('/kill-switch/:id', async (request, reply) => {
    if (!deps.killSwitch.release(request.params.id)) {
      return reply.code(404).send({ error: 'not_found', field: 'id' });
    }
    deps.logger.info({ admin: 'kill_switch_off', id: request.params.id }, 'kill switch released');
    return reply.code(204).send();
  });
}

function registerRevocationRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get('/revocations', async () => ({ revocations: deps.revocations.list() }));

  app.post('/revocations', async (request, reply) => {
    const rule = parseBody(revocationSchema, request, reply);
    if (!rule) return reply;
    const entry = deps.revocations.revoke(rule);
    deps.logger.info({ admin: 'revoke', revocation: entry }, 'revoked');
    return reply.code(201).send(entry);
  });

  // A POST rather than DELETE-with-body: many HTTP clients and proxies drop DELETE bodies.
  app.post('/revocations/restore', async (request, reply) => {
    const rule = parseBody(revocationSchema, request, reply);
    if (!rule) return reply;
    if (!deps.revocations.restore(rule)) return reply.code(404).send({ error: 'not_found' });
    deps.logger.info({ admin: 'restore', revocation: rule }, 'revocation lifted');
    return reply.code(204).send();
  });
}
