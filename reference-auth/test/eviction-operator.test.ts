import { readFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createEvictionOperator,
  evictionOperatorClass,
  withEvictionOperator,
  type EvictionOperatorCredentials,
} from '../ops/eviction-operator.js';
import { demoPolicyPath } from '../policy/load.js';
import { demoClaims, startService, TestIdp, type TestService } from './support.js';

// The operator reference-auth logs in as to the management API: tag `administrator`, nothing else.
let idp: TestIdp;
let service: TestService;
let operator: EvictionOperatorCredentials;
let demoText: string;

beforeAll(async () => {
  idp = await TestIdp.start();
  // Low cost parameters keep the test fast; createEvictionOperator defaults to the service's.
  operator = await createEvictionOperator({ scrypt: { N: 1024, r: 8, p: 1 } });
  demoText = await readFile(demoPolicyPath, 'utf8');
  service = await startService({ idp, policyText: withEvictionOperator(demoText, operator) });
});

afterAll(async () => {
  await service.auth.close();
  await idp.close();
});

const login = (password: string) => service.get('user', { username: operator.username, password });

describe('the eviction operator', () => {
  it('makes a fresh password per call, kept out of the hash', async () => {
    const other = await createEvictionOperator({ scrypt: { N: 1024, r: 8, p: 1 } });
    expect(other.password).not.toBe(operator.password);
    expect(other.password.length).toBeGreaterThanOrEqual(40);
    expect(operator.passwordHash).not.toContain(operator.password);
  });

  it('logs in with exactly the administrator tag, and only with its password', async () => {
    expect(await login(operator.password)).toBe('allow administrator');
    expect(await login(`${operator.password}x`)).toBe('deny');
  });

  it.each(['acme', 'globex', '/', ''])('reaches no vhost (%j)', async (vhost) => {
    await login(operator.password);
    expect(
      await service.get('vhost', { username: operator.username, vhost, ip: '127.0.0.1' }),
    ).toBe('deny');
  });

  it('is granted no resource in any tenant', async () => {
    await login(operator.password);
    for (const vhost of ['acme', 'globex']) {
      const fields = {
        username: operator.username,
        vhost,
        resource: 'queue',
        name: `${vhost}.invoices.x`,
        permission: 'read',
      };
      expect(await service.get('resource', fields)).toBe('deny');
    }
  });

  it('is not stopped by a tenant kill switch, so evictions of that tenant still authenticate', async () => {
    const entry = service.auth.killSwitch.engage({ kind: 'tenant', tenant: 'acme' });
    try {
      expect(await login(operator.password)).toBe('allow administrator');
    } finally {
      service.auth.killSwitch.release(entry.id);
    }
  });

  it('cannot be claimed by a token', async () => {
    const token = await idp.mint(
      service.clock,
      demoClaims('mallory', 'acme', evictionOperatorClass),
    );
    expect(await service.get('user', { username: 'mallory', password: token })).toBe('deny');
  });

  it('leaves every other class of the policy as it was', async () => {
    const token = await idp.mint(service.clock, demoClaims('acme-admin-1', 'acme', 'admin'));
    expect(await service.get('user', { username: 'acme-admin-1', password: token })).toBe(
      'allow management monitoring',
    );
  });

  it('refuses to merge into an existing class or username', async () => {
    const once = withEvictionOperator(demoText, operator);
    expect(() => withEvictionOperator(once, { ...operator, username: 'other' })).toThrow(
      /class "eviction-operator" already exists/,
    );
  });
});
