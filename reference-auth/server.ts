/**
 * Composition root of the reference auth service: builds the policy store, key cache, session
 * registry, decision cache and controls, wires their invalidations together, and mounts the four
 * decision paths plus /health and /ready on one fastify instance. The operations half plugs in
 * through `ServerDeps` (sinks, guard, introspector, stores, HTTPS) and the returned handles.
 */
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AuthConfig } from './config.js';
import {
  MemoryKillSwitch,
  MemoryRevocations,
  systemClock,
  type Clock,
  type KillSwitchStore,
  type RevocationStore,
} from './controls.js';
import { DecisionCore } from './decide.js';
import {
  ReasonCode,
  type DecisionPath,
  type DecisionRecord,
  type DecisionSink,
} from './decision.js';
import type {
  EvictionListener,
  EvictionReason,
  OpaqueTokenVerifier,
  RequestGuard,
} from './extensions.js';
import { JwksCache, type JwksStatus } from './identity/jwks.js';
import { JwtVerifier } from './identity/jwt.js';
import { createDecisionLogSink, createServiceLogger } from './log/decision-log.js';
import type { Policy } from './policy/engine.js';
import { demoPolicyPath, readPolicyFile, type LoadedPolicy } from './policy/load.js';
import { PolicyStore, type ReloadResult } from './policy/store.js';
import type { PathSpec } from './protocol/path.js';
import { resourcePath } from './protocol/resource.js';
import { answer, registerDecisionPath, type RouteContext } from './protocol/route.js';
import { topicPath } from './protocol/topic.js';
import { userPath } from './protocol/user.js';
import { vhostPath } from './protocol/vhost.js';
import { DecisionCache } from './sessions/cache.js';
import { SessionRegistry } from './sessions/registry.js';

/** Optional collaborators; every one has an in-process default. */
export interface ServerDeps {
  /** Time source for tokens, sessions and caches. Default: the system clock. */
  clock?: Clock;
  /** Extra decision sinks (audit file, metrics), after the built-in log sink. */
  sinks?: DecisionSink[];
  /** Service logger. Default: pino to stdout at `config.log.level`. */
  logger?: Logger;
  /** fetch used for the JWKS. Default: the global fetch. */
  fetch?: typeof fetch;
  /** Kill switch storage. Default: in memory. */
  killSwitch?: KillSwitchStore;
  /** Revocation storage. Default: in memory. */
  revocations?: RevocationStore;
  /** Verifies non-JWT passwords (RFC 7662 introspection). Default: none (such logins are denied). */
  introspector?: OpaqueTokenVerifier;
  /** Admission control (rate limits, overload shedding). Default: admit everything. */
  guard?: RequestGuard;
  /** Serve HTTPS with these options (`requestCert`/`rejectUnauthorized` for broker client certs). */
  https?: HttpsServerOptions;
  /** An already loaded policy (tests). Default: read `config.policyFile` or the demo policy. */
  policy?: LoadedPolicy;
}

/** A snapshot for /ready and the admin status endpoint. */
export interface ServiceStatus {
  ready: boolean;
  policyVersion: string;
  policySource: string;
  lastReload?: ReloadResult;
  jwks?: JwksStatus;
  liveSessions: number;
  cache: { entries: number; hits: number; misses: number };
  killSwitches: number;
  revocations: number;
}

/** The built service and the handles the admin API and tests use. */
export interface ReferenceAuth {
  /** The decision listener (add routes such as /metrics before `listen`). */
  app: FastifyInstance;
  config: AuthConfig;
  logger: Logger;
  sessions: SessionRegistry;
  killSwitch: KillSwitchStore;
  revocations: RevocationStore;
  cache: DecisionCache;
  /** The JWKS cache, when JWT logins are enabled. */
  jwks?: JwksCache;
  /** The policy in force. */
  policy(): Policy;
  /** Re-reads the policy file; a bad file keeps the current policy and returns the error. */
  reloadPolicy(): Promise<ReloadResult>;
  /** Adds a sink after construction (e.g. metrics registered by the ops side). */
  addSink(sink: DecisionSink): void;
  /** Called when a username's broker connections should be closed (expiry, revocation, kill). */
  onEvict(listener: EvictionListener): void;
  status(): ServiceStatus;
  /** Starts listening on `config.listen`; resolves to the bound address. */
  listen(): Promise<string>;
  /** Stops the listener, timers and file watching. */
  close(): Promise<void>;
}

const paths: Record<DecisionPath, PathSpec<never>> = {
  user: userPath as PathSpec<never>,
  vhost: vhostPath as PathSpec<never>,
  resource: resourcePath as PathSpec<never>,
  topic: topicPath as PathSpec<never>,
};

/** Builds the service; throws AuthServiceError(BadPolicy) when the initial policy is invalid. */
export async function buildServer(
  config: AuthConfig,
  deps: ServerDeps = {},
): Promise<ReferenceAuth> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createServiceLogger(config.log.level);
  const policyStore = new PolicyStore(
    deps.policy ?? (await readPolicyFile(config.policyFile || demoPolicyPath)),
  );
  const jwks = config.jwt.enabled ? createJwks(config, clock, deps.fetch) : undefined;
  if (jwks && !(await jwks.preload())) {
    logger.warn(
      { jwks: jwks.status() },
      'JWKS not reachable at start; JWT logins deny until it is',
    );
  }

  const sessions = new SessionRegistry(clock, config.sessions.maxPerUsername);
  const cache = new DecisionCache(clock, config.cache.ttlMs, config.cache.maxEntries);
  const killSwitch = deps.killSwitch ?? new MemoryKillSwitch(clock);
  const revocations = deps.revocations ?? new MemoryRevocations(clock);
  const sinks: DecisionSink[] = [createDecisionLogSink(logger), ...(deps.sinks ?? [])];
  const evictionListeners: EvictionListener[] = [];
  const evict = (usernames: Iterable<string>, reason: EvictionReason): void => {
    for (const username of usernames)
      evictionListeners.forEach((l) => safely(logger, () => l(username, reason)));
  };

  let lastReload: ReloadResult | undefined;
  policyStore.onReload((result) => {
    lastReload = result;
    if (result.ok && result.changed) cache.clear();
    if (result.ok) logger.info({ policy: result }, 'policy reloaded');
    else logger.error({ policy: result }, 'policy reload failed; keeping the previous policy');
  });
  wireControls({ killSwitch, revocations, sessions, cache, evict });
  sessions.onEnd((event) => {
    cache.invalidateUsername(event.username);
    if (event.reason === 'expired' && event.lastForUsername) evict([event.username], 'expired');
  });

  const core = new DecisionCore({
    config,
    clock,
    policy: () => policyStore.current,
    sessions,
    cache,
    killSwitch,
    revocations,
    ...(jwks ? { jwt: new JwtVerifier(config.jwt, jwks, clock) } : {}),
    ...(deps.introspector ? { introspector: deps.introspector } : {}),
  });
  const context: RouteContext = {
    core,
    limits: {
      ...config.limits,
      maxPasswordBytes: Math.max(config.limits.maxValueBytes, config.jwt.maxTokenBytes * 3),
    },
    decisionTtlSeconds: config.decisionTtlSeconds,
    policyVersion: () => policyStore.current.version,
    record: (decision: DecisionRecord) =>
      sinks.forEach((sink) => safely(logger, () => sink.record(decision))),
    ...(deps.guard ? { guard: deps.guard } : {}),
    logger,
    clock,
  };

  const isReady = (): boolean => jwks === undefined || jwks.ready;
  const status = (): ServiceStatus => ({
    ready: isReady(),
    policyVersion: policyStore.current.version,
    policySource: policyStore.current.source,
    ...(lastReload ? { lastReload } : {}),
    ...(jwks ? { jwks: jwks.status() } : {}),
    liveSessions: sessions.all().length,
    cache: { entries: cache.entryCount, hits: cache.hits, misses: cache.misses },
    killSwitches: killSwitch.list().length,
    revocations: revocations.list().length,
  });

  const app = createApp(config, logger, deps.https, context, status);
  if (config.watchPolicy && config.policyFile !== '')
    policyStore.watch(config.policyPollIntervalMs);
  const sweepTimer = setInterval(() => sessions.sweep(), config.sessions.sweepIntervalMs);
  sweepTimer.unref();

  return {
    app,
    config,
    logger,
    sessions,
    killSwitch,
    revocations,
    cache,
    ...(jwks ? { jwks } : {}),
    policy: () => policyStore.current,
    reloadPolicy: () => policyStore.reload(),
    addSink: (sink) => void sinks.push(sink),
    onEvict: (listener) => void evictionListeners.push(listener),
    status,
    listen: () => app.listen({ host: config.listen.host, port: config.listen.port }),
    close: async () => {
      clearInterval(sweepTimer);
      policyStore.stopWatching();
      await app.close();
    },
  };
}

function createJwks(config: AuthConfig, clock: Clock, fetchImpl?: typeof fetch): JwksCache {
  return new JwksCache({
    url: config.jwt.jwksUrl,
    timeoutMs: config.jwt.jwksTimeoutMs,
    refreshMs: config.jwt.jwksRefreshSeconds * 1000,
    unknownKidCooldownMs: config.jwt.unknownKidCooldownSeconds * 1000,
    clock,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}

/** Kill switch and revocation changes clear the decision cache and evict affected usernames. */
function wireControls(parts: {
  killSwitch: KillSwitchStore;
  revocations: RevocationStore;
  sessions: SessionRegistry;
  cache: DecisionCache;
  evict: (usernames: Iterable<string>, reason: EvictionReason) => void;
}): void {
  const { killSwitch, revocations, sessions, cache, evict } = parts;
  const usernamesWhere = (
    test: (s: ReturnType<SessionRegistry['all']>[number]) => boolean,
  ): Set<string> =>
    new Set(
      sessions
        .all()
        .filter(test)
        .map((s) => s.username),
    );

  killSwitch.onChange((entry, engaged) => {
    cache.clear();
    if (!engaged || entry.kind === 'route') return;
    evict(
      usernamesWhere((s) =>
        entry.kind === 'identity'
          ? s.binding.identity === entry.identity
          : s.binding.tenant === entry.tenant,
      ),
      'killed',
    );
  });
  revocations.onChange((_entry, revoked) => {
    cache.clear();
    if (!revoked) return;
    evict(
      usernamesWhere(
        (s) =>
          revocations.matches({
            ...s.binding,
            ...(s.binding.jti ? { jti: s.binding.jti } : {}),
          }) !== undefined,
      ),
      'revoked',
    );
  });
}

function createApp(
  config: AuthConfig,
  logger: Logger,
  https: HttpsServerOptions | undefined,
  context: RouteContext,
  status: () => ServiceStatus,
): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger,
    // The broker sends passwords in GET query strings: fastify must never log request URLs.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.maxRequestBytes,
    // HEAD would run a login for its side effect (a session) without an answer anyone reads.
    exposeHeadRoutes: false,
    ...(https
      ? { https: { ...https, maxHeaderSize: config.limits.maxHeaderBytes } }
      : { http: { maxHeaderSize: config.limits.maxHeaderBytes } }),
  }) as unknown as FastifyInstance;

  // One strict parser for both methods (protocol/params.ts); other bodies are read as text and
  // refused as malformed by the route, so no content type can crash a decision.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const path = (request.routeOptions.config as { decisionPath?: DecisionPath } | undefined)
      ?.decisionPath;
    if (path) {
      const reason =
        error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? ReasonCode.OversizedParameter
          : ReasonCode.MalformedRequest;
      await answer(paths[path], context, undefined, reply, reason);
      return;
    }
    logger.error({ err: { type: error.name, code: error.code }, req: request }, 'request failed');
    await reply.code(error.statusCode ?? 500).send({ error: error.code ?? 'internal_error' });
  });
  // fastify's default 404 body echoes the URL, and with it a GET's password.
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send({ error: 'not_found' }));

  app.get('/health', async (_request, reply) => reply.type('text/plain').send('ok'));
  app.get('/ready', async (_request, reply) => {
    const snapshot = status();
    return reply.code(snapshot.ready ? 200 : 503).send({
      ready: snapshot.ready,
      policyVersion: snapshot.policyVersion,
      ...(snapshot.jwks ? { jwks: snapshot.jwks } : {}),
    });
  });
  for (const spec of Object.values(paths)) registerDecisionPath(app, spec, context);
  return app;
}

function safely(logger: Logger, action: () => void): void {
  try {
    action();
  } catch (error) {
    logger.error(
      { err: { type: (error as Error)?.name, message: (error as Error)?.message } },
      'listener failed',
    );
  }
}
