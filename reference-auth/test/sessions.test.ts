import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import type { EvictionReason } from '../extensions.js';
import { demoClaims, spiffe, startService, TestIdp, type TestService } from './support.js';

let idp: TestIdp;
const services: TestService[] = [];

beforeAll(async () => {
  idp = await TestIdp.start();
});

afterAll(async () => {
  await idp.close();
});

afterEach(async () => {
  while (services.length > 0) await services.pop()?.auth.close();
});

async function fresh(): Promise<TestService> {
  const service = await startService({ idp });
  services.push(service);
  return service;
}

async function loginJwt(
  service: TestService,
  sub: string,
  workload: string,
  expiresInSeconds = 300,
): Promise<string> {
  const token = await idp.mint(service.clock, demoClaims(sub, 'acme', workload), {
    expiresInSeconds,
  });
  expect(await service.get('user', { username: sub, password: token })).toMatch(/^allow/);
  return token;
}

const publish = (username: string) => ({
  username,
  vhost: 'acme',
  resource: 'topic',
  name: 'acme.invoices',
  permission: 'write',
  routing_key: 'acme.invoices.created',
});

describe('sessions', () => {
  it('deny checks once the token behind the login has expired, and report the eviction', async () => {
    const service = await fresh();
    const evicted: Array<[string, EvictionReason]> = [];
    service.auth.onEvict((username, reason) => evicted.push([username, reason]));
    await loginJwt(service, 'p1', 'producer', 60);
    expect(await service.get('topic', publish('p1'))).toBe('allow');

    service.clock.advance(59_000);
    expect(await service.get('topic', publish('p1'))).toBe('allow');
    service.clock.advance(2_000);
    expect(await service.get('topic', publish('p1'))).toBe('deny');
    expect(service.sink.records.at(-1)?.reason).toBe('session_expired');

    service.auth.sessions.sweep();
    expect(evicted).toEqual([['p1', 'expired']]);
  });

  it('does not serve a cached allow past the session expiry', async () => {
    const service = await fresh();
    await loginJwt(service, 'p2', 'producer', 3);
    expect(await service.get('topic', publish('p2'))).toBe('allow');
    expect(await service.get('topic', publish('p2'))).toBe('allow');
    expect(service.sink.records.at(-1)?.detail).toBe('cached');
    service.clock.advance(3_000);
    expect(await service.get('topic', publish('p2'))).toBe('deny');
  });

  it('carry the login session id on later decisions', async () => {
    const service = await fresh();
    await loginJwt(service, 'p3', 'producer');
    const loginRecord = service.sink.records.at(-1);
    await service.get('vhost', { username: 'p3', vhost: 'acme' });
    expect(service.sink.records.at(-1)?.sessionId).toBe(loginRecord?.sessionId);
  });

  it('decide by the intersection when one username holds logins with different grants', async () => {
    const service = await fresh();
    await loginJwt(service, 'shared', 'producer');
    expect(await service.get('topic', publish('shared'))).toBe('allow');

    await loginJwt(service, 'shared', 'consumer');
    expect(await service.get('topic', publish('shared'))).toBe('deny');
    const read = { ...publish('shared'), permission: 'read', routing_key: 'acme.invoices.#' };
    expect(await service.get('topic', read)).toBe('deny');
    expect(await service.get('vhost', { username: 'shared', vhost: 'acme' })).toBe('allow');
  });

  it('return to the remaining grants when the narrower login expires', async () => {
    const service = await fresh();
    await loginJwt(service, 'shared2', 'producer', 600);
    await loginJwt(service, 'shared2', 'consumer', 60);
    expect(await service.get('topic', publish('shared2'))).toBe('deny');
    service.clock.advance(61_000);
    expect(await service.get('topic', publish('shared2'))).toBe('allow');
  });
});

describe('revocation and kill switch', () => {
  it('a revoked jti denies the next check at once, even with a cached allow', async () => {
    const service = await fresh();
    const evicted: string[] = [];
    service.auth.onEvict((username, reason) => evicted.push(`${username}:${reason}`));
    const token = await loginJwt(service, 'r1', 'producer');
    expect(await service.get('topic', publish('r1'))).toBe('allow');
    const jti = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())
      .jti as string;

    service.auth.revocations.revoke({ kind: 'jti', jti });
    expect(await service.get('topic', publish('r1'))).toBe('deny');
    expect(service.sink.records.at(-1)?.reason).toBe('token_revoked');
    expect(await service.get('user', { username: 'r1', password: token })).toBe('deny');
    expect(evicted).toEqual(['r1:revoked']);
  });

  it('a revoked certificate identity is denied at login and on checks', async () => {
    const service = await fresh();
    const id = spiffe('acme', 'invoice-producer');
    expect(await service.get('user', { username: id })).toBe('allow');
    service.auth.revocations.revoke({ kind: 'certificate', identity: id });
    expect(await service.get('vhost', { username: id, vhost: 'acme' })).toBe('deny');
    expect(service.sink.records.at(-1)?.reason).toBe('identity_revoked');
    expect(await service.get('user', { username: id })).toBe('deny');
  });

  it.each([
    ['identity', { kind: 'identity', identity: 'k1' } as const],
    ['tenant', { kind: 'tenant', tenant: 'acme' } as const],
    [
      'route',
      {
        kind: 'route',
        vhost: 'acme',
        resource: 'topic',
        name: 'acme.invoices',
        routingKey: 'acme.invoices.*',
      } as const,
    ],
  ])('a kill switch by %s denies at once and lifts cleanly', async (_kind, rule) => {
    const service = await fresh();
    await loginJwt(service, 'k1', 'producer');
    expect(await service.get('topic', publish('k1'))).toBe('allow');

    const entry = service.auth.killSwitch.engage(rule);
    expect(await service.get('topic', publish('k1'))).toBe('deny');
    expect(service.sink.records.at(-1)?.reason).toBe('kill_switch');

    service.auth.killSwitch.release(entry.id);
    expect(await service.get('topic', publish('k1'))).toBe('allow');
  });

  it('a route kill leaves other routes open', async () => {
    const service = await fresh();
    await loginJwt(service, 'k2', 'producer');
    service.auth.killSwitch.engage({
      kind: 'route',
      vhost: 'acme',
      resource: 'topic',
      name: 'acme.invoices',
      routingKey: 'acme.invoices.void',
    });
    expect(
      await service.get('topic', { ...publish('k2'), routing_key: 'acme.invoices.void' }),
    ).toBe('deny');
    expect(await service.get('topic', publish('k2'))).toBe('allow');
  });

  it('a tenant kill also refuses new logins of that tenant', async () => {
    const service = await fresh();
    service.auth.killSwitch.engage({ kind: 'tenant', tenant: 'acme' });
    const token = await idp.mint(service.clock, demoClaims('k3', 'acme', 'producer'));
    expect(await service.get('user', { username: 'k3', password: token })).toBe('deny');
    expect(service.sink.records.at(-1)?.reason).toBe('kill_switch');
    const other = await idp.mint(service.clock, demoClaims('g1', 'globex', 'producer'));
    expect(await service.get('user', { username: 'g1', password: other })).toBe('allow');
  });
});
