import { X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isWarrenError } from '../../lib/errors.js';
import type { CertificateAuthority, IssuedCertificate } from '../index.js';
import { openCa } from '../index.js';
import { opensslVerify, temporaryDir } from './support.js';

let dir: Awaited<ReturnType<typeof temporaryDir>>;
let ca: CertificateAuthority;
let server: IssuedCertificate;
let workload: IssuedCertificate;
let hostClient: IssuedCertificate;

beforeAll(async () => {
  dir = await temporaryDir('certs-issue');
  ca = await openCa({ dir: dir.path });
  server = await ca.issueServerCertificate({
    name: 'broker-3.10',
    dnsNames: ['localhost', 'broker.warren.test'],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  workload = await ca.issueClientCertificate({
    name: 'acme-orders',
    subject: {
      commonName: 'svc-orders',
      organization: 'Lab',
      organizationalUnit: 'acme',
      country: 'US',
    },
    spiffeId: { namespace: 'acme', serviceAccount: 'orders' },
  });
  hostClient = await ca.issueClientCertificate({
    name: 'host-client',
    subject: { commonName: 'host-client' },
    dnsNames: ['client.warren.test'],
    ipAddresses: ['127.0.0.1'],
  });
});

afterAll(async () => dir.remove());

describe('issued certificates', () => {
  it.each([
    ['a server certificate', () => server, 'sslserver'],
    ['a workload client certificate with DN and SPIFFE ID', () => workload, 'sslclient'],
    ['a client certificate with DNS and IP SANs', () => hostClient, 'sslclient'],
  ] as const)('%s verifies with openssl -x509_strict for its purpose', async (_, cert, purpose) => {
    const plain = await opensslVerify({ cert: cert(), caFile: cert().trustBundlePath, purpose });
    expect(plain.output).toContain(': OK');
    const withCrls = await opensslVerify({
      cert: cert(),
      caFile: ca.trustRootsPath,
      purpose,
      crlFile: ca.crlPaths().bundle,
    });
    expect(withCrls.ok, withCrls.output).toBe(true);
  });

  it('a server certificate fails verification for client use and the reverse', async () => {
    const asClient = await opensslVerify({
      cert: server,
      caFile: ca.trustBundlePath,
      purpose: 'sslclient',
    });
    const asServer = await opensslVerify({
      cert: workload,
      caFile: ca.trustBundlePath,
      purpose: 'sslserver',
    });
    expect([asClient.ok, asServer.ok]).toEqual([false, false]);
  });

  it('a workload certificate carries the DN, the SPIFFE URI SAN and the clientAuth EKU', async () => {
    const certificate = new X509Certificate(await readFile(workload.certPath));
    expect(certificate.subject.split('\n')).toEqual(['C=US', 'O=Lab', 'OU=acme', 'CN=svc-orders']);
    expect(certificate.subjectAltName).toBe('URI:spiffe://warren.test/ns/acme/sa/orders');
    expect(certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(certificate.ca).toBe(false);
    expect(workload.sans.uri).toEqual(['spiffe://warren.test/ns/acme/sa/orders']);
  });

  it('a server certificate carries DNS and IP SANs and the serverAuth EKU', async () => {
    const certificate = new X509Certificate(await readFile(server.certPath));
    expect(certificate.checkHost('broker.warren.test')).toBe('broker.warren.test');
    expect(certificate.checkIP('::1')).toBe('::1');
    expect(certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(server.sans).toEqual({
      dns: ['localhost', 'broker.warren.test'],
      ip: ['127.0.0.1', '::1'],
      uri: [],
    });
  });

  it('the chain file holds the leaf then its issuing intermediate', async () => {
    const chain = (await readFile(workload.chainPath, 'utf8')).match(
      /-----BEGIN CERTIFICATE-----/g,
    );
    const [leaf, intermediate] = (await readFile(workload.chainPath, 'utf8'))
      .split(/(?<=-----END CERTIFICATE-----\n)/)
      .map((pem) => new X509Certificate(pem));
    expect(chain).toHaveLength(2);
    expect(leaf?.serialNumber.toLowerCase()).toBe(workload.serialHex);
    expect(leaf && intermediate && leaf.checkIssued(intermediate)).toBe(true);
  });

  it('private keys are written with mode 0600, certificates readable', async () => {
    const modes = await Promise.all(
      [
        workload.keyPath,
        server.keyPath,
        join(dir.path, 'gen-1', 'root.key'),
        join(dir.path, 'gen-1', 'intermediate.key'),
      ].map(async (path) => (await stat(path)).mode & 0o777),
    );
    expect(modes).toEqual([0o600, 0o600, 0o600, 0o600]);
    expect((await stat(workload.certPath)).mode & 0o777).toBe(0o644);
  });

  it('the fingerprint matches the one Node computes', async () => {
    const certificate = new X509Certificate(await readFile(server.certPath));
    expect(server.fingerprintSha256).toBe(certificate.fingerprint256);
  });

  it('issuing a name again replaces its files and keeps the old one in the inventory', async () => {
    const first = await ca.issueClientCertificate({
      name: 'reissued',
      subject: { commonName: 'r' },
    });
    const second = await ca.issueClientCertificate({
      name: 'reissued',
      subject: { commonName: 'r' },
    });
    expect(second.serialHex).not.toBe(first.serialHex);
    expect((await ca.find('reissued'))?.serialHex).toBe(second.serialHex);
    const rows = (await ca.inventory()).filter((entry) => entry.name === 'reissued');
    expect(rows.map((row) => [row.serialHex, row.current])).toEqual([
      [first.serialHex, false],
      [second.serialHex, true],
    ]);
  });

  it('opening the folder again loads the same CA instead of creating one', async () => {
    const reopened = await openCa({ dir: dir.path, algorithm: 'rsa-2048' });
    expect(reopened.algorithm).toBe('ecdsa-p256');
    expect(await readFile(reopened.trustBundlePath, 'utf8')).toBe(
      await readFile(ca.trustBundlePath, 'utf8'),
    );
    expect((await reopened.find('acme-orders'))?.serialHex).toBe(workload.serialHex);
  });

  it.each([
    ['an empty name', { name: '', subject: { commonName: 'x' } }, 'name'],
    ['a name with a slash', { name: '../x', subject: { commonName: 'x' } }, 'name'],
    ['no CN', { name: 'x', subject: { commonName: '' } }, 'subject.commonName'],
    [
      'a three-letter country',
      { name: 'x', subject: { commonName: 'x', country: 'USA' } },
      'subject.country',
    ],
    [
      'a bad IP address',
      { name: 'x', subject: { commonName: 'x' }, ipAddresses: ['1.2.3'] },
      'ipAddresses',
    ],
    ['a bad DNS name', { name: 'x', subject: { commonName: 'x' }, dnsNames: ['a b'] }, 'dnsNames'],
    ['a relative URI', { name: 'x', subject: { commonName: 'x' }, uris: ['no-scheme'] }, 'uris'],
    [
      'a bad SPIFFE ID',
      { name: 'x', subject: { commonName: 'x' }, spiffeId: 'http://x' },
      'spiffeId',
    ],
    [
      'notAfter before notBefore',
      {
        name: 'x',
        subject: { commonName: 'x' },
        notBefore: new Date(2030, 1),
        notAfter: new Date(2029, 1),
      },
      'notAfter',
    ],
    [
      'zero validity days',
      { name: 'x', subject: { commonName: 'x' }, validityDays: 0 },
      'validityDays',
    ],
  ])('a request with %s is refused naming the field', async (_, request, field) => {
    const error: unknown = await ca
      .issueClientCertificate(request)
      .catch((caught: unknown) => caught);
    expect(isWarrenError(error, ErrorCode.BadOption)).toBe(true);
    expect((error as Error).message.startsWith(`${field}:`)).toBe(true);
  });

  it('a damaged state file is reported as CA state trouble, not a JSON error', async () => {
    const broken = await temporaryDir('certs-broken');
    try {
      await writeFile(join(broken.path, 'ca.json'), '{ not json');
      const error: unknown = await openCa({ dir: broken.path }).catch((caught: unknown) => caught);
      expect(isWarrenError(error, ErrorCode.CaState)).toBe(true);
    } finally {
      await broken.remove();
    }
  });

  it('a server certificate without any DNS name or IP is refused', async () => {
    const error: unknown = await ca
      .issueServerCertificate({ name: 'nameless' })
      .catch((caught: unknown) => caught);
    expect(isWarrenError(error, ErrorCode.BadOption)).toBe(true);
  });
});

describe('several users of one CA folder', () => {
  it('concurrent opens of an empty folder create one CA, and concurrent issues keep every record', async () => {
    const shared = await temporaryDir('certs-shared');
    try {
      const [first, second] = await Promise.all([
        openCa({ dir: shared.path }),
        openCa({ dir: shared.path }),
      ]);
      const issued = await Promise.all([
        first.issueClientCertificate({ name: 'from-first', subject: { commonName: 'a' } }),
        second.issueClientCertificate({ name: 'from-second', subject: { commonName: 'b' } }),
        first.issueClientCertificate({ name: 'from-first-2', subject: { commonName: 'c' } }),
      ]);
      const names = (await second.inventory())
        .filter((row) => row.kind === 'client')
        .map((row) => row.name);
      expect(names.sort()).toEqual(['from-first', 'from-first-2', 'from-second']);
      const results = await Promise.all(
        issued.map((cert) =>
          opensslVerify({ cert, caFile: second.trustBundlePath, purpose: 'sslclient' }),
        ),
      );
      expect(results.map((result) => result.ok)).toEqual([true, true, true]);
    } finally {
      await shared.remove();
    }
  });
});
