import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ErrorCode, WarrenError } from '../lib/errors.js';
import type { KeyAlgorithm } from './keys.js';

/** Why a certificate was revoked (RFC 5280 5.3.1 reason codes, by name). */
export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'privilegeWithdrawn';

/** A CA generation: one root and one intermediate, created together. */
export interface GenerationRecord {
  generation: number;
  /** `active` issues new certificates; `trusted` is still in the bundle; `retired` is not. */
  status: 'active' | 'trusted' | 'retired';
  createdAt: string;
  rootSerialHex: string;
  intermediateSerialHex: string;
  /** Last cRLNumber written for the root's CRL and the intermediate's CRL. */
  rootCrlNumber: number;
  intermediateCrlNumber: number;
  /** Set when the intermediate itself was revoked (it then appears on the root's CRL). */
  intermediateRevoked?: { at: string; reason: RevocationReason };
}

/** One certificate the CA issued; kept after replacement or revocation for the inventory. */
export interface IssuedRecord {
  name: string;
  serialHex: string;
  kind: 'server' | 'client';
  generation: number;
  issuedAt: string;
  /** False once the same name was issued again. */
  current: boolean;
  /** Issued already expired or not yet valid on purpose (negative tests): no expiry alarms. */
  deliberatelyInvalid: boolean;
  revoked?: { at: string; reason: RevocationReason };
}

/** Everything the CA remembers, in `<dir>/ca.json`. Keys and certificates live beside it. */
export interface CaState {
  format: 1;
  algorithm: KeyAlgorithm;
  trustDomain: string;
  generations: GenerationRecord[];
  issued: IssuedRecord[];
}

export const stateFileName = 'ca.json';

/** Reads ca.json, or undefined when the folder holds no CA yet. */
export async function readState(dir: string): Promise<CaState | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, stateFileName), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const broken = new WarrenError(
    ErrorCode.CaState,
    `${join(dir, stateFileName)} is not a Warren CA state file; move the folder away to start anew`,
  );
  let state: CaState;
  try {
    state = JSON.parse(text) as CaState;
  } catch {
    throw broken;
  }
  if (state.format !== 1 || !Array.isArray(state.generations) || !Array.isArray(state.issued)) {
    throw broken;
  }
  return state;
}

export async function writeState(dir: string, state: CaState): Promise<void> {
  await writeFileAtomic(join(dir, stateFileName), `${JSON.stringify(state, null, 2)}\n`, 0o644);
}

/**
 * Writes through a temporary file and a rename, so a reader (a broker reloading a CRL, a test)
 * never sees half a file. The mode is set before the rename: a key is never world-readable.
 */
export async function writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, content, { mode });
  await chmod(temporary, mode);
  await rename(temporary, path);
}
