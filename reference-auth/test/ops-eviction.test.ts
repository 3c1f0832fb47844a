import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';

import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createEvictor } from '../ops/eviction.js';
import { createEvictionListener } from '../ops/eviction-listener.js';
import { createOpsMetrics } from '../ops/metrics.js';
import { waitUntil } from './ops-helpers.js';

const MGMT_USER = 'warren-evictor';
const MGMT_PASSWORD = 'evictor-secret-0123456789';

interface SeenRequest {
  method: string;
  url: string;
  authorization?: string;
  reason?: string;
}

/** A stand-in for the management API: records requests, answers as told. */
const fake = {
  seen: [] as SeenRequest[],
  status: 204,
  /** Milliseconds to wait before answering; Infinity never answers. */
  delayMs: 0,
};
let server: Server;
let base: string;

function answer(req: IncomingMessage, res: ServerResponse) {
  fake.seen.push({
    method: req.method ?? '',
    url: req.url ?? '',
    authorization: req.headers.authorization,
    reason: req.headers['x-reason'] as string | undefined,
  });
  if (fake.delayMs === Infinity) return;
  setTimeout(() => res.writeHead(fake.status).end(), fake.delayMs);
}

beforeAll(async () => {
  server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  fake.seen = [];
  fake.status = 204;
  fake.delayMs = 0;
});

function setup(timeoutMs = 2000, nowMs = () => Date.now()) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const metrics = createOpsMetrics();
  const evictor = createEvictor({
    managementUrl: `${base}/`,
    username: MGMT_USER,
    password: MGMT_PASSWORD,
    timeoutMs,
    metrics,
    logger: pino(stream),
    nowMs,
  });
  return { evictor, metrics, lines };
}

describe('evictor', () => {
  it('closes a username through DELETE /api/connections/username with X-Reason', async () => {
    const { evictor, metrics, lines } = setup(2000, () => 10_250);
    const result = await evictor.evict({
      username: 'spiffe://warren.test/ns/acme/sa/orders',
      trigger: 'revoked',
      triggeredAtMs: 10_000,
    });
    expect(result).toMatchObject({ outcome: 'closed', status: 204, lagMs: 250 });
    expect(result.durationMs).toBeGreaterThan(0);
    expect(fake.seen).toEqual([
      {
        method: 'DELETE',
        url: '/api/connections/username/spiffe%3A%2F%2Fwarren.test%2Fns%2Facme%2Fsa%2Forders',
        authorization: `Basic ${Buffer.from(`${MGMT_USER}:${MGMT_PASSWORD}`).toString('base64')}`,
        reason: 'reference-auth: identity revoked',
      },
    ]);
    const text = await metrics.render();
    expect(text).toContain('reference_auth_evictions_total{outcome="closed",trigger="revoked"} 1');
    expect(text).toContain('reference_auth_eviction_lag_seconds_sum{trigger="revoked"} 0.25');
    const log = lines.join('');
    expect(log).toMatch(/"eviction":"revoked".*"durationMs":[0-9.]+.*"lagMs":250/);
    expect(log).not.toContain(MGMT_PASSWORD);
    expect(log).not.toContain(Buffer.from(`${MGMT_USER}:${MGMT_PASSWORD}`).toString('base64'));
  });

  it.each([
    { title: 'an error status', status: 401, delayMs: 0 },
    { title: 'no answer within the timeout', status: 204, delayMs: Infinity },
  ])('reports failure and logs an error on $title', async ({ status, delayMs }) => {
    fake.status = status;
    fake.delayMs = delayMs;
    const { evictor, metrics, lines } = setup(150);
    const result = await evictor.evict({ username: 'acme-producer', trigger: 'token_expired' });
    expect(result.outcome).toBe('failed');
    expect(result.durationMs).toBeLessThan(5000);
    expect(lines.join('')).toMatch(/"level":50.*eviction failed/);
    expect(await metrics.render()).toContain(
      'reference_auth_evictions_total{outcome="failed",trigger="token_expired"} 1',
    );
  });

  it('shares one DELETE between concurrent evictions of one username', async () => {
    fake.delayMs = 50;
    const { evictor } = setup();
    const results = await Promise.all([
      evictor.evict({ username: 'acme-consumer', trigger: 'killed' }),
      evictor.evict({ username: 'acme-consumer', trigger: 'killed' }),
      evictor.evict({ username: 'globex-consumer', trigger: 'killed' }),
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['closed', 'closed', 'closed']);
    expect(fake.seen.map((r) => r.url).sort()).toEqual([
      '/api/connections/username/acme-consumer',
      '/api/connections/username/globex-consumer',
    ]);
  });
});

describe('eviction listener', () => {
  it.each([
    { reason: 'expired', xReason: 'reference-auth: token expired' },
    { reason: 'revoked', xReason: 'reference-auth: identity revoked' },
    { reason: 'killed', xReason: 'reference-auth: kill switch' },
  ] as const)('closes the username for a $reason event', async ({ reason, xReason }) => {
    const { evictor } = setup();
    createEvictionListener(evictor)('acme-producer', reason);
    await waitUntil(() => fake.seen.length === 1);
    expect(fake.seen[0]).toMatchObject({
      url: '/api/connections/username/acme-producer',
      reason: xReason,
    });
  });

  it('measures the lag from the trigger time when one is given', async () => {
    const { evictor, metrics } = setup(2000, () => 50_000);
    createEvictionListener(evictor, () => 50_000)('acme-producer', 'expired', 49_200);
    const lagLine = 'reference_auth_eviction_lag_seconds_sum{trigger="token_expired"} 0.8';
    await waitUntil(async () => (await metrics.render()).includes(lagLine));
  });
});
