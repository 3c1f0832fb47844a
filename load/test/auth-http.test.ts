import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startIdp, type RunningIdp } from '../../harness/idp/index.js';
import { resolveConfig, type ConfigOverride } from '../../reference-auth/config.js';
import { createOpsMetrics, registerMetricsRoute } from '../../reference-auth/ops/metrics.js';
import { buildServer, type ReferenceAuth } from '../../reference-auth/server.js';
import { execute } from '../app.js';
import { defineScenario } from '../engine/scenario.js';
import { encodeFormComponent } from '../../harness/auth-http/encoding.js';
import { readAnswer } from '../targets/auth-http.js';

let dir: string;
let idp: RunningIdp;
let auth: ReferenceAuth;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warren-load-auth-'));
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
  metrics.setCacheSource(() => ({ hits: auth.cache.hits, misses: auth.cache.misses }));
  registerMetricsRoute(auth.app, metrics);
  url = await auth.listen();
});

afterAll(async () => {
  await auth?.close();
  await idp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function storm(overrides: Record<string, unknown>) {
  return defineScenario({
    name: 'auth-storm',
    executor: 'constant-arrival-rate',
    rate: 40,
    duration: '1s',
    maxVUs: 40,
    workers: 1,
    target: { kind: 'auth-http', url, users: 8, ...overrides },
    selfCheck: { maxEventLoopLagMs: 2000, maxStartLagP95Ms: 2000, maxCpuShare: 2 },
  });
}

describe('the broker call pattern against the reference service', () => {
  it('replays user → vhost → resources → topics with fresh tokens, and the server side agrees', async () => {
    const outcome = await execute(storm({ method: 'GET' }), {
      inThread: true,
      noReports: true,
      idp: { keysDir: join(dir, 'idp'), issuer: idp.issuer },
    });
    const { summary } = outcome;
    const checks = Object.fromEntries(summary.checks.map((c) => [c.name, c]));
    expect(checks['valid login allowed']).toEqual({
      name: 'valid login allowed',
      passes: 40,
      fails: 0,
    });
    expect(checks['topic check allowed']?.passes).toBe(80);
    expect(checks['resource check allowed']?.passes).toBe(80);
    const byEndpoint = summary.metrics['http_req_duration']?.byTag ?? {};
    expect(byEndpoint['endpoint:user']?.['count']).toBe(40);
    expect(byEndpoint['endpoint:vhost']?.['count']).toBe(40);
    expect(byEndpoint['endpoint:topic']?.['count']).toBe(80);
    // 1 user + 1 vhost + 2 resource + 2 topic decisions per connection, seen by the service.
    expect(summary.serverSide?.callsPerConnection).toBe(6);
    expect(summary.serverSide?.decisions['user:allow']).toBe(40);
    expect(summary.serverSide?.latencyMs['user']?.count).toBe(40);
  });

  it('sends POST forms and a credential mix whose bad tokens are denied', async () => {
    const outcome = await execute(
      storm({ method: 'POST', credentials: { valid: 2, invalid: 1, expired: 1 } }),
      { inThread: true, noReports: true, idp: { keysDir: join(dir, 'idp'), issuer: idp.issuer } },
    );
    const checks = Object.fromEntries(outcome.summary.checks.map((c) => [c.name, c]));
    expect(checks['valid login allowed']?.fails).toBe(0);
    expect(checks['invalid login denied']?.fails).toBe(0);
    expect(checks['expired login denied']?.fails).toBe(0);
    expect(
      (checks['invalid login denied']?.passes ?? 0) + (checks['expired login denied']?.passes ?? 0),
    ).toBe(40 - (checks['valid login allowed']?.passes ?? 0));
    expect(outcome.summary.serverSide?.decisions['user:deny']).toBe(
      40 - (checks['valid login allowed']?.passes ?? 0),
    );
  });

  it('logs in certificate identities with EXTERNAL (username only)', async () => {
    const outcome = await execute(storm({ mechanism: 'EXTERNAL' }), {
      inThread: true,
      noReports: true,
    });
    const checks = Object.fromEntries(outcome.summary.checks.map((c) => [c.name, c]));
    expect(checks['valid login allowed']).toEqual({
      name: 'valid login allowed',
      passes: 40,
      fails: 0,
    });
    expect(checks['topic check allowed']?.fails).toBe(0);
  });
});

describe('the broker wire format', () => {
  it.each([
    ['/', '%2F'],
    ['a b', 'a+b'],
    ['a~b*c', 'a~b%2Ac'],
    ['ü', '%C3%BC'],
    ['spiffe://warren.test/ns/acme', 'spiffe%3A%2F%2Fwarren.test%2Fns%2Facme'],
  ])('encodes %s as %s', (value, encoded) => {
    expect(encodeFormComponent(value)).toBe(encoded);
  });

  it.each([
    [200, 'allow', true, []],
    [201, ' ALLOW management ', true, ['management']],
    [200, 'deny', false, []],
    [200, 'deny some reason', undefined, []],
    [200, 'allowed', undefined, []],
    [500, 'allow', undefined, []],
  ])(
    'reads status %i body %j strictly: anything but allow or deny is an error',
    (status, body, allowed, tags) => {
      expect(readAnswer(status, body)).toEqual(
        allowed === undefined ? { tags } : { allowed, tags },
      );
    },
  );
});
