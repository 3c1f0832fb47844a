import { readFile } from 'node:fs/promises';
import type { CaGeneration } from './authority.js';
import { certificatePem, generationPaths } from './authority.js';
import type { CrlRevocation } from './crl.js';
import { buildCrlPem, crlNeedsRefresh, writeHashedCrlDir } from './crl.js';
import type { CrlPaths } from './requests.js';
import type { CaState } from './state.js';
import { writeFileAtomic, writeState } from './state.js';

/** What {@link publishTrust} writes from. */
export interface PublishParams {
  dir: string;
  state: CaState;
  /** Trusted (non-retired) generations, oldest first. */
  generations: readonly CaGeneration[];
  crl: CrlPaths;
  trustBundlePath: string;
  trustRootsPath: string;
  now: Date;
}

/**
 * Rewrites everything a peer trusts: the root and root+intermediate bundles, a fresh CRL for
 * every CA level of every trusted generation (each with the next cRLNumber), the concatenated
 * CRL bundle, the hashed CRL folder, and finally the state file (it holds the cRLNumbers).
 */
export async function publishTrust(params: PublishParams): Promise<void> {
  let roots = '';
  let bundle = '';
  for (const generation of params.generations) {
    const rootPem = certificatePem(generation.root.certificate);
    roots += rootPem;
    bundle += rootPem + certificatePem(generation.intermediate.certificate);
    await writeGenerationCrls(params, generation);
  }
  await writeFileAtomic(params.trustRootsPath, roots, 0o644);
  await writeFileAtomic(params.trustBundlePath, bundle, 0o644);
  let crlBundle = '';
  for (const file of params.crl.files) crlBundle += await readFile(file, 'utf8');
  await writeFileAtomic(params.crl.bundle, crlBundle, 0o644);
  await writeHashedCrlDir(params.crl.hashedDir, params.crl.files);
  await writeState(params.dir, params.state);
}

/** True when any CRL file is missing or within its refresh window (see crl.ts). */
export async function crlsNeedRefresh(crl: CrlPaths, now: Date): Promise<boolean> {
  for (const file of crl.files) {
    if (await crlNeedsRefresh(file, now)) return true;
  }
  return false;
}

async function writeGenerationCrls(params: PublishParams, generation: CaGeneration): Promise<void> {
  const { record } = generation;
  const { now, state } = params;
  const paths = generationPaths(params.dir, record.generation);
  const leaves: CrlRevocation[] = state.issued
    .filter((entry) => entry.generation === record.generation && entry.revoked)
    .map((entry) => ({
      serialHex: entry.serialHex,
      at: new Date(entry.revoked?.at ?? now),
      reason: entry.revoked?.reason ?? 'unspecified',
    }));
  const revoked = record.intermediateRevoked;
  const intermediates: CrlRevocation[] = revoked
    ? [
        {
          serialHex: record.intermediateSerialHex,
          at: new Date(revoked.at),
          reason: revoked.reason,
        },
      ]
    : [];
  record.rootCrlNumber += 1;
  record.intermediateCrlNumber += 1;
  const common = { algorithm: state.algorithm, now };
  const rootCrl = await buildCrlPem({
    ...common,
    issuer: generation.root,
    crlNumber: record.rootCrlNumber,
    revoked: intermediates,
  });
  const intermediateCrl = await buildCrlPem({
    ...common,
    issuer: generation.intermediate,
    crlNumber: record.intermediateCrlNumber,
    revoked: leaves,
  });
  await writeFileAtomic(paths.rootCrl, rootCrl, 0o644);
  await writeFileAtomic(paths.intermediateCrl, intermediateCrl, 0o644);
}
