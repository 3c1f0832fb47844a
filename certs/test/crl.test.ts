import { X509Certificate } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isWarrenError } from '../../lib/errors.js';
import type { CertificateAuthority } from '../index.js';
import { openCa } from '../index.js';
import { openssl, opensslVerify, temporaryDir, X509VerifyError } from './support.js';

let dir: Awaited<ReturnType<typeof temporaryDir>>;
let ca: CertificateAuthority;

beforeAll(async () => {
  dir = await temporaryDir('certs-crl');
  ca = await openCa({ dir: dir.path });
});

afterAll(async () => dir.remove());

async function crlNumber(path: string): Promise<number> {
  const output = await openssl('crl', '-in', path, '-noout', '-crlnumber');
  return Number.parseInt(output.trim().replace(/^crlNumber=(0x)?/, ''), 16);
}

describe('certificate revocation lists', () => {
  it('every CA level has a CRL labelled X509 CRL that OpenSSL reads', async () => {
    const paths = ca.crlPaths();
    for (const path of [paths.root, paths.intermediate]) {
      const pem = await readFile(path, 'utf8');
      expect(pem.startsWith('-----BEGIN X509 CRL-----\n')).toBe(true);
      expect(pem.endsWith('-----END X509 CRL-----\n')).toBe(true);
    }
    const bundle = await readFile(paths.bundle, 'utf8');
    expect(bundle.match(/BEGIN X509 CRL/g)).toHaveLength(2);
    const issuer = await openssl('crl', '-in', paths.root, '-noout', '-issuer');
    expect(issuer).toContain('Warren Root CA G1');
  });

  it('the cRLNumber increases every time the CRLs are rewritten', async () => {
    const { root, intermediate } = ca.crlPaths();
    const before = [await crlNumber(root), await crlNumber(intermediate)];
    await ca.refreshCrls();
    const after = [await crlNumber(root), await crlNumber(intermediate)];
    expect(after[0]).toBeGreaterThan(before[0] ?? Infinity);
    expect(after[1]).toBeGreaterThan(before[1] ?? Infinity);
  });

  it('revoking by serial, in any case and with colons, lists the serial on the intermediate CRL', async () => {
    const cert = await ca.issueClientCertificate({
      name: 'by-serial',
      subject: { commonName: 'x' },
    });
    const colonSerial = (cert.serialHex.toUpperCase().match(/../g) ?? []).join(':');
    await ca.revoke(colonSerial, 'superseded');
    const text = await openssl('crl', '-in', ca.crlPaths().intermediate, '-noout', '-text');
    expect(text).toContain(`Serial Number: ${cert.serialHex.toUpperCase()}`);
    expect(text).toContain('Superseded');
    const result = await opensslVerify({
      cert,
      caFile: ca.trustBundlePath,
      purpose: 'sslclient',
      crlFile: ca.crlPaths().bundle,
    });
    expect(result.errorCode).toBe(X509VerifyError.certRevoked);
  });

  it('revoking by name revokes only the current certificate of that name', async () => {
    const old = await ca.issueClientCertificate({ name: 'by-name', subject: { commonName: 'y' } });
    const current = await ca.issueClientCertificate({
      name: 'by-name',
      subject: { commonName: 'y' },
    });
    await ca.revoke('by-name');
    const rows = (await ca.inventory()).filter((row) => row.name === 'by-name');
    expect(rows.map((row) => [row.serialHex, row.revoked])).toEqual([
      [old.serialHex, false],
      [current.serialHex, true],
    ]);
  });

  it('revoking the intermediate lists it on the root CRL and fails every leaf at depth 1', async () => {
    const other = await temporaryDir('certs-crl-intermediate');
    try {
      const ownCa = await openCa({ dir: other.path });
      const leaf = await ownCa.issueServerCertificate({ name: 'srv', dnsNames: ['localhost'] });
      const intermediate = new X509Certificate(
        await readFile(join(other.path, 'gen-1', 'intermediate.pem')),
      );
      await ownCa.revoke(intermediate.serialNumber, 'cACompromise');
      const result = await opensslVerify({
        cert: leaf,
        caFile: ownCa.trustRootsPath,
        purpose: 'sslserver',
        crlFile: ownCa.crlPaths().bundle,
      });
      expect(result.errorCode).toBe(X509VerifyError.certRevoked);
      expect(result.output).toContain('at 1 depth');
    } finally {
      await other.remove();
    }
  });

  it('revoking something unknown is refused', async () => {
    const error: unknown = await ca.revoke('no-such-cert').catch((caught: unknown) => caught);
    expect(isWarrenError(error, ErrorCode.BadOption)).toBe(true);
  });

  it('the hashed folder names each CRL by the issuer hash openssl computes', async () => {
    const { hashedDir, root, intermediate } = ca.crlPaths();
    const expected = await Promise.all(
      [root, intermediate].map(
        async (path) => `${(await openssl('crl', '-hash', '-noout', '-in', path)).trim()}.r0`,
      ),
    );
    expect((await readdir(hashedDir)).sort()).toEqual(expected.sort());
  });
});

describe('CRL freshness', () => {
  it('opening a CA whose CRLs are near their nextUpdate re-signs them', async () => {
    const own = await temporaryDir('certs-crl-refresh');
    try {
      let clock = new Date('2027-03-01T00:00:00Z');
      await openCa({ dir: own.path, now: () => clock });
      const { intermediate } = ca.crlPaths();
      const path = intermediate.replace(dir.path, own.path);
      const before = await crlNumber(path);
      clock = new Date('2027-03-10T00:00:00Z');
      await openCa({ dir: own.path, now: () => clock });
      expect(await crlNumber(path)).toBe(before);
      clock = new Date('2027-03-25T00:00:00Z');
      await openCa({ dir: own.path, now: () => clock });
      expect(await crlNumber(path)).toBe(before + 1);
      const nextUpdate = await openssl('crl', '-in', path, '-noout', '-nextupdate');
      expect(nextUpdate).toContain('Apr 24');
    } finally {
      await own.remove();
    }
  });
});
