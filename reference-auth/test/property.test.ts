import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, TestIdp, type TestService } from './support.js';

let idp: TestIdp;
let service: TestService;
let counter = 0;
let allows = 0;

beforeAll(async () => {
  idp = await TestIdp.start();
  service = await startService({ idp });
});

afterAll(async () => {
  await service.auth.close();
  await idp.close();
});

interface Request {
  vhost: string;
  resource: string;
  name: string;
  permission: string;
  routingKey?: string;
}

/** One word with no `.` or `#`, non-empty: what a `*` in the demo policy may stand for. */
const isWord = (s: string): boolean => s.length > 0 && !/[.#]/.test(s);
const under = (value: string, prefix: string): string | undefined =>
  value.startsWith(`${prefix}.`) ? value.slice(prefix.length + 1) : undefined;

/**
 * The demo policy's grants written out by hand, independently of the policy engine: the set of
 * requests each class may be allowed. The property checks every allow falls inside this set.
 */
function demoGrants(workload: string, tenant: string, r: Request): boolean {
  if (r.vhost !== tenant) return false;
  const dlqConfigure =
    r.resource === 'queue' && r.name === `${tenant}.invoices.dlq` && r.permission === 'configure';
  if (dlqConfigure) return false;
  const topic = r.routingKey !== undefined;
  if (workload === 'producer') {
    if (!topic)
      return (
        r.resource === 'exchange' && r.name === `${tenant}.invoices` && r.permission !== 'read'
      );
    const rest = under(r.routingKey as string, `${tenant}.invoices`);
    return (
      r.name === `${tenant}.invoices` &&
      r.permission === 'write' &&
      rest !== undefined &&
      isWord(rest)
    );
  }
  if (workload === 'consumer') {
    if (topic) {
      const key = r.routingKey as string;
      return (
        r.name === `${tenant}.invoices` &&
        r.permission === 'read' &&
        (key === `${tenant}.invoices` || under(key, `${tenant}.invoices`) !== undefined)
      );
    }
    if (r.resource === 'exchange')
      return r.name === `${tenant}.invoices` && r.permission === 'read';
    const rest =
      under(r.name, `${tenant}.invoices`) ?? (r.name.startsWith('amq.gen-') ? 'x' : undefined);
    const genRest = r.name.startsWith('amq.gen-') ? r.name.slice('amq.gen-'.length) : undefined;
    return (
      r.resource === 'queue' &&
      rest !== undefined &&
      (genRest === undefined ? isWord(rest) : !/[.#]/.test(genRest))
    );
  }
  if (workload === 'admin') {
    const inTenant = (v: string) => v === tenant || under(v, tenant) !== undefined;
    if (topic)
      return inTenant(r.name) && r.permission !== 'configure' && inTenant(r.routingKey as string);
    return (r.resource === 'exchange' || r.resource === 'queue') && inTenant(r.name);
  }
  return false;
}

const tricky = [
  '*',
  '#',
  '.',
  '.*',
  'acme.*',
  'a|b',
  '(.*)',
  '[a-z]+',
  '\\',
  '^',
  '$',
  '+',
  '?',
  '{tenant}',
];
const tenantArb = fc.oneof(
  { arbitrary: fc.constantFrom('acme', 'globex'), weight: 6 },
  fc.constantFrom('initech', 'acme.x', ...tricky),
  fc.string({ maxLength: 6 }),
);
const workloadArb = fc.oneof(
  { arbitrary: fc.constantFrom('producer', 'consumer', 'admin'), weight: 4 },
  fc.constantFrom('root', '*', 'Producer'),
);
const segment = fc.oneof(
  fc.constantFrom('acme', 'globex', 'invoices', 'dlq', 'amq', 'gen-1', 'x', ...tricky),
  fc.string({ maxLength: 4 }),
);
const dotted = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.'));
/** Names near the demo grants (`{t}` becomes the caller's tenant), so allows are common. */
const nearGrant = fc.constantFrom(
  '{t}',
  '{t}.invoices',
  '{t}.invoices.q',
  '{t}.invoices.dlq',
  '{t}.invoices.#',
  '{t}.invoices.*',
  '{t}.invoices.a.b',
  'acme.invoices.q',
  'globex.invoices',
);
const nameArb = fc.oneof(
  { arbitrary: nearGrant, weight: 3 },
  fc.constantFrom('amq.gen-x', 'amq.gen-', 'amq.gen-a.b', 'amq.default'),
  dotted,
);
const randomRequestArb = fc.record({
  vhost: fc.oneof(
    { arbitrary: fc.constant('{t}'), weight: 3 },
    fc.constantFrom('acme', 'globex', '/', '*', '#'),
    fc.string({ maxLength: 5 }),
  ),
  resource: fc.constantFrom('exchange', 'queue', 'topic'),
  name: nameArb,
  permission: fc.constantFrom('configure', 'write', 'read'),
  routingKey: fc.option(nameArb, { nil: undefined }),
});
/** Requests one of the demo classes is granted, so allows are frequent enough to matter. */
const plausibleRequestArb = fc.constantFrom<Request>(
  { vhost: '{t}', resource: 'exchange', name: '{t}.invoices', permission: 'write' },
  { vhost: '{t}', resource: 'exchange', name: '{t}.invoices', permission: 'read' },
  { vhost: '{t}', resource: 'queue', name: '{t}.invoices.q', permission: 'read' },
  { vhost: '{t}', resource: 'queue', name: 'amq.gen-x', permission: 'configure' },
  { vhost: '{t}', resource: 'queue', name: '{t}.audit', permission: 'configure' },
  {
    vhost: '{t}',
    resource: 'topic',
    name: '{t}.invoices',
    permission: 'write',
    routingKey: '{t}.invoices.x',
  },
  {
    vhost: '{t}',
    resource: 'topic',
    name: '{t}.invoices',
    permission: 'read',
    routingKey: '{t}.invoices.#',
  },
);
const requestArb = fc.oneof(randomRequestArb, plausibleRequestArb);

describe('property: no allow without a matching grant', () => {
  it('random JWT identities and random requests are allowed only inside the demo grants', async () => {
    await fc.assert(
      fc.asyncProperty(tenantArb, workloadArb, requestArb, async (tenant, workload, generated) => {
        let request: Request = generated;
        counter += 1;
        const sub = `prop-${counter}`;
        const token = await idp.mint(
          service.clock,
          { sub, tenant_id: tenant, workload },
          { kid: 'es-1' },
        );
        const login = await service.get('user', { username: sub, password: token });
        const validCaller =
          ['acme', 'globex'].includes(tenant) &&
          ['producer', 'consumer', 'admin'].includes(workload);
        expect(login.startsWith('allow')).toBe(validCaller);

        const fill = (v: string) => v.split('{t}').join(tenant);
        request = {
          ...request,
          vhost: fill(request.vhost),
          name: fill(request.name),
          ...(request.routingKey === undefined ? {} : { routingKey: fill(request.routingKey) }),
        };
        const topic = request.routingKey !== undefined;
        const fields: Record<string, string> = {
          username: sub,
          vhost: request.vhost,
          resource: topic ? 'topic' : request.resource,
          name: request.name,
          permission: request.permission,
          ...(topic ? { routing_key: request.routingKey as string } : {}),
        };
        const body = await service.get(topic ? 'topic' : 'resource', fields);
        expect(['allow', 'deny']).toContain(body);
        if (body === 'allow') {
          allows += 1;
          expect(
            demoGrants(workload, tenant, { ...request, resource: fields.resource as string }),
          ).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
    // The property must have been exercised on allows, not only on denials.
    expect(allows).toBeGreaterThan(20);
  });

  it('random parameter soup without a login is always denied', async () => {
    const key = fc.oneof(
      fc.constantFrom(
        'username',
        'vhost',
        'resource',
        'name',
        'permission',
        'routing_key',
        'password',
      ),
      fc.string({ maxLength: 5 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('vhost', 'resource', 'topic'),
        fc.array(fc.tuple(key, fc.string({ maxLength: 8 })), { maxLength: 8 }),
        async (path, pairs) => {
          const query = pairs
            .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
            .join('&');
          const response = await service.auth.app.inject({ url: `/${path}?${query}` });
          expect(response.statusCode).toBe(200);
          expect(response.body).toBe('deny');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('random raw query strings and form bodies never crash and never allow', async () => {
    const alphabet = fc.constantFrom(
      ...'%&=+;aZ09.-_~/#*?'.split(''),
      '%C3',
      '%28',
      '%00',
      '%2F',
      'username=',
      'password=',
    );
    const raw = fc.array(alphabet, { maxLength: 40 }).map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('user', 'vhost', 'resource', 'topic'),
        raw,
        async (path, text) => {
          const viaGet = await service.auth.app.inject({
            url: `/${path}?${text.replace(/#/g, '%23')}`,
          });
          const viaPost = await service.auth.app.inject({
            method: 'POST',
            url: `/${path}`,
            payload: text,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          });
          for (const response of [viaGet, viaPost]) {
            expect(response.statusCode).toBe(200);
            expect(response.body).toBe('deny');
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
