import * as x509 from './x509.js';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CaLevel } from './authority.js';
import { addDays } from './authority.js';
import { crlNumberExtension } from './extensions.js';
import type { KeyAlgorithm } from './keys.js';
import { signingParams } from './keys.js';
import type { RevocationReason } from './state.js';
import { writeFileAtomic } from './state.js';

/** How long a CRL stays valid (nextUpdate − thisUpdate), in days. OpenSSL rejects stale CRLs. */
export const crlValidityDays = 30;

/** Opening a CA re-signs its CRLs when fewer than this many days remain before nextUpdate. */
export const crlRefreshBeforeDays = 10;

/** One revoked serial on a CRL. */
export interface CrlRevocation {
  serialHex: string;
  at: Date;
  reason: RevocationReason;
}

/** Signs a CRL for one CA level and returns it as PEM with the `X509 CRL` label OpenSSL wants. */
export async function buildCrlPem(params: {
  issuer: CaLevel;
  algorithm: KeyAlgorithm;
  crlNumber: number;
  revoked: readonly CrlRevocation[];
  now: Date;
}): Promise<string> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: params.issuer.certificate.subjectName,
    thisUpdate: params.now,
    nextUpdate: addDays(params.now, crlValidityDays),
    signingKey: params.issuer.key,
    signingAlgorithm: signingParams(params.algorithm),
    // RFC 5280 5.2.1 and 5.2.3: conforming CRLs carry the AKI and a cRLNumber.
    extensions: [
      new x509.AuthorityKeyIdentifierExtension(params.issuer.keyId),
      crlNumberExtension(params.crlNumber),
    ],
    entries: params.revoked.map((entry) => ({
      serialNumber: entry.serialHex,
      revocationDate: entry.at,
      // RFC 5280 5.3.1: the reason code `unspecified` should be left out rather than written.
      ...(entry.reason === 'unspecified' ? {} : { reason: x509.X509CrlReason[entry.reason] }),
    })),
  });
  return `${x509.PemConverter.encode(crl.rawData, 'X509 CRL').trim()}\n`;
}

const execFileAsync = promisify(execFile);

/**
 * Writes `<hash>.r<n>` copies of the CRLs into `dir`, the layout OpenSSL's `-CRLpath` / `c_rehash`
 * and Erlang's `ssl_crl_hash_dir` (RabbitMQ `crl_cache`) read. The hash is OpenSSL's issuer-name
 * hash, taken from `openssl crl -hash` so it matches byte for byte.
 */
export async function writeHashedCrlDir(dir: string, crlFiles: readonly string[]): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (const entry of await readdir(dir)) {
    if (/^[0-9a-f]{8}\.r\d+$/.test(entry)) await rm(join(dir, entry));
  }
  const used = new Map<string, number>();
  for (const file of crlFiles) {
    const hash = await issuerHash(file);
    const index = used.get(hash) ?? 0;
    used.set(hash, index + 1);
    await writeFileAtomic(join(dir, `${hash}.r${index}`), await readFile(file, 'utf8'), 0o644);
  }
}

async function issuerHash(crlFile: string): Promise<string> {
  const { stdout } = await execFileAsync('openssl', ['crl', '-hash', '-noout', '-in', crlFile]);
  const hash = stdout.trim().split('\n')[0]?.trim() ?? '';
  if (!/^[0-9a-f]{8}$/.test(hash)) throw new Error(`openssl crl -hash gave "${hash}"`);
  return hash;
}

/** True when the CRL file is missing, unreadable or due for re-signing at `now`. */
export async function crlNeedsRefresh(path: string, now: Date): Promise<boolean> {
  try {
    const crl = new x509.X509Crl(await readFile(path, 'utf8'));
    const nextUpdate = crl.nextUpdate;
    return nextUpdate === undefined || nextUpdate < addDays(now, crlRefreshBeforeDays);
  } catch {
    return true;
  }
}
