import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../lib/wait.js';
import type { CertificateAuthority, IssuedCertificate } from '../index.js';
import { openCa } from '../index.js';
import { temporaryDir } from './support.js';

// RabbitMQ's TLS listener is Erlang/OTP's ssl. This drives a small escript server configured
// like it (verify_peer, fail_if_no_peer_cert, crl_check with the hashed CRL folder) to prove
// Erlang accepts Warren's certificates and CRLs and refuses the bad ones for the right reason.
const execFileAsync = promisify(execFile);
const day = 86_400_000;
let dir: Awaited<ReturnType<typeof temporaryDir>>;
let foreignDir: Awaited<ReturnType<typeof temporaryDir>>;
let ca: CertificateAuthority;
let server: ChildProcess;
let port = 0;
const lines: string[] = [];
const clients: Record<string, IssuedCertificate> = {};

beforeAll(async () => {
  // Erlang arrives with RabbitMQ 3.10's packages (`npm run setup`); say so instead of ENOENT.
  await execFileAsync('escript', [
    '-s',
    join(import.meta.dirname, 'erlang-tls-client.escript'),
  ]).catch((error: unknown) => {
    throw new Error('escript (Erlang/OTP) is missing: run "npm run setup" as root', {
      cause: error,
    });
  });
  dir = await temporaryDir('certs-erlang');
  foreignDir = await temporaryDir('certs-erlang-foreign');
  ca = await openCa({ dir: dir.path });
  const foreign = await openCa({ dir: foreignDir.path });
  const serverCert = await ca.issueServerCertificate({
    name: 'erl',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const subject = { commonName: 'svc-erlang', organization: 'Lab', country: 'US' };
  const now = Date.now();
  clients['good'] = await ca.issueClientCertificate({
    name: 'good',
    subject,
    spiffeId: 'spiffe://warren.test/ns/acme/sa/erl',
  });
  clients['ed25519'] = await ca.issueClientCertificate({
    name: 'ed25519',
    subject,
    keyAlgorithm: 'ed25519',
  });
  clients['rsa'] = await ca.issueClientCertificate({
    name: 'rsa',
    subject,
    keyAlgorithm: 'rsa-2048',
  });
  clients['revoked'] = await ca.issueClientCertificate({ name: 'revoked', subject });
  clients['expired'] = await ca.issueClientCertificate({
    name: 'expired',
    subject,
    notBefore: new Date(now - 9 * day),
    notAfter: new Date(now - day),
  });
  clients['notYetValid'] = await ca.issueClientCertificate({
    name: 'not-yet-valid',
    subject,
    notBefore: new Date(now + day),
    notAfter: new Date(now + 9 * day),
  });
  clients['wrongEku'] = await ca.issueClientCertificate({
    name: 'wrong-eku',
    subject,
    extendedKeyUsage: 'serverAuth',
  });
  clients['foreign'] = await foreign.issueClientCertificate({ name: 'foreign', subject });
  await ca.revoke('revoked');

  const script = join(import.meta.dirname, 'erlang-tls-server.escript');
  const args = [
    script,
    serverCert.chainPath,
    serverCert.keyPath,
    ca.trustBundlePath,
    ca.crlPaths().hashedDir,
  ];
  server = spawn('escript', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  server.stdout?.on('data', (chunk: Buffer) =>
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)),
  );
  const portLine = await waitFor(async () => lines.find((line) => line.startsWith('port ')), {
    what: 'the Erlang TLS server to listen',
    deadlineMs: 20_000,
    intervalMs: 50,
  });
  port = Number(portLine.slice('port '.length));
});

afterAll(async () => {
  server?.kill();
  await dir?.remove();
  await foreignDir?.remove();
});

/** Connects with the client certificate and returns the server's verdict line. */
async function verdictFor(client: IssuedCertificate): Promise<string> {
  const seen = lines.length;
  const options = await ca.nodeTlsOptions(client);
  await new Promise<void>((resolve) => {
    const socket = tls.connect({ ...options, host: '127.0.0.1', port, servername: 'localhost' });
    socket.on('data', () => socket.end());
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
  });
  return waitFor(async () => lines.slice(seen).find((line) => /^(accepted|refused)/.test(line)), {
    what: 'the Erlang TLS server verdict',
    deadlineMs: 10_000,
    intervalMs: 20,
  });
}

describe('Erlang/OTP ssl (RabbitMQ TLS listener settings)', () => {
  // OTP reports a not-yet-valid certificate with the same alert as an expired one, and a
  // missing clientAuth EKU as a plain handshake failure.
  it.each([
    ['an ECDSA client certificate with a SPIFFE ID', 'accepted', 'good'],
    ['an RSA client certificate from the ECDSA CA', 'accepted', 'rsa'],
    ['an Ed25519 client certificate (TLS 1.3)', 'accepted', 'ed25519'],
    ['a revoked client certificate', 'refused certificate_revoked', 'revoked'],
    ['an expired client certificate', 'refused certificate_expired', 'expired'],
    ['a not-yet-valid client certificate', 'refused certificate_expired', 'notYetValid'],
    ['a serverAuth-only client certificate', 'refused handshake_failure', 'wrongEku'],
    ['a client certificate of a foreign CA', 'refused unknown_ca', 'foreign'],
  ])('%s gets "%s"', async (_, verdict, key) => {
    expect(await verdictFor(clients[key] as IssuedCertificate)).toBe(verdict);
  });

  it('the server certificate chain Erlang presents is one Node accepts for localhost', async () => {
    const options = await ca.nodeTlsOptions(clients['good'] as IssuedCertificate);
    const authorized = await new Promise<boolean>((resolve) => {
      const socket = tls.connect({ ...options, host: '127.0.0.1', port, servername: 'localhost' });
      socket.on('secureConnect', () => {
        resolve(socket.authorized);
        socket.end();
      });
      socket.on('error', () => resolve(false));
    });
    expect(authorized).toBe(true);
    expect(await readFile(ca.crlPaths().bundle, 'utf8')).toContain('BEGIN X509 CRL');
  });
});

describe('Erlang/OTP ssl as a client (the broker calling an HTTPS auth service)', () => {
  /** Serves `cert` over TLS on a loopback port and lets the escript client connect to it. */
  async function erlangClientVerdict(cert: IssuedCertificate, hostName: string): Promise<string> {
    const options = await ca.nodeTlsOptions(cert);
    const httpsLike = tls.createServer({ key: options.key, cert: options.cert }, (socket) =>
      socket.end(),
    );
    await new Promise<void>((resolve) => httpsLike.listen(0, '127.0.0.1', resolve));
    try {
      const script = join(import.meta.dirname, 'erlang-tls-client.escript');
      const address = httpsLike.address() as { port: number };
      const { stdout } = await execFileAsync('escript', [
        script,
        String(address.port),
        ca.trustBundlePath,
        hostName,
      ]);
      return stdout.split('\n').find((line) => /^(verified|rejected)/.test(line)) ?? stdout;
    } finally {
      await new Promise((resolve) => httpsLike.close(resolve));
    }
  }

  it.each([
    ['localhost (its DNS SAN)', 'verified', 'localhost'],
    ['auth.other.test', 'rejected handshake_failure', 'auth.other.test'],
  ])(
    'a Warren server certificate for localhost checked as %s gives "%s"',
    async (_, verdict, hostName) => {
      const serverCert = await ca.issueServerCertificate({
        name: 'auth-service',
        dnsNames: ['localhost'],
      });
      expect(await erlangClientVerdict(serverCert, hostName)).toBe(verdict);
    },
  );
});
