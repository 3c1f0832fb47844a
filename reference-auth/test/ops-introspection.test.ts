import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createCircuitBreaker } from '../ops/circuit-breaker.js';
import {
  createIntrospectionClient,
  createOpaqueTokenVerifier,
  introspectionDenialReason,
} from '../ops/introspection.js';
import { createOpsMetrics } from '../ops/metrics.js';
import type { CircuitState } from '../ops/metrics.js';

describe('circuit breaker', () => {
  it('opens after the threshold, half-opens after the pause and closes on a good trial', () => {
    let now = 0;
    const states: CircuitState[] = [];
    const breaker = createCircuitBreaker({
      failureThreshold: 3,
      openMs: 1000,
      nowMs: () => now,
      onStateChange: (s) => states.push(s),
    });
    const steps: Array<[action: () => void, expected: CircuitState]> = [
      [() => breaker.failure(), 'closed'],
      [() => breaker.failure(), 'closed'],
      [() => breaker.failure(), 'open'],
      [() => (now = 999), 'open'],
      [() => (now = 1000), 'half_open'],
      [() => breaker.success(), 'closed'],
    ];
    for (const [action, expected] of steps) {
      action();
      expect(breaker.state).toBe(expected);
    }
    expect(states).toEqual(['open', 'half_open', 'closed']);
  });

  it('admits one trial at a time when half-open and reopens when it fails', () => {
    let now = 0;
    const breaker = createCircuitBreaker({ failureThreshold: 1, openMs: 100, nowMs: () => now });
    breaker.failure();
    expect(breaker.tryAcquire()).toBe(false);
    now = 100;
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.failure();
    expect(breaker.state).toBe('open');
    now = 150;
    expect(breaker.tryAcquire()).toBe(false);
  });

  it('forgets isolated failures once a call succeeds', () => {
    const breaker = createCircuitBreaker({ failureThreshold: 2 });
    breaker.failure();
    breaker.success();
    breaker.failure();
    expect(breaker.state).toBe('closed');
  });
});

/** A fake RFC 7662 endpoint: answers from a table keyed by token, counts calls. */
const endpoint = {
  calls: [] as Array<{ authorization?: string; body: string }>,
  answers: new Map<string, Record<string, unknown>>(),
  status: 200,
  hang: false,
  delayMs: 0,
};
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      endpoint.calls.push({ authorization: req.headers.authorization, body });
      if (endpoint.hang) return;
      const token = new URLSearchParams(body).get('token') ?? '';
      const answer = endpoint.answers.get(token) ?? { active: false };
      setTimeout(() => {
        res.writeHead(endpoint.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      }, endpoint.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  endpoint.calls = [];
  endpoint.answers.clear();
  endpoint.status = 200;
  endpoint.hang = false;
  endpoint.delayMs = 0;
});

function client(nowMs: () => number, timeoutMs = 1000) {
  const metrics = createOpsMetrics();
  const introspection = createIntrospectionClient({
    endpoint: url,
    clientId: 'reference-auth',
    clientSecret: 'client-secret-value',
    timeoutMs,
    maxCacheSeconds: 60,
    inactiveCacheSeconds: 5,
    breaker: { failureThreshold: 2, openMs: 5000 },
    nowMs,
    metrics,
  });
  return { introspection, metrics };
}

describe('introspection client', () => {
  it('posts the token with client credentials and caches an active answer until exp', async () => {
    let now = 1_000_000;
    endpoint.answers.set('opaque-1', { active: true, sub: 'acme-producer', exp: 1_030 });
    const { introspection } = client(() => now);

    const first = await introspection.introspect('opaque-1');
    expect(first).toMatchObject({
      kind: 'active',
      cached: false,
      claims: { sub: 'acme-producer' },
    });
    expect(endpoint.calls[0]?.body).toBe('token=opaque-1&token_type_hint=access_token');
    expect(endpoint.calls[0]?.authorization).toBe(
      `Basic ${Buffer.from('reference-auth:client-secret-value').toString('base64')}`,
    );

    now = 1_029_999;
    expect(await introspection.introspect('opaque-1')).toMatchObject({
      kind: 'active',
      cached: true,
    });
    now = 1_030_000;
    endpoint.answers.set('opaque-1', { active: false });
    expect(await introspection.introspect('opaque-1')).toEqual({ kind: 'inactive', cached: false });
    expect(endpoint.calls).toHaveLength(2);
  });

  it.each([
    { title: 'active false', answer: { active: false } },
    { title: 'an exp in the past', answer: { active: true, exp: 999 } },
    { title: 'an nbf in the future', answer: { active: true, nbf: 2_000 } },
  ])('treats $title as inactive and caches it briefly', async ({ answer }) => {
    let now = 1_000_000;
    endpoint.answers.set('t', answer);
    const { introspection } = client(() => now);
    expect(await introspection.introspect('t')).toEqual({ kind: 'inactive', cached: false });
    now += 4_999;
    expect(await introspection.introspect('t')).toEqual({ kind: 'inactive', cached: true });
    now += 1;
    await introspection.introspect('t');
    expect(endpoint.calls).toHaveLength(2);
  });

  it('shares one call between concurrent lookups of the same token', async () => {
    endpoint.answers.set('burst', { active: true, sub: 's' });
    endpoint.delayMs = 30;
    const { introspection } = client(() => Date.now());
    const results = await Promise.all([1, 2, 3, 4].map(() => introspection.introspect('burst')));
    expect(results.every((r) => r.kind === 'active')).toBe(true);
    expect(endpoint.calls).toHaveLength(1);
  });

  it.each([
    { title: 'a 500', setup: () => (endpoint.status = 500), cause: 'error' },
    {
      title: 'a body without active',
      setup: () => endpoint.answers.set('x', { sub: 'a' }),
      cause: 'error',
    },
    { title: 'no answer in time', setup: () => (endpoint.hang = true), cause: 'timeout' },
  ])('answers unavailable on $title, within the timeout', async ({ setup, cause }) => {
    setup();
    const { introspection } = client(() => Date.now(), 100);
    const started = Date.now();
    const result = await introspection.introspect('x');
    expect(result).toEqual({ kind: 'unavailable', cause });
    expect(Date.now() - started).toBeLessThan(5000);
    if (result.kind !== 'active') {
      expect(introspectionDenialReason(result)).toBe('dependency_unavailable');
    }
  });

  it('opens the circuit after repeated failures and stops calling until the pause ends', async () => {
    let now = 1_000_000;
    endpoint.status = 503;
    const { introspection, metrics } = client(() => now);
    await introspection.introspect('a');
    await introspection.introspect('b');
    expect(introspection.breaker.state).toBe('open');
    expect(await introspection.introspect('c')).toEqual({
      kind: 'unavailable',
      cause: 'circuit_open',
    });
    expect(endpoint.calls).toHaveLength(2);

    now += 5_000;
    endpoint.status = 200;
    endpoint.answers.set('d', { active: true, sub: 'd' });
    expect(await introspection.introspect('d')).toMatchObject({ kind: 'active' });
    expect(introspection.breaker.state).toBe('closed');
    const text = await metrics.render();
    expect(text).toContain('reference_auth_introspection_lookups_total{outcome="circuit_open"} 1');
    expect(text).toContain('reference_auth_circuit_state{breaker="introspection"} 0');
  });

  it('maps an inactive token to token_invalid', () => {
    expect(introspectionDenialReason({ kind: 'inactive', cached: false })).toBe('token_invalid');
  });

  it.each([
    {
      token: 'good',
      username: 'acme-producer',
      expected: { ok: true, expiresAtMs: 1_060_000, jti: 'j1' },
    },
    {
      token: 'good',
      username: 'globex-producer',
      expected: { ok: false, reason: 'username_mismatch' },
    },
    { token: 'noexp', username: 'acme-producer', expected: { ok: true, expiresAtMs: 1_300_000 } },
    {
      token: 'revoked',
      username: 'acme-producer',
      expected: { ok: false, reason: 'token_invalid' },
    },
  ])(
    'verifies opaque token $token for $username as the core expects',
    async ({ token, username, expected }) => {
      endpoint.answers.set('good', { active: true, sub: 'acme-producer', exp: 1_060, jti: 'j1' });
      endpoint.answers.set('noexp', { active: true, sub: 'acme-producer' });
      const now = () => 1_000_000;
      const verifier = createOpaqueTokenVerifier(client(now).introspection, { nowMs: now });
      expect(await verifier.verify(token, username)).toMatchObject(expected);
    },
  );

  it('denies with dependency_unavailable while the circuit is open', async () => {
    endpoint.status = 500;
    const { introspection } = client(() => 1_000_000);
    const verifier = createOpaqueTokenVerifier(introspection);
    await verifier.verify('a', 'u');
    await verifier.verify('b', 'u');
    expect(await verifier.verify('c', 'u')).toEqual({
      ok: false,
      reason: 'dependency_unavailable',
      detail: 'introspection_circuit_open',
    });
  });
});
