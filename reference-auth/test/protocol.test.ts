import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoClaims, spiffe, startService, TestIdp, type TestService } from './support.js';

let idp: TestIdp;
let service: TestService;
const logLines: string[] = [];
let token = '';

beforeAll(async () => {
  idp = await TestIdp.start();
  service = await startService({ idp, logLines });
  token = await idp.mint(service.clock, demoClaims('acme-admin', 'acme', 'admin'));
  expect(await service.get('user', { username: 'acme-admin', password: token })).toMatch(/^allow/);
  expect(await service.get('user', { username: spiffe('acme', 'invoice-producer') })).toBe('allow');
});

afterAll(async () => {
  await service.auth.close();
  await idp.close();
});

const producerId = spiffe('acme', 'invoice-producer');

const requests: Array<[string, string, Record<string, string>]> = [
  ['a JWT login with tags', 'user', { username: 'acme-admin', password: '' }],
  ['an EXTERNAL login', 'user', { username: producerId }],
  ['a vhost check', 'vhost', { username: producerId, vhost: 'acme', ip: '10.0.0.1', tags: '' }],
  ['a denied vhost check', 'vhost', { username: producerId, vhost: '/', ip: '', tags: '' }],
  [
    'a resource check',
    'resource',
    {
      username: producerId,
      vhost: 'acme',
      resource: 'exchange',
      name: 'acme.invoices',
      permission: 'write',
      tags: '',
    },
  ],
  [
    'a topic check with MQTT variable map fields',
    'topic',
    {
      username: producerId,
      vhost: 'acme',
      resource: 'topic',
      name: 'acme.invoices',
      permission: 'write',
      routing_key: 'acme.invoices.new',
      'variable_map.username': producerId,
      'variable_map.vhost': 'acme',
    },
  ],
  [
    'a request with unknown extra parameters',
    'vhost',
    { username: producerId, vhost: 'acme', color: 'blue' },
  ],
  ['a request missing a required parameter', 'resource', { username: producerId, vhost: 'acme' }],
];

describe('GET and POST give identical answers', () => {
  it.each(requests)('for %s', async (_title, path, fields) => {
    const filled =
      path === 'user' && 'password' in fields ? { ...fields, password: token } : fields;
    const viaGet = await service.get(path, filled);
    const viaPost = await service.post(path, filled);
    expect(viaPost).toBe(viaGet);
    expect(viaGet).toMatch(/^(allow|deny)( [a-z]+)*$/);
  });
});

describe('reply format', () => {
  it('answers 200 with no newline and a max-age equal to the decision TTL', async () => {
    const response = await service.auth.app.inject({
      url: `/vhost?username=${encodeURIComponent(producerId)}&vhost=acme`,
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('allow');
    expect(response.headers['cache-control']).toBe('max-age=5');
  });

  it('answers on /auth/<path> as well', async () => {
    const response = await service.auth.app.inject({ url: '/auth/user?username=nobody' });
    expect(response.body).toBe('deny');
  });

  it('answers allow with tags only from the fixed set and only on the user path', async () => {
    expect(await service.get('user', { username: 'acme-admin', password: token })).toBe(
      'allow management monitoring',
    );
    expect(await service.get('vhost', { username: 'acme-admin', vhost: 'acme' })).toBe('allow');
  });
});

describe('malformed requests are denied with a reason, never crash or allow', () => {
  const encodedId = encodeURIComponent(producerId);
  const cases: Array<[string, string, string]> = [
    ['a missing username', '/vhost?vhost=acme', 'missing_parameter'],
    ['an empty username at login', '/user?username=&password=x', 'missing_parameter'],
    ['an empty vhost', `/vhost?username=${encodedId}&vhost=`, 'missing_parameter'],
    [
      'a duplicated key',
      `/vhost?username=${encodedId}&vhost=acme&vhost=globex`,
      'duplicate_parameter',
    ],
    ['a duplicated username', `/user?username=${encodedId}&username=other`, 'duplicate_parameter'],
    [
      'an oversized value',
      `/vhost?username=${encodedId}&vhost=${'a'.repeat(2000)}`,
      'oversized_parameter',
    ],
    ['an invalid percent escape', `/vhost?username=${encodedId}&vhost=%ZZ`, 'malformed_request'],
    ['invalid UTF-8', `/vhost?username=${encodedId}&vhost=%C3%28`, 'malformed_request'],
    ['a NUL byte in a value', `/vhost?username=${encodedId}&vhost=acme%00x`, 'malformed_request'],
    [
      'an unknown resource kind',
      `/resource?username=${encodedId}&vhost=acme&resource=stream&name=x&permission=read`,
      'malformed_request',
    ],
    [
      'an unknown permission',
      `/resource?username=${encodedId}&vhost=acme&resource=queue&name=x&permission=delete`,
      'malformed_request',
    ],
    [
      'a topic check for a non-topic resource',
      `/topic?username=${encodedId}&vhost=acme&resource=queue&name=x&permission=read&routing_key=k`,
      'malformed_request',
    ],
    [
      'too many parameters',
      `/vhost?${Array.from({ length: 40 }, (_, i) => `p${i}=1`).join('&')}`,
      'malformed_request',
    ],
  ];

  it.each(cases)('denies %s', async (_title, url, reason) => {
    const response = await service.auth.app.inject({ url });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('deny');
    expect(service.sink.records.at(-1)?.reason).toBe(reason);
  });

  it('denies a POST body that is not a form', async () => {
    const response = await service.auth.app.inject({
      method: 'POST',
      url: '/vhost',
      payload: JSON.stringify({ username: producerId, vhost: 'acme' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('deny');
    expect(service.sink.records.at(-1)?.reason).toBe('malformed_request');
  });

  it('denies a POST body over the size limit', async () => {
    const response = await service.auth.app.inject({
      method: 'POST',
      url: '/user',
      payload: `username=a&password=${'x'.repeat(40_000)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('deny');
    expect(service.sink.records.at(-1)?.reason).toBe('oversized_parameter');
  });

  it('answers an unknown path with 404 and never echoes the query (it carries the password)', async () => {
    const response = await service.auth.app.inject({
      url: '/auth/admin?username=acme-admin&password=secret-token-value',
    });
    expect(response.statusCode).toBe(404);
    expect(response.body).not.toContain('secret-token-value');
    expect(response.body).not.toContain('username');
  });

  it('denies an oversized GET over a real socket instead of failing with 431', async () => {
    // Node's parser answers 431 to heads over 16 KiB by default; the broker would read that as
    // an error and try the next backend in its chain (RABBITMQ.md section 2).
    const listening = await startService({
      idp,
      config: { listen: { host: '127.0.0.1', port: 0 } },
    });
    try {
      const address = await listening.auth.listen();
      const query = new URLSearchParams({ username: 'acme-admin', password: 'x'.repeat(60_000) });
      const response = await fetch(`${address}/user?${query.toString()}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('deny');
      expect(listening.sink.records.at(-1)?.reason).toBe('oversized_parameter');
    } finally {
      await listening.auth.close();
    }
  });

  it('answers deny with internal_error when the decision throws', async () => {
    const original = service.auth.sessions.live.bind(service.auth.sessions);
    service.auth.sessions.live = () => {
      throw new Error('registry broke');
    };
    try {
      expect(await service.get('vhost', { username: 'someone-new', vhost: 'acme' })).toBe('deny');
      expect(service.sink.records.at(-1)?.reason).toBe('internal_error');
      expect(
        logLines.some((line) => line.includes('"level":50') && line.includes('registry broke')),
      ).toBe(true);
    } finally {
      service.auth.sessions.live = original;
    }
  });
});

describe('health endpoints', () => {
  it('reports liveness and readiness', async () => {
    expect((await service.auth.app.inject({ url: '/health' })).body).toBe('ok');
    const ready = await service.auth.app.inject({ url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      ready: true,
      policyVersion: service.auth.policy().version,
    });
  });
});

describe('logs', () => {
  it('write one JSON line per decision carrying the policy version and never the token', async () => {
    const before = logLines.length;
    await service.get('user', { username: 'acme-admin', password: token });
    await service.post('user', { username: 'acme-admin', password: `${token}x` });
    const lines = logLines.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((l) => l.channel === 'decision')).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      path: 'user',
      verdict: 'allow',
      policyVersion: service.auth.policy().version,
    });
    expect(lines[1]).toMatchObject({ verdict: 'deny', reason: 'token_invalid' });
    expect(lines[0]?.sessionId).toEqual(expect.any(String));
    expect(lines[0]?.correlationId).not.toBe(lines[1]?.correlationId);
    const signature = token.split('.')[2] as string;
    expect(logLines.join('\n')).not.toContain(signature);
    expect(logLines.join('\n')).not.toContain(token.split('.')[1] as string);
  });
});
