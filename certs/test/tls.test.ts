import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateAuthority, IssuedCertificate } from '../index.js';
import { openCa } from '../index.js';
import { temporaryDir } from './support.js';

let dir: Awaited<ReturnType<typeof temporaryDir>>;
let foreignDir: Awaited<ReturnType<typeof temporaryDir>>;
let ca: CertificateAuthority;
let serverCert: IssuedCertificate;
const clients: Record<string, IssuedCertificate> = {};
const servers: tls.Server[] = [];

beforeAll(async () => {
  dir = await temporaryDir('certs-tls');
  foreignDir = await temporaryDir('certs-tls-foreign');
  ca = await openCa({ dir: dir.path });
  const foreign = await openCa({ dir: foreignDir.path });
  serverCert = await ca.issueServerCertificate({
    name: 'tls-server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const subject = (commonName: string) => ({ commonName, organization: 'Lab', country: 'US' });
  clients['good'] = await ca.issueClientCertificate({
    name: 'good',
    subject: subject('svc-good'),
    spiffeId: { namespace: 'acme', serviceAccount: 'good' },
  });
  clients['revoked'] = await ca.issueClientCertificate({
    name: 'revoked',
    subject: subject('svc-revoked'),
  });
  clients['wrongEku'] = await ca.issueClientCertificate({
    name: 'wrong-eku',
    subject: subject('svc-wrong-eku'),
    extendedKeyUsage: 'serverAuth',
  });
  clients['foreign'] = await foreign.issueClientCertificate({
    name: 'foreign',
    subject: subject('svc-foreign'),
  });
  await ca.revoke('revoked');
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await dir.remove();
  await foreignDir.remove();
});

/**
 * Starts a mutual-TLS server on an ephemeral loopback port. It greets an authorised client by
 * CN, and otherwise answers with Node's verification error and closes: with
 * `rejectUnauthorized: true` Node would drop the client without saying why.
 */
async function startServer(
  crlPaths: string[],
  rejectUnauthorized = false,
): Promise<{ port: number }> {
  const server = tls.createServer(
    {
      key: await readFile(serverCert.keyPath),
      cert: await readFile(serverCert.chainPath),
      ca: await readFile(ca.trustBundlePath),
      crl: await Promise.all(crlPaths.map((path) => readFile(path))),
      requestCert: true,
      rejectUnauthorized,
      minVersion: 'TLSv1.2',
    },
    (socket) =>
      socket.end(
        socket.authorized
          ? `hello ${String(socket.getPeerCertificate().subject.CN)}`
          : `refused ${String(socket.authorizationError)}`,
      ),
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port };
}

/** Connects with a client certificate (or none) and returns the server's answer, if any. */
async function connect(
  server: { port: number },
  client: IssuedCertificate | undefined,
): Promise<string | undefined> {
  const credentials = client
    ? { key: await readFile(client.keyPath), cert: await readFile(client.chainPath) }
    : {};
  const trustBundle = await readFile(ca.trustBundlePath);
  return new Promise<string | undefined>((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: server.port,
      servername: 'localhost',
      ca: trustBundle,
      ...credentials,
    });
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    socket.on('error', () => resolve(undefined));
    socket.on('close', () => resolve(received === '' ? undefined : received));
  });
}

describe('mutual TLS with node:tls', () => {
  it('a client with a valid certificate completes the handshake and is seen by its CN', async () => {
    const server = await startServer(ca.crlPaths().files);
    expect(await connect(server, clients['good'])).toBe('hello svc-good');
  });

  // Node keeps the last error OpenSSL's verification reported: for a foreign chain with CRL
  // checks on, the missing CRL of the foreign intermediate comes after the unknown issuer.
  it.each([
    ['a revoked client', 'revoked', true, 'CERT_REVOKED'],
    ['a client whose certificate is for serverAuth only', 'wrongEku', true, 'INVALID_PURPOSE'],
    ['a client from a foreign CA', 'foreign', true, 'UNABLE_TO_GET_CRL'],
    ['a client from a foreign CA', 'foreign', false, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
    ['a client without a certificate', undefined, true, 'UNABLE_TO_GET_ISSUER_CERT'],
  ])('%s is refused (CRLs loaded: %s) with %s', async (_, key, withCrls, reason) => {
    const server = await startServer(withCrls ? ca.crlPaths().files : []);
    const answer = await connect(server, key === undefined ? undefined : clients[key]);
    expect(answer).toBe(`refused ${reason}`);
  });

  it('a revoked client gets no answer from a server that rejects unauthorised peers', async () => {
    const server = await startServer(ca.crlPaths().files, true);
    const answers = [
      await connect(server, clients['revoked']),
      await connect(server, clients['good']),
    ];
    expect(answers).toEqual([undefined, 'hello svc-good']);
  });

  // Node's `crl` option wants one CRL per CA level; with one missing, OpenSSL cannot finish the
  // CRL check, so every client fails verification.
  it.each([
    ['the intermediate CRL only', () => [ca.crlPaths().intermediate]],
    [
      'the CRL bundle as one PEM string (Node reads only its first CRL)',
      () => [ca.crlPaths().bundle],
    ],
  ])('a server given %s refuses even a valid client', async (_, crlPaths) => {
    const server = await startServer(crlPaths());
    expect(await connect(server, clients['good'])).toBe('refused UNABLE_TO_GET_CRL');
  });

  it('nodeTlsOptions gives a client and a server everything mutual TLS with CRLs needs', async () => {
    const serverOptions = await ca.nodeTlsOptions(serverCert, { withCrls: true });
    const server = tls.createServer(
      { ...serverOptions, requestCert: true, rejectUnauthorized: true },
      (socket) => socket.end('ok'),
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const clientOptions = await ca.nodeTlsOptions(clients['good'] as IssuedCertificate);
    const port = (server.address() as AddressInfo).port;
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({
        ...clientOptions,
        host: '127.0.0.1',
        port,
        servername: 'localhost',
      });
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
      socket.on('error', reject);
      socket.on('close', () => resolve(received));
    });
    expect(serverOptions.crl).toHaveLength(2);
    expect(reply).toBe('ok');
  });
});
