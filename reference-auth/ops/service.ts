/**
 * The whole service as operators run it: the decision core (server.ts `buildServer`) plus the
 * operations half — metrics on /metrics, the audit file, rate limits and overload shedding,
 * introspection for opaque tokens, HTTPS with broker client certificates, evictions through the
 * management API and the admin listener. Entry scripts call {@link startReferenceAuth}.
 */
import type { ServerOptions as HttpsServerOptions } from 'node:https';

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

import { createAdminServer } from '../admin/server.js';
import type { AuthConfig } from '../config.js';
import type { DecisionSink } from '../decision.js';
import { AuthErrorCode, AuthServiceError } from '../errors.js';
import { createServiceLogger } from '../log/decision-log.js';
import { buildServer, type ReferenceAuth, type ServerDeps } from '../server.js';
import { openAuditSink, type AuditSink } from './audit.js';
import { createEvictor } from './eviction.js';
import { createEvictionListener } from './eviction-listener.js';
import { createRequestGuard, type ClosableGuard } from './guard.js';
import {
  createIntrospectionClient,
  createOpaqueTokenVerifier,
  type IntrospectionClient,
} from './introspection.js';
import {
  countingFetch,
  createOpsMetrics,
  registerMetricsRoute,
  type OpsMetrics,
} from './metrics.js';
import { loadHttpsOptions, registerClientCertificateCheck } from './tls.js';

/** Options of {@link startReferenceAuth}. */
export interface StartOptions {
  /** Passed on to buildServer (clock, policy, logger…); ops parts fill the rest. */
  deps?: ServerDeps;
  /** Start listening (decision and admin). Default true; false leaves both to `inject`. */
  listen?: boolean;
}

/** The running service and its operations parts. */
export interface RunningReferenceAuth {
  service: ReferenceAuth;
  metrics: OpsMetrics;
  logger: Logger;
  guard: ClosableGuard;
  /** The admin app, when credentials were configured. */
  admin?: FastifyInstance;
  audit?: AuditSink;
  introspection?: IntrospectionClient;
  /** Bound addresses, when listening. */
  decisionAddress?: string;
  adminAddress?: string;
  /** Stops listeners, timers and flushes the audit file (in reverse order of start). */
  close(): Promise<void>;
}

/**
 * Builds and (by default) starts the service. Throws AuthServiceError(BadConfig) naming the
 * option when the operations settings are inconsistent (TLS files, partial credentials).
 */
export async function startReferenceAuth(
  config: AuthConfig,
  options: StartOptions = {},
): Promise<RunningReferenceAuth> {
  const deps = options.deps ?? {};
  const logger = deps.logger ?? createServiceLogger(config.log.level);
  const metrics = createOpsMetrics({ collectProcessMetrics: config.metrics.processMetrics });
  const https = await loadHttpsOptions(config.tls);
  const audit = config.audit.file ? await openAudit(config, logger, metrics) : undefined;
  const introspection = createIntrospection(config, metrics);
  const guard = createRequestGuard({
    rateLimit: config.guard,
    overload: config.guard,
  });

  const sinks: DecisionSink[] = [...(deps.sinks ?? []), metrics.sink, ...(audit ? [audit] : [])];
  const service = await buildServer(config, {
    ...deps,
    logger,
    sinks,
    guard,
    fetch: countingFetch(metrics, deps.fetch ?? fetch),
    ...(https ? { https } : {}),
    ...(introspection
      ? {
          introspector: createOpaqueTokenVerifier(introspection, {
            usernameClaim: config.jwt.usernameClaim,
          }),
        }
      : {}),
  });
  metrics.setSessionsLiveSource(() => new Set(service.sessions.all().map((s) => s.username)).size);
  metrics.setCacheSource(() => ({ hits: service.cache.hits, misses: service.cache.misses }));
  registerMetricsRoute(service.app, metrics);
  registerClientCertificateCheck(service.app, config.tls, logger);
  attachEvictions(config, service, metrics, logger);

  const admin = createAdmin(config, service, logger, {
    guard,
    ...(audit ? { audit } : {}),
    ...(introspection ? { introspection } : {}),
    // The admin listener reuses the server certificate; broker client certificates are not
    // asked for there (operators authenticate with the admin credentials).
    ...(https ? { https: { cert: https.cert, key: https.key, minVersion: https.minVersion } } : {}),
  });
  // Also behind the admin credentials, for scrapers that cannot present the broker's certificate.
  if (admin) registerMetricsRoute(admin, metrics);
  const running: RunningReferenceAuth = {
    service,
    metrics,
    logger,
    guard,
    ...(admin ? { admin } : {}),
    ...(audit ? { audit } : {}),
    ...(introspection ? { introspection } : {}),
    close: async () => {
      await admin?.close();
      await service.close();
      guard.close();
      await audit?.close();
    },
  };
  if (options.listen === false) return running;

  running.decisionAddress = await service.listen();
  if (admin)
    running.adminAddress = await admin.listen({ host: config.admin.host, port: config.admin.port });
  logger.info(
    {
      decision: running.decisionAddress,
      admin: running.adminAddress ?? 'off',
      https: Boolean(https),
    },
    'reference-auth listening',
  );
  return running;
}

async function openAudit(
  config: AuthConfig,
  logger: Logger,
  metrics: OpsMetrics,
): Promise<AuditSink> {
  return openAuditSink({
    filePath: config.audit.file,
    maxPendingRecords: config.audit.maxPendingRecords,
    syncEachBatch: config.audit.syncEachBatch,
    onError: (error) =>
      logger.error(
        { err: { type: error.name, message: error.message } },
        'audit write failed; retrying',
      ),
    onDropped: (count) => {
      metrics.auditDropped(count);
      logger.error({ dropped: count }, 'audit writer fell behind; gap record written');
    },
  });
}

function createIntrospection(
  config: AuthConfig,
  metrics: OpsMetrics,
): IntrospectionClient | undefined {
  const settings = config.introspection;
  if (!settings.endpoint) return undefined;
  if (!settings.clientId || !settings.clientSecret) {
    throw new AuthServiceError(
      AuthErrorCode.BadConfig,
      'introspection.endpoint needs introspection.clientId and introspection.clientSecret ' +
        '(RFC 7662 requires the caller to authenticate)',
    );
  }
  return createIntrospectionClient({
    endpoint: settings.endpoint,
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    timeoutMs: settings.timeoutMs,
    maxCacheSeconds: settings.maxCacheSeconds,
    inactiveCacheSeconds: settings.inactiveCacheSeconds,
    breaker: { failureThreshold: settings.failureThreshold, openMs: settings.openMs },
    metrics,
  });
}

function attachEvictions(
  config: AuthConfig,
  service: ReferenceAuth,
  metrics: OpsMetrics,
  logger: Logger,
): void {
  const { url, username, password, timeoutMs } = config.management;
  if (!url) {
    logger.info('management.url not set: expired or revoked logins keep their open connections');
    return;
  }
  if (!username || !password) {
    throw new AuthServiceError(
      AuthErrorCode.BadConfig,
      'management.url needs management.username and management.password (a user with the administrator tag)',
    );
  }
  const evictor = createEvictor({
    managementUrl: url,
    username,
    password,
    timeoutMs,
    metrics,
    logger,
  });
  service.onEvict(createEvictionListener(evictor));
}

function createAdmin(
  config: AuthConfig,
  service: ReferenceAuth,
  logger: Logger,
  parts: {
    guard: ClosableGuard;
    audit?: AuditSink;
    introspection?: IntrospectionClient;
    https?: HttpsServerOptions;
  },
): FastifyInstance | undefined {
  const { enabled, token, username, password } = config.admin;
  if (!enabled) return undefined;
  if (!token && !username && !password) {
    // Said loudly, once: an operator who expects a kill switch must learn it is not there.
    logger.warn(
      'admin API NOT started: no credentials (set WARREN_AUTH_ADMIN_TOKEN, or admin.enabled = false to silence this)',
    );
    return undefined;
  }
  if (!parts.https && !isLoopback(config.admin.host)) {
    logger.warn(
      { adminHost: config.admin.host },
      'admin API listens beyond loopback over plain HTTP: its credentials cross the network in clear',
    );
  }
  return createAdminServer(
    {
      killSwitch: service.killSwitch,
      revocations: service.revocations,
      reloadPolicy: () => service.reloadPolicy(),
      status: () => ({
        ...service.status(),
        inFlight: parts.guard.inFlight,
        ...(parts.audit ? { auditPendingRecords: parts.audit.pendingRecords } : {}),
        ...(parts.introspection ? { introspectionCircuit: parts.introspection.breaker.state } : {}),
      }),
      logger,
    },
    {
      credentials: {
        ...(token ? { token } : {}),
        ...(username ? { username } : {}),
        ...(password ? { password } : {}),
      },
      ...(parts.https ? { https: parts.https } : {}),
    },
  );
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
