import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

import { ErrorCode, WarrenError } from '../../lib/errors.js';

/** The algorithms the test IdP signs with; each has its own current key. */
export const idpAlgs = ['ES256', 'RS256', 'EdDSA'] as const;
export type IdpAlg = (typeof idpAlgs)[number];

/**
 * Where a key stands: `current` signs new tokens for its alg, `published` is still in the JWKS
 * (rotation overlap), `retired` is gone from the JWKS but can still sign on request, so scenarios
 * can present a token whose key was removed.
 */
export type KeyState = 'current' | 'published' | 'retired';

/** A public key as served in the JWKS (RFC 7517 §4), with `kid`, `alg` and `use`. */
export interface PublicJwk extends JsonWebKey {
  kid: string;
  alg: IdpAlg;
  use: 'sig';
}

/** One signing key; `privateKey` never leaves the harness. */
export interface IdpKey {
  kid: string;
  alg: IdpAlg;
  state: KeyState;
  createdAt: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: PublicJwk;
}

interface KeyRecord {
  kid: string;
  alg: IdpAlg;
  state: KeyState;
  createdAt: string;
}

interface KeysFile {
  version: 1;
  keys: KeyRecord[];
}

const keysFileName = 'keys.json';

/** RFC 7638 §3.2: only the required members, in lexicographic order. */
const thumbprintMembers: Record<string, string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
};

/** The RFC 7638 SHA-256 thumbprint of a public JWK, base64url; used as `kid`. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members = thumbprintMembers[jwk.kty ?? ''];
  if (members === undefined) throw new TypeError(`no thumbprint rule for kty ${jwk.kty}`);
  const canonical = `{${members.map((m) => `"${m}":${JSON.stringify(jwk[m])}`).join(',')}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

function generatePrivateKey(alg: IdpAlg): KeyObject {
  switch (alg) {
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    case 'EdDSA':
      return generateKeyPairSync('ed25519').privateKey;
  }
}

function describeKey(record: KeyRecord, privateKey: KeyObject): IdpKey {
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = jwkThumbprint(jwk);
  const publicJwk: PublicJwk = { ...jwk, kid, alg: record.alg, use: 'sig' };
  return { ...record, kid, privateKey, publicKey, publicJwk };
}

/**
 * The IdP's signing keys on disk: `keys.json` (kids, algs, states; no secrets) plus one PKCS#8
 * PEM per key, mode 0600, in a 0700 folder. Keys persist so that a backend configured once keeps
 * trusting the IdP across restarts; `kid` is the RFC 7638 thumbprint, so it is stable too.
 *
 * TODO(concurrency): two processes creating the same empty folder at once each write a key set
 * and the last `keys.json` wins; start one IdP per folder (tests use their own temp folders).
 */
export class KeyStore {
  private keys: IdpKey[] = [];
  private seenStamp = '';

  private constructor(readonly dir: string) {}

  /** Opens `dir`, creating it and one current key per alg where missing. */
  static open(dir: string): KeyStore {
    const store = new KeyStore(dir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (existsSync(store.keysFile)) store.load();
    store.ensureCurrentKeys();
    return store;
  }

  private get keysFile(): string {
    return join(this.dir, keysFileName);
  }

  private keyFile(kid: string): string {
    return join(this.dir, `${kid}.key.pem`);
  }

  /** Every key, newest last. */
  list(): readonly IdpKey[] {
    this.refreshIfChanged();
    return this.keys;
  }

  /** The key that signs new tokens for `alg`. */
  current(alg: IdpAlg): IdpKey {
    const key = this.list().find((k) => k.alg === alg && k.state === 'current');
    if (key === undefined) {
      throw new WarrenError(ErrorCode.IdpState, `no current ${alg} key in ${this.dir}`);
    }
    return key;
  }

  /** A key by `kid`, in any state, or undefined. */
  find(kid: string): IdpKey | undefined {
    return this.list().find((k) => k.kid === kid);
  }

  /** The JWKS the IdP serves: current and published keys, never retired ones. */
  jwks(): { keys: PublicJwk[] } {
    return {
      keys: this.list()
        .filter((k) => k.state !== 'retired')
        .map((k) => k.publicJwk),
    };
  }

  /** Makes a new current key for `alg`; the previous one stays published until retired. */
  rotate(alg: IdpAlg): IdpKey {
    this.refreshIfChanged();
    for (const key of this.keys) {
      if (key.alg === alg && key.state === 'current') key.state = 'published';
    }
    const key = this.addKey(alg);
    this.save();
    return key;
  }

  /** Removes `kid` from the JWKS. The current key of an alg cannot be retired: rotate first. */
  retire(kid: string): IdpKey {
    const key = this.find(kid);
    if (key === undefined) {
      throw new WarrenError(ErrorCode.IdpState, `no key with kid ${kid} in ${this.dir}`);
    }
    if (key.state === 'current') {
      throw new WarrenError(
        ErrorCode.IdpState,
        `kid ${kid} is the current ${key.alg} key; rotate ${key.alg} before retiring it`,
      );
    }
    key.state = 'retired';
    this.save();
    return key;
  }

  /**
   * Reloads when another process (e.g. `npm run idp -- rotate`) changed `keys.json`, so a
   * running `serve` publishes the rotation without a restart.
   */
  refreshIfChanged(): void {
    if (this.fileStamp() !== this.seenStamp) this.load();
  }

  /** mtime plus inode: a rename by another process changes the inode even within one tick. */
  private fileStamp(): string {
    const stat = statSync(this.keysFile, { throwIfNoEntry: false });
    return stat === undefined ? '' : `${stat.mtimeMs}:${stat.ino}`;
  }

  private ensureCurrentKeys(): void {
    const missing = idpAlgs.filter(
      (alg) => !this.keys.some((k) => k.alg === alg && k.state === 'current'),
    );
    if (missing.length === 0) return;
    for (const alg of missing) this.addKey(alg);
    this.save();
  }

  private addKey(alg: IdpAlg): IdpKey {
    const privateKey = generatePrivateKey(alg);
    const record = { kid: '', alg, state: 'current' as const, createdAt: new Date().toISOString() };
    const key = describeKey(record, privateKey);
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
    writeFileSync(this.keyFile(key.kid), pem, { mode: 0o600 });
    chmodSync(this.keyFile(key.kid), 0o600);
    this.keys.push(key);
    return key;
  }

  private load(): void {
    const file = this.parseKeysFile();
    this.keys = file.keys.map((record) => this.loadKey(record));
    this.seenStamp = this.fileStamp();
  }

  private parseKeysFile(): KeysFile {
    try {
      const parsed = JSON.parse(readFileSync(this.keysFile, 'utf8')) as KeysFile;
      if (parsed.version !== 1 || !Array.isArray(parsed.keys)) throw new Error('unknown layout');
      return parsed;
    } catch (error) {
      throw new WarrenError(
        ErrorCode.IdpState,
        `${this.keysFile} is unreadable; delete ${this.dir} to start with fresh keys ` +
          '(backends must then be pointed at the new JWKS)',
        { cause: error },
      );
    }
  }

  private loadKey(record: KeyRecord): IdpKey {
    const path = this.keyFile(record.kid);
    let key: IdpKey;
    try {
      // Private keys stay 0600 even if something loosened them since.
      chmodSync(path, 0o600);
      key = describeKey(record, createPrivateKey(readFileSync(path)));
    } catch (error) {
      throw new WarrenError(ErrorCode.IdpState, `key file for kid ${record.kid} is unreadable`, {
        cause: error,
      });
    }
    if (key.kid !== record.kid) {
      throw new WarrenError(
        ErrorCode.IdpState,
        `key file ${path} does not match kid ${record.kid}`,
      );
    }
    return key;
  }

  private save(): void {
    const file: KeysFile = {
      version: 1,
      keys: this.keys.map(({ kid, alg, state, createdAt }) => ({ kid, alg, state, createdAt })),
    };
    // Write then rename, so a concurrent reader never sees half a file.
    const temp = `${this.keysFile}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, this.keysFile);
    this.seenStamp = this.fileStamp();
  }
}
