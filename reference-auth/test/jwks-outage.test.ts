import { afterEach, describe, expect, it } from 'vitest';
import { demoClaims, startService, TestIdp, type TestService } from './support.js';

const claims = demoClaims('acme-producer', 'acme', 'producer');
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(): Promise<{ idp: TestIdp; service: TestService }> {
  const idp = await TestIdp.start();
  const service = await startService({ idp });
  cleanups.push(
    () => idp.close(),
    () => service.auth.close(),
  );
  return { idp, service };
}

describe('JWKS outage behaviour', () => {
  it('preloads the keys at start and is ready', async () => {
    const { idp, service } = await setup();
    expect(idp.fetchCount).toBe(1);
    const ready = await service.auth.app.inject({ url: '/ready' });
    expect(ready.statusCode).toBe(200);
  });

  it('keeps verifying with cached keys while the IdP is down', async () => {
    const { idp, service } = await setup();
    idp.online = false;
    service.clock.advance(10 * 60_000); // past the refresh interval: a refresh is attempted and fails
    const token = await idp.mint(service.clock, claims);
    expect(await service.get('user', { username: 'acme-producer', password: token })).toBe('allow');
    await service.auth.jwks?.refresh(); // joins the background refresh the login started
    expect(service.auth.status().jwks?.lastError).toMatch(/status 503/);
    expect(service.auth.status().ready).toBe(true);
  });

  it('denies an unknown kid while the IdP is down and refetches at most once per cooldown', async () => {
    const { idp, service } = await setup();
    idp.online = false;
    const rotated = await idp.addKey('rs-2', 'RS256');
    const token = await idp.mint(service.clock, claims, { key: rotated });
    service.clock.advance(31_000);
    const before = idp.fetchCount;
    for (let i = 0; i < 5; i += 1) {
      expect(await service.get('user', { username: 'acme-producer', password: token })).toBe(
        'deny',
      );
      expect(service.sink.records.at(-1)?.reason).toBe('token_unknown_key');
    }
    expect(idp.fetchCount - before).toBe(1);
  });

  it('picks up a rotated key on an unknown kid once the IdP is back', async () => {
    const { idp, service } = await setup();
    const rotated = await idp.addKey('rs-2', 'RS256');
    const token = await idp.mint(service.clock, claims, { key: rotated });
    service.clock.advance(31_000);
    expect(await service.get('user', { username: 'acme-producer', password: token })).toBe('allow');
  });

  it('is not ready and denies JWT logins as a dependency failure when no key was ever fetched', async () => {
    const idp = await TestIdp.start();
    idp.online = false;
    const service = await startService({ idp });
    cleanups.push(
      () => idp.close(),
      () => service.auth.close(),
    );
    const ready = await service.auth.app.inject({ url: '/ready' });
    expect(ready.statusCode).toBe(503);
    const token = await idp.mint(service.clock, claims);
    expect(await service.get('user', { username: 'acme-producer', password: token })).toBe('deny');
    expect(service.sink.records.at(-1)?.reason).toBe('dependency_unavailable');

    idp.online = true;
    service.clock.advance(31_000);
    expect(await service.get('user', { username: 'acme-producer', password: token })).toBe('allow');
  });
});
