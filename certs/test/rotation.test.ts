import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isWarrenError } from '../../lib/errors.js';
import type { CertificateAuthority, IssuedCertificate } from '../index.js';
import { openCa } from '../index.js';
import { opensslVerify, temporaryDir, X509VerifyError } from './support.js';

let dir: Awaited<ReturnType<typeof temporaryDir>>;
let ca: CertificateAuthority;
let oldLeaf: IssuedCertificate;
let newLeaf: IssuedCertificate;

beforeAll(async () => {
  dir = await temporaryDir('certs-rotation');
  ca = await openCa({ dir: dir.path });
  oldLeaf = await ca.issueClientCertificate({ name: 'old', subject: { commonName: 'old' } });
  await ca.rotate();
  newLeaf = await ca.issueClientCertificate({ name: 'new', subject: { commonName: 'new' } });
});

afterAll(async () => dir.remove());

function verify(cert: IssuedCertificate) {
  return opensslVerify({
    cert,
    caFile: ca.trustBundlePath,
    purpose: 'sslclient',
    crlFile: ca.crlPaths().bundle,
  });
}

describe('CA rotation', () => {
  it('after rotation the new generation issues and both generations verify (overlap)', async () => {
    expect([oldLeaf.generation, newLeaf.generation, ca.activeGeneration]).toEqual([1, 2, 2]);
    const results = await Promise.all([verify(oldLeaf), verify(newLeaf)]);
    expect(results.map((result) => result.ok)).toEqual([true, true]);
    const bundle = await readFile(ca.trustBundlePath, 'utf8');
    expect(bundle.match(/BEGIN CERTIFICATE/g)).toHaveLength(4);
    expect(ca.crlPaths().intermediate).toContain('gen-2');
  });

  it('the active generation cannot be retired', async () => {
    const error: unknown = await ca.retire(2).catch((caught: unknown) => caught);
    expect(isWarrenError(error, ErrorCode.BadOption)).toBe(true);
  });

  it('after retiring generation 1 its leaves fail and the new ones still verify', async () => {
    await ca.retire(1);
    const [oldResult, newResult] = await Promise.all([verify(oldLeaf), verify(newLeaf)]);
    expect(oldResult.errorCode).toBe(X509VerifyError.unableToGetIssuerCertLocally);
    expect(newResult.ok, newResult.output).toBe(true);
    const rows = await ca.inventory();
    expect(rows.find((row) => row.name === 'old')?.trusted).toBe(false);
    expect(rows.find((row) => row.name === 'root-g1')?.trusted).toBe(false);
  });

  it('the rotation survives reopening the folder', async () => {
    const reopened = await openCa({ dir: dir.path });
    expect(reopened.activeGeneration).toBe(2);
    const again = await reopened.issueClientCertificate({
      name: 'again',
      subject: { commonName: 'a' },
    });
    expect(again.generation).toBe(2);
    expect((await verify(again)).ok).toBe(true);
  });
});
