import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pino from 'pino';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  certificateNames,
  loadHttpsOptions,
  registerClientCertificateCheck,
  type TlsSettings,
} from '../ops/tls.js';
import { resolveConfig, type ConfigOverride } from '../config.js';
import { startReferenceAuth } from '../ops/service.js';
import { startService, TestIdp, type TestService } from './support.js';

/** Certificates made with the openssl CLI at test time: two CAs, a server, three clients. */
const dir = mkdtempSync(join(tmpdir(), 'ops-tls-'));
const file = (name: string) => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

function makeCa(name: string): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    file(`${name}.key`),
    '-out',
    file(`${name}.crt`),
    '-subj',
    `/CN=${name}`,
    '-days',
    '2',
  );
}

function makeLeaf(name: string, ca: string, subject: string, san: string, usage: string): void {
  openssl(
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    file(`${name}.key`),
    '-out',
    file(`${name}.csr`),
    '-subj',
    subject,
    '-addext',
    `subjectAltName=${san}`,
    '-addext',
    `extendedKeyUsage=${usage}`,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    file(`${name}.csr`),
    '-CA',
    file(`${ca}.crt`),
    '-CAkey',
    file(`${ca}.key`),
    '-CAcreateserial',
    '-days',
    '2',
    '-copy_extensions',
    'copy',
    '-out',
    file(`${name}.crt`),
  );
}

function client(name?: string): Agent {
  return new Agent({
    connect: {
      ca: readFileSync(file('ca.crt')),
      servername: 'localhost',
      ...(name
        ? { cert: readFileSync(file(`${name}.crt`)), key: readFileSync(file(`${name}.key`)) }
        : {}),
    },
  });
}

let idp: TestIdp;
beforeAll(async () => {
  makeCa('ca');
  makeCa('other-ca');
  makeLeaf('server', 'ca', '/CN=localhost', 'DNS:localhost,IP:127.0.0.1', 'serverAuth');
  makeLeaf(
    'broker',
    'ca',
    '/O=Lab/CN=broker',
    'URI:spiffe://warren.test/ns/ops/sa/broker',
    'clientAuth',
  );
  makeLeaf('intruder', 'ca', '/CN=intruder', 'DNS:intruder.test', 'clientAuth');
  makeLeaf('stranger', 'other-ca', '/CN=broker', 'DNS:broker.test', 'clientAuth');
  idp = await TestIdp.start();
});
afterAll(async () => {
  await idp.close();
  rmSync(dir, { recursive: true, force: true });
});

const settings = (overrides: Partial<TlsSettings>): TlsSettings => ({
  certFile: file('server.crt'),
  keyFile: file('server.key'),
  caFile: file('ca.crt'),
  clientCertificate: 'none',
  allowedClientNames: [],
  ...overrides,
});

/** Starts the real decision listener over HTTPS with the given client-certificate mode. */
async function listen(tls: TlsSettings): Promise<{ service: TestService; url: string }> {
  const https = await loadHttpsOptions(tls);
  const service = await startService({ idp, deps: https ? { https } : {} });
  registerClientCertificateCheck(service.auth.app, tls, service.auth.logger);
  const url = await service.auth.app.listen({ host: '127.0.0.1', port: 0 });
  return { service, url: url.replace('127.0.0.1', 'localhost') };
}

/** GET /vhost for an unknown user: the body is always `deny`, but only if TLS lets us in. */
async function ask(url: string, agent: Agent, path = '/vhost?username=nobody&vhost=acme&ip=') {
  const origin = new URL(url);
  const response = await request(`https://127.0.0.1:${origin.port}${path}`, { dispatcher: agent });
  return { status: response.statusCode, body: await response.body.text() };
}

describe('HTTPS decision listener', () => {
  it.each([
    { mode: 'none', clientCert: undefined, outcome: 'answered' },
    { mode: 'require', clientCert: 'broker', outcome: 'answered' },
    { mode: 'require', clientCert: undefined, outcome: 'handshake refused' },
    { mode: 'require', clientCert: 'stranger', outcome: 'handshake refused' },
    { mode: 'request', clientCert: undefined, outcome: 'answered' },
    { mode: 'request', clientCert: 'stranger', outcome: 'refused per request' },
  ] as const)(
    'with mode $mode and client cert $clientCert: $outcome',
    async ({ mode, clientCert, outcome }) => {
      const { service, url } = await listen(settings({ clientCertificate: mode }));
      const agent = client(clientCert);
      try {
        if (outcome === 'handshake refused') {
          await expect(ask(url, agent)).rejects.toThrow();
        } else if (outcome === 'refused per request') {
          expect(await ask(url, agent, '/metrics')).toMatchObject({ status: 403 });
        } else {
          expect(await ask(url, agent)).toEqual({ status: 200, body: 'deny' });
          expect(service.sink.records.at(-1)).toMatchObject({ path: 'vhost', verdict: 'deny' });
        }
      } finally {
        await agent.close();
        await service.auth.close();
      }
    },
  );

  it('pins the broker by certificate name: another certificate from the same CA gets deny', async () => {
    const names = ['spiffe://warren.test/ns/ops/sa/broker'];
    const { service, url } = await listen(
      settings({ clientCertificate: 'require', allowedClientNames: names }),
    );
    const broker = client('broker');
    const intruder = client('intruder');
    try {
      expect(await ask(url, broker, '/health')).toEqual({ status: 200, body: 'ok' });
      expect(await ask(url, intruder, '/health')).toMatchObject({ status: 403 });
      const before = service.sink.records.length;
      expect(await ask(url, intruder)).toEqual({ status: 200, body: 'deny' });
      // Refused before the decision core: nothing reached the sinks.
      expect(service.sink.records.length).toBe(before);
    } finally {
      await broker.close();
      await intruder.close();
      await service.auth.close();
    }
  });

  it('reads subject CN and DNS/URI alternative names from a peer certificate', () => {
    expect(
      certificateNames({
        subject: { CN: 'broker', O: 'Lab' },
        subjectaltname:
          'URI:spiffe://warren.test/ns/ops/sa/broker, DNS:broker.test, IP Address:127.0.0.1',
      } as never),
    ).toEqual(['broker', 'spiffe://warren.test/ns/ops/sa/broker', 'broker.test']);
  });

  it.each([
    {
      title: 'a key without a certificate',
      overrides: { certFile: '' },
      field: 'tls.certFile and tls.keyFile',
    },
    {
      title: 'a client mode without a CA',
      overrides: { clientCertificate: 'require', caFile: '' },
      field: 'tls.caFile',
    },
    {
      title: 'a client mode without HTTPS',
      overrides: { certFile: '', keyFile: '', clientCertificate: 'request' },
      field: 'tls.certFile',
    },
    {
      title: 'a missing file',
      overrides: { caFile: '/nonexistent/ca.pem', clientCertificate: 'request' },
      field: 'tls.caFile "/nonexistent',
    },
  ] as const)('refuses $title, naming the field', async ({ overrides, field }) => {
    await expect(loadHttpsOptions(settings(overrides))).rejects.toMatchObject({
      code: 'WARREN_AUTH_ERR_CONFIG',
      message: expect.stringContaining(field),
    });
  });

  it('serves plain HTTP when no certificate is configured', async () => {
    expect(await loadHttpsOptions(settings({ certFile: '', keyFile: '' }))).toBeUndefined();
  });

  it('serves the composed service over mutual TLS and the admin API over HTTPS', async () => {
    const token = 'tls-admin-token-0123456789';
    const running = await startReferenceAuth(
      resolveConfig({
        flags: {
          listen: { host: '127.0.0.1', port: 0 },
          watchPolicy: false,
          jwt: { jwksUrl: idp.url },
          metrics: { processMetrics: false },
          admin: { port: 0, token },
          tls: { ...settings({ clientCertificate: 'require' }) },
        } as ConfigOverride,
      }),
      { deps: { logger: pino({ level: 'silent' }) } },
    );
    const broker = client('broker');
    const operator = client();
    try {
      const decision = running.decisionAddress ?? '';
      expect(decision).toMatch(/^https:/);
      expect(await ask(decision, broker)).toEqual({ status: 200, body: 'deny' });
      await expect(ask(decision, operator)).rejects.toThrow();

      const admin = new URL(running.adminAddress ?? '');
      expect(admin.protocol).toBe('https:');
      const status = (authorization?: string) =>
        request(`https://127.0.0.1:${admin.port}/status`, {
          dispatcher: operator,
          headers: authorization ? { authorization } : {},
        });
      const refused = await status();
      expect(refused.statusCode).toBe(401);
      await refused.body.dump();
      const allowed = await status(`Bearer ${token}`);
      expect(allowed.statusCode).toBe(200);
      await allowed.body.dump();
    } finally {
      await broker.close();
      await operator.close();
      await running.close();
    }
  });
});
