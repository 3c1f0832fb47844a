import { describe, expect, it } from 'vitest';

import { ErrorCode, isWarrenError } from '../../lib/errors.js';
import type { BrokerOptions } from '../broker/index.js';
import { portsForSlot, resolveBrokerOptions } from '../broker/index.js';
import { hashInternalPassword, renderDefinitions } from '../broker/config-files.js';
import { renderBrokerConfig } from './config-fixture.js';

describe('broker options', () => {
  it('fill in the documented defaults', () => {
    const resolved = resolveBrokerOptions({ version: '3.10' });

    expect(resolved).toMatchObject({
      instance: 'v3-10',
      backendUrl: 'http://127.0.0.1:8600',
      httpMethod: 'post',
      cache: undefined,
      certLoginFrom: 'distinguished_name',
      crlCheck: true,
      authTimeoutMs: 2000,
      fallbackInternal: false,
      vhosts: ['/', 'acme', 'globex'],
    });
  });

  it.each([
    { field: 'version', options: { version: '3.9' } },
    { field: 'instance', options: { version: '3.10', instance: 'Bad_Name' } },
    { field: 'backendUrl', options: { version: '3.10', backendUrl: 'not a url' } },
    { field: 'backendUrl', options: { version: '3.10', backendUrl: 'http://u:p@127.0.0.1:1' } },
    { field: 'httpMethod', options: { version: '4.0', httpMethod: 'put' } },
    { field: 'certLoginFrom', options: { version: '4.0', certLoginFrom: 'email' } },
    { field: 'authTimeoutMs', options: { version: '4.0', authTimeoutMs: 0 } },
    { field: 'ports.amqp', options: { version: '4.0', ports: { amqp: 35675 } } },
    {
      field: 'internalUsers[0].username',
      options: { version: '4.0', internalUsers: [{ username: 'guest2', password: 'x' }] },
    },
  ])('reject a bad $field, naming it', ({ field, options }) => {
    let caught: unknown;
    try {
      resolveBrokerOptions(options as BrokerOptions);
    } catch (error) {
      caught = error;
    }

    expect(isWarrenError(caught, ErrorCode.BadOption)).toBe(true);
    expect((caught as Error).message).toContain(field);
  });

  it('give each version and slot its own ports, clear of the default node and rabbitmqctl', () => {
    const all = (['3.10', '4.0'] as const).flatMap((version) =>
      [0, 1, 9].flatMap((slot) => Object.values(portsForSlot(version, slot))),
    );

    expect(new Set(all).size).toBe(all.length);
    for (const port of all) {
      expect([5672, 15672, 25672, 4369]).not.toContain(port);
      expect(port >= 35672 && port <= 35682).toBe(false);
    }
  });
});

describe('the generated rabbitmq.conf', () => {
  it('points the HTTP backend at the four paths with short timeouts', () => {
    const { conf } = renderBrokerConfig({ version: '3.10', backendUrl: 'http://127.0.0.1:9000/' });

    expect(conf).toContain('auth_backends.1 = http\n');
    expect(conf).toContain('auth_http.http_method = post\n');
    expect(conf).toContain('auth_http.user_path = http://127.0.0.1:9000/auth/user\n');
    expect(conf).toContain('auth_http.topic_path = http://127.0.0.1:9000/auth/topic\n');
    expect(conf).toContain('auth_http.request_timeout = 2000\n');
    expect(conf).toContain('auth_http.connection_timeout = 2000\n');
    expect(conf).not.toContain('auth_backends.2');
  });

  it('listens on loopback only and offers EXTERNAL and PLAIN', () => {
    const { conf } = renderBrokerConfig({ version: '4.0' });

    expect(conf).toContain('listeners.tcp.default = 127.0.0.1:5740\n');
    expect(conf).toContain('listeners.ssl.default = 127.0.0.1:5741\n');
    expect(conf).toContain('management.tcp.ip = 127.0.0.1\n');
    expect(conf).toContain('auth_mechanisms.1 = EXTERNAL\nauth_mechanisms.2 = PLAIN\n');
    expect(conf).toContain('cluster_name = warren-v4-0\n');
    expect(conf).not.toMatch(/^ssl_options/m);
  });

  it.each([
    { from: 'distinguished_name', lines: ['ssl_cert_login_from = distinguished_name'] },
    { from: 'common_name', lines: ['ssl_cert_login_from = common_name'] },
    {
      from: 'uri_san',
      lines: [
        'ssl_cert_login_from = subject_alternative_name',
        'ssl_cert_login_san_type = uri',
        'ssl_cert_login_san_index = 0',
      ],
    },
  ] as const)('takes the EXTERNAL username from $from', ({ from, lines }) => {
    const { conf } = renderBrokerConfig({ version: '3.10', certLoginFrom: from });

    for (const line of lines) expect(conf).toContain(`${line}\n`);
  });

  it('chains cache before http, and internal last only when asked', () => {
    const { conf } = renderBrokerConfig({
      version: '3.10',
      cache: { ttlMs: 5000 },
      fallbackInternal: true,
      httpMethod: 'get',
    });

    expect(conf).toContain(
      'auth_backends.1 = cache\nauth_cache.cached_backend = http\nauth_cache.cache_ttl = 5000\n',
    );
    expect(conf).toContain('auth_cache.cache_refusals = false\n');
    expect(conf).toContain('auth_backends.2 = internal\n');
    expect(conf).toContain('auth_http.http_method = get\n');
  });
});

describe('the generated advanced.config', () => {
  it('requires a client certificate, allows TLS 1.2 and 1.3 only and checks CRLs', () => {
    const { advanced } = renderBrokerConfig({ version: '3.10' });

    expect(advanced).toContain('{verify, verify_peer}');
    expect(advanced).toContain('{fail_if_no_peer_cert, true}');
    expect(advanced).toContain("{versions, ['tlsv1.3', 'tlsv1.2']}");
    expect(advanced).toContain('{crl_check, true}');
    expect(advanced).toContain('{ssl_crl_hash_dir, {internal, [{dir, "/b/crl"}]}}');
  });

  it('leaves CRL checking out when it is turned off', () => {
    const { advanced } = renderBrokerConfig({ version: '4.0', crlCheck: false });

    expect(advanced).not.toContain('crl_check');
    expect(advanced).toContain('{fail_if_no_peer_cert, true}');
  });
});

describe('the definitions file', () => {
  it('holds internal users only as salted SHA-256 hashes', () => {
    const salt = Buffer.from([1, 2, 3, 4]);
    const hash = hashInternalPassword('s3cret', salt);
    const definitions = JSON.parse(
      renderDefinitions(
        ['acme'],
        [{ username: 'warren-admin', password: 's3cret', vhosts: ['acme'] }],
      ),
    ) as { users: Array<{ password_hash: string }>; permissions: unknown[] };

    expect(Buffer.from(hash, 'base64').subarray(0, 4)).toEqual(salt);
    expect(Buffer.from(hash, 'base64')).toHaveLength(36);
    expect(hashInternalPassword('s3cret', salt)).toBe(hash);
    expect(JSON.stringify(definitions)).not.toContain('s3cret');
    expect(definitions.users[0]?.password_hash).toHaveLength(48);
    expect(definitions.permissions).toHaveLength(1);
  });
});
