import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateAuthority, IssuedCertificate } from '../index.js';
import { openCa } from '../index.js';
import { opensslVerify, temporaryDir, X509VerifyError } from './support.js';

const day = 86_400_000;
let dir: Awaited<ReturnType<typeof temporaryDir>>;
let foreignDir: Awaited<ReturnType<typeof temporaryDir>>;
let ca: CertificateAuthority;
const certs: Record<string, IssuedCertificate> = {};

beforeAll(async () => {
  dir = await temporaryDir('certs-negative');
  foreignDir = await temporaryDir('certs-foreign');
  ca = await openCa({ dir: dir.path });
  const foreign = await openCa({ dir: foreignDir.path });
  const subject = { commonName: 'svc-negative', organization: 'Lab' };
  const now = Date.now();
  certs['expired'] = await ca.issueClientCertificate({
    name: 'expired',
    subject,
    notBefore: new Date(now - 10 * day),
    notAfter: new Date(now - day),
  });
  certs['notYetValid'] = await ca.issueClientCertificate({
    name: 'not-yet-valid',
    subject,
    notBefore: new Date(now + day),
    notAfter: new Date(now + 10 * day),
  });
  certs['wrongEku'] = await ca.issueClientCertificate({
    name: 'wrong-eku',
    subject,
    extendedKeyUsage: 'serverAuth',
  });
  certs['revoked'] = await ca.issueClientCertificate({ name: 'revoked', subject });
  await ca.revoke('revoked', 'keyCompromise');
  certs['foreign'] = await foreign.issueClientCertificate({ name: 'foreign', subject });
  certs['valid'] = await ca.issueClientCertificate({ name: 'valid', subject });
});

afterAll(async () => {
  await dir.remove();
  await foreignDir.remove();
});

describe('deliberately bad client certificates', () => {
  it.each([
    ['an expired certificate', 'expired', X509VerifyError.certHasExpired],
    ['a not-yet-valid certificate', 'notYetValid', X509VerifyError.certNotYetValid],
    ['a serverAuth-only certificate', 'wrongEku', X509VerifyError.invalidPurpose],
    ['a revoked certificate', 'revoked', X509VerifyError.certRevoked],
    ['a certificate of a foreign CA', 'foreign', X509VerifyError.unableToGetIssuerCertLocally],
  ])('%s fails client verification for that reason', async (_, key, errorCode) => {
    const result = await opensslVerify({
      cert: certs[key] as IssuedCertificate,
      caFile: ca.trustBundlePath,
      purpose: 'sslclient',
      crlFile: ca.crlPaths().bundle,
    });
    expect(result.errorCode, result.output).toBe(errorCode);
  });

  it('the valid control certificate passes the same check', async () => {
    const result = await opensslVerify({
      cert: certs['valid'] as IssuedCertificate,
      caFile: ca.trustBundlePath,
      purpose: 'sslclient',
      crlFile: ca.crlPaths().bundle,
    });
    expect(result.ok, result.output).toBe(true);
  });

  it('a revoked certificate still verifies when CRLs are not checked', async () => {
    const result = await opensslVerify({
      cert: certs['revoked'] as IssuedCertificate,
      caFile: ca.trustBundlePath,
      purpose: 'sslclient',
    });
    expect(result.ok).toBe(true);
  });

  it('the inventory flags expired and not-yet-valid certificates as deliberate', async () => {
    const rows = await ca.inventory();
    const deliberate = rows.filter((row) => row.deliberatelyInvalid).map((row) => row.name);
    expect(deliberate.sort()).toEqual(['expired', 'not-yet-valid']);
    expect(rows.find((row) => row.name === 'revoked')?.revocationReason).toBe('keyCompromise');
  });
});
