/**
 * The auth side the broker benchmarks share: a test IdP (port 0, temporary keys), the reference
 * service trusting it (port 0, /metrics mounted, no per-user rate limit) and an allow-all HTTP
 * backend, all in this process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';

import { startIdp } from '../../harness/idp/index.js';
import { resolveConfig, type ConfigOverride } from '../../reference-auth/config.js';
import { createOpsMetrics, registerMetricsRoute } from '../../reference-auth/ops/metrics.js';
import { buildServer } from '../../reference-auth/server.js';
import type { IdpSettings } from '../app.js';

export interface LocalAuthStack {
  referenceUrl: string;
  allowAllUrl: string;
  /** Where minted tokens come from (the stack's IdP). */
  idp: IdpSettings;
  close(): Promise<void>;
}

/** Starts the IdP, the reference service and the allow-all backend. */
export async function startLocalAuthStack(): Promise<LocalAuthStack> {
  const dir = mkdtempSync(join(tmpdir(), 'warren-bench-'));
  const idp = await startIdp({ port: 0, keysDir: join(dir, 'idp') });
  const metrics = createOpsMetrics();
  const reference = await buildServer(
    resolveConfig({
      flags: {
        listen: { host: '127.0.0.1', port: 0 },
        watchPolicy: false,
        jwt: { issuers: [idp.issuer], jwksUrl: idp.jwksUrl },
        // Storms log the same users in many times a second: no per-user rate limit here.
        guard: { ratePerSecond: 0 },
      } as ConfigOverride,
    }),
    { logger: pino({ level: 'silent' }), sinks: [metrics.sink] },
  );
  metrics.setCacheSource(() => ({ hits: reference.cache.hits, misses: reference.cache.misses }));
  registerMetricsRoute(reference.app, metrics);
  const referenceUrl = await reference.listen();
  const allowAll = createServer((_request, response) => response.end('allow'));
  await new Promise<void>((resolve) => allowAll.listen(0, '127.0.0.1', resolve));
  return {
    referenceUrl,
    allowAllUrl: `http://127.0.0.1:${(allowAll.address() as AddressInfo).port}`,
    idp: { keysDir: join(dir, 'idp'), issuer: idp.issuer },
    async close() {
      await reference.close();
      await idp.stop();
      await new Promise<void>((resolve) => allowAll.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
