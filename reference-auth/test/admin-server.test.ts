import { Writable } from 'node:stream';

import pino from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createAdminServer, type AdminDeps } from '../admin/server.js';
import type { ReloadResult } from '../policy/store.js';
import { createAuthorizationCheck } from '../admin/credentials.js';
import { MemoryKillSwitch, MemoryRevocations } from '../controls.js';

const TOKEN = 'admin-token-0123456789abcdef';
const BASIC_USER = 'operator';
const BASIC_PASSWORD = 'operator-password-0123';
const bearer = { authorization: `Bearer ${TOKEN}` };

function capturedLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

function buildAdmin(
  reload: ReloadResult = { ok: true, changed: true, version: 'v2', previousVersion: 'v1' },
) {
  const { logger, lines } = capturedLogger();
  const deps: AdminDeps = {
    killSwitch: new MemoryKillSwitch(),
    revocations: new MemoryRevocations(),
    reloadPolicy: async () => reload,
    status: () => ({ policyVersion: 'v1', ready: true }),
    logger,
  };
  const app = createAdminServer(deps, { credentials: { token: TOKEN } });
  return { app, deps, lines };
}

describe('admin credentials', () => {
  it.each([
    { title: 'no credentials at all', credentials: {} },
    { title: 'an empty token', credentials: { token: '' } },
    { title: 'a username without a password', credentials: { username: 'ops' } },
    { title: 'a short token', credentials: { token: 'short' } },
    { title: 'a short password', credentials: { username: 'ops', password: 'short' } },
  ])('refuses to start with $title', ({ credentials }) => {
    expect(() => createAuthorizationCheck(credentials)).toThrow(
      expect.objectContaining({ code: 'WARREN_AUTH_ERR_CONFIG' }),
    );
  });

  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  it.each([
    { header: `Bearer ${TOKEN}`, ok: true },
    { header: `bearer ${TOKEN}`, ok: true },
    { header: `Bearer ${TOKEN}x`, ok: false },
    { header: `Bearer ${TOKEN.slice(0, -1)}`, ok: false },
    { header: 'Bearer ', ok: false },
    { header: basic(BASIC_USER, BASIC_PASSWORD), ok: true },
    { header: basic(BASIC_USER, `${BASIC_PASSWORD}!`), ok: false },
    { header: basic('someone', BASIC_PASSWORD), ok: false },
    { header: `Basic ${Buffer.from(BASIC_USER).toString('base64')}`, ok: false },
    { header: `Token ${TOKEN}`, ok: false },
    { header: undefined, ok: false },
  ])('answers $ok for the header $header', ({ header, ok }) => {
    const check = createAuthorizationCheck({
      token: TOKEN,
      username: BASIC_USER,
      password: BASIC_PASSWORD,
    });
    expect(check(header)).toBe(ok);
  });
});

describe('admin API', () => {
  it.each([
    { method: 'GET', url: '/status' },
    { method: 'POST', url: '/reload' },
    { method: 'GET', url: '/kill-switch' },
    { method: 'POST', url: '/kill-switch' },
    { method: 'DELETE', url: '/kill-switch/any' },
    { method: 'POST', url: '/revocations' },
    { method: 'GET', url: '/no-such-route' },
  ] as const)('answers 401 to $method $url without credentials', async ({ method, url }) => {
    const { app, deps } = buildAdmin();
    const response = await app.inject({
      method,
      url,
      headers: { authorization: 'Bearer wrong-token-0123456789' },
      payload: { kind: 'tenant', tenant: 'acme' },
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    expect(deps.killSwitch.list()).toEqual([]);
  });

  it('engages and releases a kill switch by identity, tenant and route', async () => {
    const { app, deps } = buildAdmin();
    const rules = [
      { kind: 'identity', identity: 'acme-producer' },
      { kind: 'tenant', tenant: 'globex' },
      { kind: 'route', vhost: 'acme', resource: 'exchange', name: 'invoices' },
    ];
    const ids: string[] = [];
    for (const rule of rules) {
      const response = await app.inject({
        method: 'POST',
        url: '/kill-switch',
        headers: bearer,
        payload: rule,
      });
      expect(response.statusCode).toBe(201);
      ids.push((response.json() as { id: string }).id);
    }
    expect(deps.killSwitch.matches({ identity: 'acme-producer', tenant: 'acme' })).toMatchObject(
      rules[0]!,
    );
    expect(deps.killSwitch.matches({ identity: 'x', tenant: 'globex' })).toMatchObject(rules[1]!);

    const listed = await app.inject({ method: 'GET', url: '/kill-switch', headers: bearer });
    expect((listed.json() as { rules: unknown[] }).rules).toHaveLength(3);
    const released = await app.inject({
      method: 'DELETE',
      url: `/kill-switch/${ids[0]}`,
      headers: bearer,
    });
    expect(released.statusCode).toBe(204);
    expect(deps.killSwitch.matches({ identity: 'acme-producer', tenant: 'acme' })).toBeUndefined();
    const again = await app.inject({
      method: 'DELETE',
      url: `/kill-switch/${ids[0]}`,
      headers: bearer,
    });
    expect(again.statusCode).toBe(404);
  });

  it.each([
    {
      payload: { kind: 'jti', jti: 'token-1' },
      subject: { identity: 'a', tenant: 't', jti: 'token-1', kind: 'jwt' },
    },
    {
      payload: { kind: 'subject', subject: 'acme-consumer' },
      subject: { identity: 'acme-consumer', tenant: 'acme', kind: 'jwt' },
    },
    {
      payload: { kind: 'certificate', identity: 'spiffe://warren.test/ns/acme/sa/orders' },
      subject: {
        identity: 'spiffe://warren.test/ns/acme/sa/orders',
        tenant: 'acme',
        kind: 'certificate',
      },
    },
  ] as const)('revokes and restores by $payload.kind', async ({ payload, subject }) => {
    const { app, deps } = buildAdmin();
    const revoked = await app.inject({
      method: 'POST',
      url: '/revocations',
      headers: bearer,
      payload,
    });
    expect(revoked.statusCode).toBe(201);
    expect(deps.revocations.matches(subject)).toMatchObject(payload);
    const restored = await app.inject({
      method: 'POST',
      url: '/revocations/restore',
      headers: bearer,
      payload,
    });
    expect(restored.statusCode).toBe(204);
    expect(deps.revocations.matches(subject)).toBeUndefined();
  });

  it.each([
    { url: '/kill-switch', payload: { kind: 'planet', planet: 'mars' }, field: 'kind' },
    { url: '/kill-switch', payload: { kind: 'tenant' }, field: 'tenant' },
    { url: '/kill-switch', payload: { kind: 'tenant', tenant: 'acme', extra: 1 }, field: 'body' },
    { url: '/revocations', payload: { kind: 'jti', jti: '' }, field: 'jti' },
  ])('answers 400 naming the field for a bad body at $url', async ({ url, payload, field }) => {
    const { app, deps } = buildAdmin();
    const response = await app.inject({ method: 'POST', url, headers: bearer, payload });
    expect(response.statusCode).toBe(400);
    expect((response.json() as { field: string }).field).toBe(field);
    expect(deps.killSwitch.list()).toEqual([]);
    expect(deps.revocations.list()).toEqual([]);
  });

  it('reports status and policy reloads, keeping the old policy on a bad file', async () => {
    const good = buildAdmin();
    const status = await good.app.inject({ method: 'GET', url: '/status', headers: bearer });
    expect(status.json()).toEqual({ policyVersion: 'v1', ready: true });
    const reloaded = await good.app.inject({ method: 'POST', url: '/reload', headers: bearer });
    expect(reloaded.json()).toEqual({
      ok: true,
      changed: true,
      version: 'v2',
      previousVersion: 'v1',
    });

    const bad = buildAdmin({
      ok: false,
      error: 'policy.yaml line 3: grants[0].vhost is required',
      version: 'v1',
    });
    const failed = await bad.app.inject({ method: 'POST', url: '/reload', headers: bearer });
    expect(failed.statusCode).toBe(422);
    expect(bad.lines.join('')).toMatch(/"level":50.*line 3/);
  });
});

describe('admin listener on a socket', () => {
  const { app, lines } = buildAdmin();
  let base: string;
  beforeAll(async () => {
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
  });

  it('is unreachable without credentials and never logs them', async () => {
    const refused = await request(`${base}/status`, {
      headers: { authorization: 'Bearer guess-guess-guess-guess' },
    });
    expect(refused.statusCode).toBe(401);
    await refused.body.dump();
    const ok = await request(`${base}/kill-switch`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'tenant', tenant: 'acme' }),
    });
    expect(ok.statusCode).toBe(201);
    await ok.body.dump();

    const log = lines.join('');
    expect(log).toContain('kill switch engaged');
    expect(log).toContain('admin request refused');
    expect(log).not.toContain(TOKEN);
    expect(log).not.toContain('guess-guess');
    expect(log.toLowerCase()).not.toContain('authorization');
  });
});
