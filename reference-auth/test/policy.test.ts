import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthErrorCode } from '../errors.js';
import { demoPolicyPath, parsePolicy } from '../policy/load.js';
import { compilePattern } from '../policy/patterns.js';
import { demoClaims, startService, TestIdp } from './support.js';

describe('the pattern language', () => {
  const rows: Array<[string, Record<string, string>, string, boolean]> = [
    ['{tenant}.invoices.*', { tenant: 'acme' }, 'acme.invoices.created', true],
    ['{tenant}.invoices.*', { tenant: 'acme' }, 'acme.invoices', false],
    ['{tenant}.invoices.*', { tenant: 'acme' }, 'acme.invoices.a.b', false],
    ['{tenant}.invoices.*', { tenant: 'acme' }, 'acme.invoices.#', false],
    ['{tenant}.invoices.*', { tenant: 'acme' }, 'acme.invoices.*', true],
    ['{tenant}.invoices.#', { tenant: 'acme' }, 'acme.invoices', true],
    ['{tenant}.invoices.#', { tenant: 'acme' }, 'acme.invoices.a.b.c', true],
    ['{tenant}.invoices.#', { tenant: 'acme' }, 'acme.invoicesX', false],
    ['#.audit', {}, 'audit', true],
    ['#.audit', {}, 'a.b.audit', true],
    ['a.#.z', {}, 'a.z', true],
    ['a.#.z', {}, 'a.b.c.z', true],
    ['a.#.z', {}, 'a.b.c', false],
    ['amq.gen-*', {}, 'amq.gen-abc', true],
    ['amq.gen-*', {}, 'amq.gen-a.b', false],
    ['#', {}, '', true],
    // claim values are literals: wildcard and regex characters never widen a grant
    ['{username}.q', { username: 'a+b' }, 'a+b.q', true],
    ['{username}.q', { username: 'a+b' }, 'aab.q', false],
    ['{username}.q', { username: '[a-z]' }, 'x.q', false],
    ['{username}.q', { username: '(x|y)' }, 'x.q', false],
    ['{username}.q', { username: '(x|y)' }, '(x|y).q', true],
    ['{username}.q', { username: '^x$' }, 'x.q', false],
    ['{username}.q', { username: '\\w' }, 'a.q', false],
    ['{username}.q', { username: '*' }, 'anything.q', false],
    ['{username}.q', { username: '*' }, '*.q', false],
    ['{username}.q', { username: '#' }, 'a.b.q', false],
    ['{username}.q', { username: 'acme.invoices' }, 'acme.invoices.q', false],
    ['{username}.q', { username: '' }, '.q', false],
    ['{username}.q', {}, 'undefined.q', false],
    ['{claim:team}.*', { 'claim:team': 'blue' }, 'blue.x', true],
    ['{claim:team}.*', { 'claim:team': '.*' }, 'blue.x', false],
  ];

  it.each(rows)('%s with %j against %j is %s', (pattern, vars, value, expected) => {
    expect(compilePattern(pattern, vars).test(value)).toBe(expected);
  });
});

describe('policy validation', () => {
  it('accepts the demo policy', async () => {
    const loaded = parsePolicy(await readFile(demoPolicyPath, 'utf8'), 'demo.yaml');
    expect(loaded.version).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(loaded.document.tenants).toEqual(['acme', 'globex']);
  });

  const base = (classBody: string, extra = '') => `version: 1
tenants: [acme]
classes:
  producer:
${classBody}
identities:
  jwt: { tenantClaim: tenant_id, classClaim: workload, classes: [producer] }
${extra}`;

  const broken: Array<[string, string, RegExp]> = [
    ['a YAML syntax error', 'version: 1\ntenants: [acme\n', /:\d+:\d+ field "\(yaml\)"/],
    ['a duplicate key', 'version: 1\nversion: 1\n', /:2:1 field "\(yaml\)"/],
    [
      'an unknown permission',
      base('    grants:\n      - resource: queue\n        name: q\n        permissions: [delete]'),
      /:8:23 field "classes\.producer\.grants\.0\.permissions\.0"/,
    ],
    [
      'a tag outside the fixed set',
      base('    tags: [superuser]'),
      /:5:12 field "classes\.producer\.tags\.0"/,
    ],
    [
      'a topic grant without routing keys',
      base('    grants:\n      - resource: topic\n        name: x\n        permissions: [write]'),
      /:6:9 field "classes\.producer\.grants\.0": a topic grant needs routingKeys/,
    ],
    [
      'an unknown placeholder',
      base(
        '    grants:\n      - resource: queue\n        name: "{team}.q"\n        permissions: [read]',
      ),
      /field "classes\.producer\.grants\.0": unknown placeholder \{team\}/,
    ],
    [
      'an unknown class in the jwt section',
      base('    tags: []').replace('classes: [producer] }', 'classes: [producer, ghost] }'),
      /:7:\d+ field "identities\.jwt\.classes\.1": unknown class "ghost"/,
    ],
    ['a misspelt field', base('    grantz: []'), /:5:5 field "classes\.producer": .*grantz/],
    [
      'a certificate id outside the trust domain',
      base(
        '    tags: []',
        '  certificates:\n    trustDomain: warren.test\n    entries:\n      - { id: "spiffe://evil.test/ns/acme/sa/x", class: producer }',
      ),
      /field "identities\.certificates\.entries\.0\.id": SPIFFE ID outside trust domain/,
    ],
  ];

  it.each(broken)('rejects %s naming line and field', (_title, text, expected) => {
    let message = '';
    try {
      parsePolicy(text, 'bad.yaml');
    } catch (error) {
      expect((error as { code?: string }).code).toBe(AuthErrorCode.BadPolicy);
      message = (error as Error).message;
    }
    expect(message).toMatch(/^policy bad\.yaml:/);
    expect(message).toMatch(expected);
  });
});

describe('policy reload', () => {
  let idp: TestIdp;
  let dir: string;

  beforeAll(async () => {
    idp = await TestIdp.start();
    dir = await mkdtemp(join(tmpdir(), 'warren-policy-'));
  });

  afterAll(async () => {
    await idp.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('swaps a good file atomically, keeps the old policy on a bad file, and clears the cache', async () => {
    const demo = await readFile(demoPolicyPath, 'utf8');
    const file = join(dir, 'policy.yaml');
    await writeFile(file, demo);
    const logLines: string[] = [];
    const service = await startService({ idp, config: { policyFile: file }, logLines });
    try {
      const token = await idp.mint(service.clock, demoClaims('rp', 'acme', 'producer'));
      await service.get('user', { username: 'rp', password: token });
      const check = {
        username: 'rp',
        vhost: 'acme',
        resource: 'exchange',
        name: 'acme.invoices',
        permission: 'write',
      };
      expect(await service.get('resource', check)).toBe('allow');
      const firstVersion = service.auth.policy().version;

      await writeFile(
        file,
        demo.replace('permissions: [configure, write]', 'permissions: [configure]'),
      );
      const good = await service.auth.reloadPolicy();
      expect(good).toMatchObject({ ok: true, changed: true, previousVersion: firstVersion });
      expect(await service.get('resource', check)).toBe('deny');
      expect(service.sink.records.at(-1)?.policyVersion).toBe(good.version);

      await writeFile(file, demo.replace('version: 1', 'version: 2'));
      const bad = await service.auth.reloadPolicy();
      expect(bad.ok).toBe(false);
      expect(bad.version).toBe(good.version);
      expect(await service.get('resource', check)).toBe('deny');
      expect(
        logLines.some((l) => l.includes('"level":50') && l.includes('keeping the previous policy')),
      ).toBe(true);
    } finally {
      await service.auth.close();
    }
  });

  it('reloads on its own when the watched file changes', async () => {
    const demo = await readFile(demoPolicyPath, 'utf8');
    const file = join(dir, 'watched.yaml');
    await writeFile(file, demo);
    const service = await startService({
      idp,
      config: { policyFile: file, watchPolicy: true, policyPollIntervalMs: 50 },
    });
    try {
      const before = service.auth.policy().version;
      await writeFile(file, `${demo}\n# edited\n`);
      const deadline = Date.now() + 5000;
      while (service.auth.policy().version === before && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(service.auth.policy().version).not.toBe(before);
    } finally {
      await service.auth.close();
    }
  });
});
