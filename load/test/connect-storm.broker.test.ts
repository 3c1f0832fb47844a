import { rm } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openCa, type CertificateAuthority, type IssuedCertificate } from '../../certs/index.js';
import { startBroker, stopBroker, type RunningBroker } from '../../harness/broker/index.js';
import { startIdp, type RunningIdp } from '../../harness/idp/index.js';
import { stateDir } from '../../lib/paths.js';
import { resolveConfig, type ConfigOverride } from '../../reference-auth/config.js';
import { createOpsMetrics, registerMetricsRoute } from '../../reference-auth/ops/metrics.js';
import { buildServer, type ReferenceAuth } from '../../reference-auth/server.js';
import { execute } from '../app.js';
import { defineScenario } from '../engine/scenario.js';

// A real RabbitMQ 3.10 asking the real reference service, which trusts a test IdP.
const instance = 'load-storm';
let dir: string;
let ca: CertificateAuthority;
let idp: RunningIdp;
let auth: ReferenceAuth;
let authUrl: string;
let broker: RunningBroker;
let cert: IssuedCertificate;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warren-load-broker-'));
  const caDir = stateDir('test', 'load-connect-storm');
  await rm(caDir, { recursive: true, force: true });
  ca = await openCa({ dir: caDir });
  cert = await ca.issueClientCertificate({
    name: 'invoice-producer',
    subject: { commonName: 'invoice-producer' },
    spiffeId: { namespace: 'acme', serviceAccount: 'invoice-producer' },
  });
  idp = await startIdp({ port: 0, keysDir: join(dir, 'idp') });
  const config = resolveConfig({
    flags: {
      listen: { host: '127.0.0.1', port: 0 },
      watchPolicy: false,
      jwt: { issuers: [idp.issuer], jwksUrl: idp.jwksUrl },
    } as ConfigOverride,
  });
  const metrics = createOpsMetrics();
  auth = await buildServer(config, { logger: pino({ level: 'silent' }), sinks: [metrics.sink] });
  registerMetricsRoute(auth.app, metrics);
  authUrl = await auth.listen();
  broker = await startBroker(
    { version: '3.10', instance, backendUrl: authUrl, httpMethod: 'get', certLoginFrom: 'uri_san' },
    { ca },
  );
});

afterAll(async () => {
  await stopBroker(instance);
  await auth?.close();
  await idp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function storm(target: Record<string, unknown>) {
  return defineScenario({
    name: 'connect-storm',
    executor: 'constant-arrival-rate',
    rate: 20,
    duration: '1s',
    maxVUs: 40,
    workers: 1,
    target: { kind: 'amqp-connect', users: 5, ...target },
    selfCheck: { maxEventLoopLagMs: 2000, maxStartLagP95Ms: 2000, maxCpuShare: 2 },
  });
}

describe('AMQP connection storms through RabbitMQ 3.10 and the reference service', () => {
  it('times every phase of PLAIN logins with fresh JWTs over TCP, up to a confirmed publish', async () => {
    const { summary } = await execute(storm({ url: broker.endpoints.amqpUrl }), {
      inThread: true,
      noReports: true,
      idp: { keysDir: join(dir, 'idp'), issuer: idp.issuer },
      metricsUrl: `${authUrl}/metrics`,
    });
    const checks = Object.fromEntries(summary.checks.map((c) => [c.name, c]));
    expect(checks['valid login allowed']).toEqual({
      name: 'valid login allowed',
      passes: 20,
      fails: 0,
    });
    const phases = summary.metrics['amqp_phase_duration']?.byTag ?? {};
    for (const phase of ['tcp', 'amqp', 'channel', 'publish']) {
      expect(phases[`phase:${phase}`]?.['count'], phase).toBe(20);
    }
    expect(phases['phase:tls']).toBeUndefined();
    expect(summary.metrics['amqp_connect_duration']?.values['count']).toBe(20);
    // The broker asked the service for every login.
    expect(summary.serverSide?.decisions['user:allow']).toBe(20);
  });

  it('adds the TLS handshake for EXTERNAL logins with a SPIFFE client certificate', async () => {
    const { summary } = await execute(
      storm({
        url: broker.endpoints.amqpsUrl,
        mechanism: 'EXTERNAL',
        tls: { caPath: broker.tls.caBundlePath, certPath: cert.chainPath, keyPath: cert.keyPath },
      }),
      { inThread: true, noReports: true, metricsUrl: `${authUrl}/metrics` },
    );
    const checks = Object.fromEntries(summary.checks.map((c) => [c.name, c]));
    expect(checks['valid login allowed']?.fails).toBe(0);
    const phases = summary.metrics['amqp_phase_duration']?.byTag ?? {};
    expect(phases['phase:tls']?.['count']).toBe(20);
    expect(phases['phase:publish']?.['count']).toBe(20);
  });
});
