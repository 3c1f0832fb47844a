import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../identity/static-users.js';
import { startService, TestIdp, type TestService } from './support.js';

let idp: TestIdp;
let service: TestService;

beforeAll(async () => {
  idp = await TestIdp.start();
  // Low cost parameters keep the test fast; production hashes use the defaults.
  const hash = await hashPassword('correct horse', { N: 1024, r: 8, p: 1 });
  service = await startService({
    idp,
    policyText: `version: 1
tenants: [acme, globex]
classes:
  reader:
    vhosts: ['{tenant}', 'globex']
    grants:
      - { vhost: '#', resource: queue, name: '#', permissions: [read] }
identities:
  staticUsers:
    - { username: legacy-reporter, passwordHash: '${hash}', tenant: acme, class: reader }
`,
  });
});

afterAll(async () => {
  await service.auth.close();
  await idp.close();
});

describe('static users', () => {
  it('hashes with a fresh salt and verifies only the right password', async () => {
    const a = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
    const b = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
    expect(a).not.toBe(b);
    expect(await verifyPassword('pw', a)).toBe(true);
    expect(await verifyPassword('pW', a)).toBe(false);
    expect(await verifyPassword('pw', 'scrypt$1024$8$1$AAAA$')).toBe(false);
    expect(await verifyPassword('pw', 'plain:pw')).toBe(false);
  });

  it('log in with the right password and are denied with a wrong one', async () => {
    expect(await service.get('user', { username: 'legacy-reporter', password: 'wrong' })).toBe(
      'deny',
    );
    expect(service.sink.records.at(-1)?.reason).toBe('bad_credentials');
    expect(
      await service.get('user', { username: 'legacy-reporter', password: 'correct horse' }),
    ).toBe('allow');
    expect(service.sink.records.at(-1)?.reason).toBe('allowed_static_user');
  });

  it('stay confined to their own vhost even when their class grants more', async () => {
    await service.get('user', { username: 'legacy-reporter', password: 'correct horse' });
    const read = (vhost: string) => ({
      username: 'legacy-reporter',
      vhost,
      resource: 'queue',
      name: 'q',
      permission: 'read',
    });
    expect(await service.get('resource', read('acme'))).toBe('allow');
    expect(service.sink.records.at(-1)?.reason).toBe('allowed_static_user');
    expect(await service.get('vhost', { username: 'legacy-reporter', vhost: 'globex' })).toBe(
      'deny',
    );
    expect(await service.get('resource', read('globex'))).toBe('deny');
  });

  it('cannot log in by EXTERNAL without a password', async () => {
    expect(await service.get('user', { username: 'legacy-reporter' })).toBe('deny');
    expect(service.sink.records.at(-1)?.reason).toBe('unknown_identity');
  });

  it('deny unknown usernames with non-JWT passwords', async () => {
    expect(await service.get('user', { username: 'nobody', password: 'correct horse' })).toBe(
      'deny',
    );
    expect(service.sink.records.at(-1)?.reason).toBe('bad_credentials');
  });
});
