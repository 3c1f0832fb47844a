import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pino from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { resolveConfig, type ConfigOverride } from '../config.js';
import { verifyAuditFile } from '../ops/audit-verify.js';
import { startReferenceAuth, type RunningReferenceAuth } from '../ops/service.js';
import { waitUntil } from './ops-helpers.js';
import { demoClaims, ManualClock, TestIdp } from './support.js';

const ADMIN_TOKEN = 'service-test-admin-token-0123';
const MGMT_PASSWORD = 'mgmt-password-0123456789';

let idp: TestIdp;
let mgmt: Server;
const evictions: Array<{ url: string; reason?: string }> = [];
let dir: string;
let running: RunningReferenceAuth;
const logLines: string[] = [];
const clock = new ManualClock(Date.now());

beforeAll(async () => {
  idp = await TestIdp.start();
  mgmt = createServer((req, res) => {
    evictions.push({ url: req.url ?? '', reason: req.headers['x-reason'] as string | undefined });
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => mgmt.listen(0, '127.0.0.1', resolve));
  dir = await mkdtemp(join(tmpdir(), 'ops-service-'));
  const config = resolveConfig({
    flags: {
      listen: { host: '127.0.0.1', port: 0 },
      watchPolicy: false,
      jwt: { jwksUrl: idp.url },
      admin: { port: 0, token: ADMIN_TOKEN },
      audit: { file: join(dir, 'audit.jsonl') },
      metrics: { processMetrics: false },
      // Lag shedding has its own tests; a loaded test machine must not shed these requests.
      guard: { maxEventLoopDelayMs: 0 },
      management: {
        url: `http://127.0.0.1:${(mgmt.address() as AddressInfo).port}`,
        username: 'evictor',
        password: MGMT_PASSWORD,
      },
    } as ConfigOverride,
  });
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  running = await startReferenceAuth(config, { deps: { clock, logger } });
});

afterAll(async () => {
  await running.close();
  await idp.close();
  mgmt.closeAllConnections();
  await new Promise((resolve) => mgmt.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function get(base: string, path: string, headers: Record<string, string> = {}) {
  const response = await request(`${base}${path}`, { headers });
  return { status: response.statusCode, body: await response.body.text() };
}

describe('the composed service', () => {
  it('answers decisions, counts them on /metrics and chains them in the audit file', async () => {
    const token = await idp.mint(clock, demoClaims('acme-producer', 'acme', 'producer'));
    const base = running.decisionAddress ?? '';
    const query = new URLSearchParams({ username: 'acme-producer', password: token });
    expect(await get(base, `/user?${query}`)).toEqual({ status: 200, body: 'allow' });
    const check = new URLSearchParams({
      username: 'acme-producer',
      vhost: 'acme',
      resource: 'exchange',
      name: 'acme.invoices',
      permission: 'write',
      tags: '',
    });
    expect(await get(base, `/resource?${check}`)).toEqual({ status: 200, body: 'allow' });
    check.set('name', 'globex.invoices');
    expect(await get(base, `/resource?${check}`)).toEqual({ status: 200, body: 'deny' });

    const metrics = await get(base, '/metrics');
    expect(metrics.body).toContain(
      'reference_auth_decisions_total{path="user",verdict="allow",reason="allowed_by_grant"} 1',
    );
    expect(metrics.body).toMatch(/reference_auth_sessions_live 1\b/);
    expect(metrics.body).toMatch(/reference_auth_jwks_fetches_total\{outcome="ok"\} [1-9]/);

    await running.audit?.flush();
    const audit = await verifyAuditFile(join(dir, 'audit.jsonl'));
    expect(audit).toMatchObject({ ok: true, records: 3 });
    expect(logLines.join('')).not.toContain(token);
  });

  it('serves the admin API only with credentials, and a kill evicts the identity', async () => {
    const admin = running.adminAddress ?? '';
    expect((await get(admin, '/status')).status).toBe(401);
    const status = await get(admin, '/status', { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(JSON.parse(status.body)).toMatchObject({ ready: true, liveSessions: 1, inFlight: 0 });
    expect((await get(admin, '/metrics')).status).toBe(401);
    const scraped = await get(admin, '/metrics', { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(scraped.body).toContain('reference_auth_decisions_total');

    const killed = await request(`${admin}/kill-switch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'identity', identity: 'acme-producer' }),
    });
    expect(killed.statusCode).toBe(201);
    await killed.body.dump();
    await waitUntil(() => evictions.length > 0);
    expect(evictions).toEqual([
      { url: '/api/connections/username/acme-producer', reason: 'reference-auth: kill switch' },
    ]);

    const check = new URLSearchParams({ username: 'acme-producer', vhost: 'acme', ip: '' });
    expect((await get(running.decisionAddress ?? '', `/vhost?${check}`)).body).toBe('deny');
    await waitUntil(async () =>
      (await running.metrics.render()).includes(
        'reference_auth_evictions_total{outcome="closed",trigger="killed"} 1',
      ),
    );
    const log = logLines.join('');
    expect(log).not.toContain(ADMIN_TOKEN);
    expect(log).not.toContain(MGMT_PASSWORD);
  });
});

describe('expiry eviction', () => {
  it('closes the connections of a username once its last token has expired', async () => {
    const token = await idp.mint(clock, demoClaims('globex-consumer', 'globex', 'consumer'), {
      expiresInSeconds: 60,
    });
    const query = new URLSearchParams({ username: 'globex-consumer', password: token });
    expect(await get(running.decisionAddress ?? '', `/user?${query}`)).toMatchObject({
      body: 'allow',
    });
    evictions.length = 0;
    running.service.sessions.sweep();
    expect(evictions).toEqual([]);

    clock.advance(61_000);
    running.service.sessions.sweep();
    await waitUntil(() => evictions.length > 0);
    expect(evictions).toEqual([
      { url: '/api/connections/username/globex-consumer', reason: 'reference-auth: token expired' },
    ]);
    await waitUntil(async () =>
      (await running.metrics.render()).includes(
        'reference_auth_evictions_total{outcome="closed",trigger="token_expired"} 1',
      ),
    );
  });
});

describe('admin without credentials', () => {
  it('is not started, and the log says so', async () => {
    const lines: string[] = [];
    const config = resolveConfig({
      flags: {
        watchPolicy: false,
        jwt: { jwksUrl: idp.url },
        metrics: { processMetrics: false },
      } as ConfigOverride,
    });
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const service = await startReferenceAuth(config, { deps: { logger }, listen: false });
    try {
      expect(service.admin).toBeUndefined();
      expect(lines.join('')).toMatch(/"level":40.*admin API NOT started: no credentials/);
    } finally {
      await service.close();
    }
  });
});
