import * as x509 from './x509.js';
import type { CryptoKey } from './keys.js';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, WarrenError } from '../lib/errors.js';
import { caExtensions } from './extensions.js';
import type { KeyAlgorithm } from './keys.js';
import { generateKeyPair, privateKeyFromPem, privateKeyToPem, signingParams } from './keys.js';
import { buildSubjectName } from './names.js';
import type { GenerationRecord } from './state.js';
import { writeFileAtomic } from './state.js';

/** A loaded CA level: its certificate and the private key that signs with it. */
export interface CaLevel {
  certificate: x509.X509Certificate;
  key: CryptoKey;
  /** Subject key identifier, copied into the AKI of everything this level signs. */
  keyId: string;
}

/** Both levels of one generation. */
export interface CaGeneration {
  record: GenerationRecord;
  root: CaLevel;
  intermediate: CaLevel;
}

/** Files of one generation, under `<dir>/gen-<n>/`. */
export function generationPaths(dir: string, generation: number) {
  const base = join(dir, `gen-${generation}`);
  return {
    dir: base,
    rootCert: join(base, 'root.pem'),
    rootKey: join(base, 'root.key'),
    rootCrl: join(base, 'root.crl.pem'),
    intermediateCert: join(base, 'intermediate.pem'),
    intermediateKey: join(base, 'intermediate.key'),
    intermediateCrl: join(base, 'intermediate.crl.pem'),
  };
}

/** Lifetimes of the CA levels, in days. Leaves default to far less (see issue options). */
export const caValidityDays = { root: 3650, intermediate: 1825 } as const;

/** Random positive 128-bit serial (RFC 5280 4.1.2.2: positive, at most 20 octets, unique). */
export function newSerialHex(): string {
  const bytes = randomBytes(16);
  // Clear the sign bit and keep the first octet non-zero, so DER keeps all 16 octets.
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40;
  return bytes.toString('hex');
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}

/** Creates the root and intermediate of a new generation and writes them (keys 0600). */
export async function createGeneration(params: {
  dir: string;
  generation: number;
  algorithm: KeyAlgorithm;
  trustDomain: string;
  now: Date;
}): Promise<CaGeneration> {
  const { dir, generation, algorithm, trustDomain, now } = params;
  const paths = generationPaths(dir, generation);
  const notBefore = addDays(now, -1);
  const signingAlgorithm = signingParams(algorithm);

  const rootKeys = await generateKeyPair(algorithm);
  const rootName = buildSubjectName({
    organization: 'Warren',
    organizationalUnit: trustDomain,
    commonName: `Warren Root CA G${generation}`,
  });
  const rootCertificate = await x509.X509CertificateGenerator.create({
    serialNumber: newSerialHex(),
    subject: rootName,
    issuer: rootName,
    notBefore,
    notAfter: addDays(now, caValidityDays.root),
    publicKey: rootKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm,
    extensions: await caExtensions({ subjectKey: rootKeys.publicKey, pathLength: 1 }),
  });
  const root = levelOf(rootCertificate, rootKeys.privateKey);

  const intermediateKeys = await generateKeyPair(algorithm);
  const intermediateCertificate = await x509.X509CertificateGenerator.create({
    serialNumber: newSerialHex(),
    subject: buildSubjectName({
      organization: 'Warren',
      organizationalUnit: trustDomain,
      commonName: `Warren Intermediate CA G${generation}`,
    }),
    issuer: rootCertificate.subjectName,
    notBefore,
    notAfter: addDays(now, caValidityDays.intermediate),
    publicKey: intermediateKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm,
    extensions: await caExtensions({
      subjectKey: intermediateKeys.publicKey,
      issuerKeyId: root.keyId,
      pathLength: 0,
    }),
  });
  const intermediate = levelOf(intermediateCertificate, intermediateKeys.privateKey);

  await writeFileAtomic(paths.rootKey, await privateKeyToPem(rootKeys.privateKey), 0o600);
  await writeFileAtomic(paths.rootCert, certificatePem(rootCertificate), 0o644);
  await writeFileAtomic(
    paths.intermediateKey,
    await privateKeyToPem(intermediateKeys.privateKey),
    0o600,
  );
  await writeFileAtomic(paths.intermediateCert, certificatePem(intermediateCertificate), 0o644);

  const record: GenerationRecord = {
    generation,
    status: 'active',
    createdAt: now.toISOString(),
    rootSerialHex: rootCertificate.serialNumber,
    intermediateSerialHex: intermediateCertificate.serialNumber,
    rootCrlNumber: 0,
    intermediateCrlNumber: 0,
  };
  return { record, root, intermediate };
}

/** Loads a generation's certificates and keys from disk. */
export async function loadGeneration(
  dir: string,
  record: GenerationRecord,
  algorithm: KeyAlgorithm,
): Promise<CaGeneration> {
  const paths = generationPaths(dir, record.generation);
  try {
    const root = levelOf(
      new x509.X509Certificate(await readFile(paths.rootCert, 'utf8')),
      await privateKeyFromPem(await readFile(paths.rootKey, 'utf8'), algorithm),
    );
    const intermediate = levelOf(
      new x509.X509Certificate(await readFile(paths.intermediateCert, 'utf8')),
      await privateKeyFromPem(await readFile(paths.intermediateKey, 'utf8'), algorithm),
    );
    return { record, root, intermediate };
  } catch (error) {
    throw new WarrenError(
      ErrorCode.CaState,
      `CA generation ${record.generation} in ${paths.dir} cannot be loaded; its files are ` +
        'missing or damaged (move the CA folder away and run "npm run certs -- init")',
      { cause: error },
    );
  }
}

function levelOf(certificate: x509.X509Certificate, key: CryptoKey): CaLevel {
  const ski = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new WarrenError(ErrorCode.CaState, 'CA certificate without a subject key id');
  return { certificate, key, keyId: ski.keyId };
}

/** PEM of a certificate with a trailing newline, so files concatenate cleanly. */
export function certificatePem(certificate: x509.X509Certificate): string {
  return `${certificate.toString('pem').trim()}\n`;
}
