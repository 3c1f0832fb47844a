import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoClaims, spiffe, startService, TestIdp, type TestService } from './support.js';

/** Who logs in before the request: a JWT holder or a certificate holder. */
type Caller = { jwt: Record<string, unknown> } | { cert: string };

interface Row {
  title: string;
  caller: Caller;
  path: 'vhost' | 'resource' | 'topic';
  fields: Record<string, string>;
  expected: 'allow' | 'deny';
  reason: string;
}

let idp: TestIdp;
let service: TestService;
let counter = 0;

beforeAll(async () => {
  idp = await TestIdp.start();
  service = await startService({ idp });
});

afterAll(async () => {
  await service.auth.close();
  await idp.close();
});

/** Logs the caller in under a fresh username and returns that username. */
async function login(caller: Caller): Promise<string> {
  if ('cert' in caller) {
    expect(await service.get('user', { username: caller.cert })).toMatch(/^allow/);
    return caller.cert;
  }
  counter += 1;
  const sub = `${String(caller.jwt.sub)}-${counter}`;
  const token = await idp.mint(service.clock, { ...caller.jwt, sub });
  expect(await service.get('user', { username: sub, password: token })).toMatch(/^allow/);
  return sub;
}

const producer = { jwt: demoClaims('acme-producer', 'acme', 'producer') };
const consumer = { jwt: demoClaims('acme-consumer', 'acme', 'consumer') };
const admin = { jwt: demoClaims('acme-admin', 'acme', 'admin') };
const globexProducer = { jwt: demoClaims('globex-producer', 'globex', 'producer') };
const certProducer = { cert: spiffe('acme', 'invoice-producer') };
const certConsumer = { cert: spiffe('globex', 'invoice-consumer') };

const resource = (vhost: string, kind: string, name: string, permission: string) => ({
  vhost,
  resource: kind,
  name,
  permission,
});
const topic = (vhost: string, exchange: string, permission: string, routingKey: string) => ({
  ...resource(vhost, 'topic', exchange, permission),
  routing_key: routingKey,
});

const rows: Row[] = [
  // allows, each traceable to a demo grant
  {
    title: 'a producer opens its tenant vhost',
    caller: producer,
    path: 'vhost',
    fields: { vhost: 'acme', ip: '127.0.0.1' },
    expected: 'allow',
    reason: 'allowed_by_grant',
  },
  {
    title: 'a producer writes to its invoices exchange',
    caller: producer,
    path: 'resource',
    fields: resource('acme', 'exchange', 'acme.invoices', 'write'),
    expected: 'allow',
    reason: 'allowed_by_grant',
  },
  {
    title: 'a producer publishes with a key under its prefix',
    caller: producer,
    path: 'topic',
    fields: topic('acme', 'acme.invoices', 'write', 'acme.invoices.created'),
    expected: 'allow',
    reason: 'allowed_by_grant',
  },
  {
    title: 'a consumer declares an invoice queue',
    caller: consumer,
    path: 'resource',
    fields: resource('acme', 'queue', 'acme.invoices.billing', 'configure'),
    expected: 'allow',
    reason: 'allowed_by_grant',
  },
  {
    title: 'a consumer binds with a # binding key under its prefix',
    caller: consumer,
    path: 'topic',
    fields: topic('acme', 'acme.invoices', 'read', 'acme.invoices.#'),
    expected: 'allow',
    reason: 'allowed_by_grant',
  },
  {
    title: 'a consumer reads a server-named queue',
    caller: consumer,
    path: 'resource',
    fields: resource('acme', 'queue', 'amq.gen-Xa1', 'read'),
    expected: 'allow',
    reason: 'allowed_by_grant',
  },
  {
    title: 'an admin configures a queue of its tenant',
    caller: admin,
    path: 'resource',
    fields: resource('acme', 'queue', 'acme.reports.daily', 'configure'),
    expected: 'allow',
    reason: 'allowed_by_grant',
  },
  {
    title: 'a certificate producer publishes under its prefix',
    caller: certProducer,
    path: 'topic',
    fields: topic('acme', 'acme.invoices', 'write', 'acme.invoices.paid'),
    expected: 'allow',
    reason: 'allowed_by_grant',
  },
  {
    title: 'a certificate consumer of globex reads a globex queue',
    caller: certConsumer,
    path: 'resource',
    fields: resource('globex', 'queue', 'globex.invoices.q', 'read'),
    expected: 'allow',
    reason: 'allowed_by_grant',
  },
  // deny-first negatives
  {
    title: 'a producer cannot open the other tenant vhost',
    caller: producer,
    path: 'vhost',
    fields: { vhost: 'globex', ip: '' },
    expected: 'deny',
    reason: 'no_matching_grant',
  },
  {
    title: 'a globex producer cannot write to acme exchange in the globex vhost',
    caller: globexProducer,
    path: 'resource',
    fields: resource('globex', 'exchange', 'acme.invoices', 'write'),
    expected: 'deny',
    reason: 'no_matching_grant',
  },
  {
    title: 'a producer cannot reach acme resources from the acme vhost name in another tenant',
    caller: globexProducer,
    path: 'resource',
    fields: resource('acme', 'exchange', 'acme.invoices', 'write'),
    expected: 'deny',
    reason: 'no_matching_grant',
  },
  {
    title: 'a producer cannot publish outside its routing-key prefix',
    caller: producer,
    path: 'topic',
    fields: topic('acme', 'acme.invoices', 'write', 'globex.invoices.created'),
    expected: 'deny',
    reason: 'no_matching_grant',
  },
  {
    title: 'a producer cannot publish two words deep where one is granted',
    caller: producer,
    path: 'topic',
    fields: topic('acme', 'acme.invoices', 'write', 'acme.invoices.a.b'),
    expected: 'deny',
    reason: 'no_matching_grant',
  },
  {
    title: 'a producer cannot publish a literal # where * is granted',
    caller: producer,
    path: 'topic',
    fields: topic('acme', 'acme.invoices', 'write', 'acme.invoices.#'),
    expected: 'deny',
    reason: 'no_matching_grant',
  },
  {
    title: 'a producer cannot read its exchange',
    caller: producer,
    path: 'resource',
    fields: resource('acme', 'exchange', 'acme.invoices', 'read'),
    expected: 'deny',
    reason: 'no_matching_grant',
  },
  {
    title: 'a producer cannot use the default exchange',
    caller: producer,
    path: 'resource',
    fields: resource('acme', 'exchange', 'amq.default', 'write'),
    expected: 'deny',
    reason: 'no_matching_grant',
  },
  {
    title: 'a consumer cannot publish',
    caller: consumer,
    path: 'topic',
    fields: topic('acme', 'acme.invoices', 'write', 'acme.invoices.x'),
    expected: 'deny',
    reason: 'no_matching_grant',
  },
  {
    title: 'a consumer cannot bind outside its prefix',
    caller: consumer,
    path: 'topic',
    fields: topic('acme', 'acme.invoices', 'read', '#'),
    expected: 'deny',
    reason: 'no_matching_grant',
  },
  {
    title: 'the explicit deny on the dead-letter queue beats the consumer grant',
    caller: consumer,
    path: 'resource',
    fields: resource('acme', 'queue', 'acme.invoices.dlq', 'configure'),
    expected: 'deny',
    reason: 'explicit_deny',
  },
  {
    title: 'the explicit deny on the dead-letter queue beats the admin grant',
    caller: admin,
    path: 'resource',
    fields: resource('acme', 'queue', 'acme.invoices.dlq', 'configure'),
    expected: 'deny',
    reason: 'explicit_deny',
  },
  {
    title: 'a topic check on a resource path grant kind is not a topic grant',
    caller: producer,
    path: 'resource',
    fields: resource('acme', 'topic', 'acme.invoices', 'write'),
    expected: 'deny',
    reason: 'no_matching_grant',
  },
  {
    title: 'a certificate identity of globex cannot open acme',
    caller: certConsumer,
    path: 'vhost',
    fields: { vhost: 'acme', ip: '' },
    expected: 'deny',
    reason: 'no_matching_grant',
  },
];

describe('decisions against the demo policy', () => {
  it.each(rows)('$title', async (row) => {
    const username = await login(row.caller);
    const body = await service.get(row.path, { username, ...row.fields, tags: '' });
    expect(body).toBe(row.expected);
    const record = service.sink.records.at(-1);
    expect(record?.reason).toBe(row.reason);
    expect(record?.path).toBe(row.path);
    if (row.expected === 'allow') expect(record?.rule).toMatch(/^classes\./);
  });
});

describe('logins and tags', () => {
  it.each([
    ['producer', 'allow'],
    ['consumer', 'allow'],
    ['admin', 'allow management monitoring'],
  ])('a %s token logs in as %j', async (workload, expected) => {
    const token = await idp.mint(service.clock, demoClaims(`tag-${workload}`, 'acme', workload));
    expect(await service.post('user', { username: `tag-${workload}`, password: token })).toBe(
      expected,
    );
  });

  it('denies a token for an undeclared tenant', async () => {
    const token = await idp.mint(service.clock, demoClaims('intruder', 'initech', 'producer'));
    expect(await service.get('user', { username: 'intruder', password: token })).toBe('deny');
    expect(service.sink.records.at(-1)?.reason).toBe('unknown_identity');
  });

  it('denies a token claiming an undeclared workload class', async () => {
    const token = await idp.mint(service.clock, demoClaims('root', 'acme', 'superuser'));
    expect(await service.get('user', { username: 'root', password: token })).toBe('deny');
    expect(service.sink.records.at(-1)?.reason).toBe('unknown_identity');
  });

  it('denies a token without the tenant claim', async () => {
    const token = await idp.mint(service.clock, { sub: 'no-tenant', workload: 'producer' });
    expect(await service.get('user', { username: 'no-tenant', password: token })).toBe('deny');
    expect(service.sink.records.at(-1)?.reason).toBe('token_claim_missing');
  });

  it.each([
    ['an undeclared SPIFFE service', spiffe('acme', 'mallory')],
    ['a SPIFFE ID from another trust domain', 'spiffe://evil.test/ns/acme/sa/invoice-producer'],
    ['a SPIFFE ID of an undeclared tenant namespace', spiffe('initech', 'invoice-producer')],
    [
      'a tenant placeholder spanning path segments',
      'spiffe://warren.test/ns/acme/sa/x/ns/acme/sa/invoice-producer',
    ],
    ['a DN nobody declared', 'C=US,O=Warren,CN=acme-producer'],
  ])('denies an EXTERNAL login of %s', async (_title, username) => {
    expect(await service.get('user', { username })).toBe('deny');
    expect(service.sink.records.at(-1)?.reason).toBe('unknown_identity');
  });

  it('treats a PLAIN login with a certificate identity as a password login', async () => {
    const body = await service.get('user', {
      username: spiffe('acme', 'invoice-producer'),
      password: '',
    });
    expect(body).toBe('deny');
    expect(service.sink.records.at(-1)?.request.mechanism).toBe('PLAIN');
  });

  it('denies checks for a username that never logged in', async () => {
    expect(await service.get('vhost', { username: 'stranger', vhost: 'acme', ip: '' })).toBe(
      'deny',
    );
    expect(service.sink.records.at(-1)?.reason).toBe('no_session');
  });
});

describe('certificate identity forms', () => {
  const policyText = `version: 1
tenants: [acme, globex]
classes:
  producer:
    grants:
      - { resource: exchange, name: '{tenant}.invoices', permissions: [write] }
identities:
  certificates:
    trustDomain: warren.test
    entries:
      - { id: 'C=US,O=Warren,OU=acme,CN=invoice-producer', tenant: acme, class: producer }
      - { id: 'globex-invoice-producer', tenant: globex, class: producer }
      - { id: 'spiffe://warren.test/ns/acme/sa/{service}', class: producer }
`;
  let forms: TestService;

  beforeAll(async () => {
    forms = await startService({ idp, policyText });
  });

  afterAll(async () => {
    await forms.auth.close();
  });

  it.each([
    ['a reversed distinguished name', 'C=US,O=Warren,OU=acme,CN=invoice-producer', 'acme'],
    ['a common name', 'globex-invoice-producer', 'globex'],
    ['a SPIFFE ID with a {service} placeholder', spiffe('acme', 'billing'), 'acme'],
  ])('accepts %s and binds its tenant', async (_title, username, tenant) => {
    expect(await forms.get('user', { username })).toBe('allow');
    expect(forms.sink.records.at(-1)?.tenant).toBe(tenant);
    const write = {
      username,
      vhost: tenant,
      resource: 'exchange',
      name: `${tenant}.invoices`,
      permission: 'write',
    };
    expect(await forms.get('resource', write)).toBe('allow');
  });

  it.each([
    ['the DN in display order', 'CN=invoice-producer,OU=acme,O=Warren,C=US'],
    ['the DN with spaces after commas', 'C=US, O=Warren, OU=acme, CN=invoice-producer'],
    ['the CN of another case', 'Globex-Invoice-Producer'],
    ['a JWT username that is not a certificate', 'acme-producer'],
  ])('denies %s', async (_title, username) => {
    expect(await forms.get('user', { username })).toBe('deny');
    expect(forms.sink.records.at(-1)?.reason).toBe('unknown_identity');
  });
});

describe('claim values never widen a grant', () => {
  const policyText = `version: 1
tenants: [acme]
classes:
  personal:
    grants:
      - { resource: queue, name: '{username}.inbox.*', permissions: [read] }
      - resource: topic
        name: 'mail'
        permissions: [read]
        routingKeys: ['mail.{claim:team}.*']
identities:
  jwt: { tenantClaim: tenant_id, classClaim: workload, classes: [personal] }
`;
  let personal: TestService;

  beforeAll(async () => {
    personal = await startService({ idp, policyText });
  });

  afterAll(async () => {
    await personal.auth.close();
  });

  async function loginAs(sub: string, team: string): Promise<void> {
    const token = await idp.mint(personal.clock, {
      sub,
      tenant_id: 'acme',
      workload: 'personal',
      team,
    });
    expect(await personal.get('user', { username: sub, password: token })).toBe('allow');
  }

  const readQueue = (username: string, name: string) => ({
    username,
    vhost: 'acme',
    resource: 'queue',
    name,
    permission: 'read',
  });
  const bind = (username: string, key: string) => ({
    username,
    vhost: 'acme',
    resource: 'topic',
    name: 'mail',
    permission: 'read',
    routing_key: key,
  });

  it('grants the literal owner of the name', async () => {
    await loginAs('alice', 'blue');
    expect(await personal.get('resource', readQueue('alice', 'alice.inbox.1'))).toBe('allow');
    expect(await personal.get('topic', bind('alice', 'mail.blue.x'))).toBe('allow');
  });

  it.each([
    ['*', 'alice.inbox.1'],
    ['#', 'alice.inbox.1'],
    ['.*', 'alice.inbox.1'],
    ['a.*', 'a.b.inbox.1'],
    ['(alice|bob)', 'alice.inbox.1'],
    ['[a-z]+', 'alice.inbox.1'],
    ['al+ce', 'allce.inbox.1'],
  ])('a username %j cannot read %j', async (sub, queue) => {
    await loginAs(sub, 'blue');
    expect(await personal.get('resource', readQueue(sub, queue))).toBe('deny');
  });

  it.each([
    ['*', 'mail.blue.x'],
    ['#', 'mail.red.x'],
    ['blue.*', 'mail.blue.x.y'],
    ['.+', 'mail.blue.x'],
  ])('a team claim %j cannot bind %j', async (team, key) => {
    const sub = `team-${team.replace(/\W/g, '_')}`;
    await loginAs(sub, team);
    expect(await personal.get('topic', bind(sub, key))).toBe('deny');
  });
});
