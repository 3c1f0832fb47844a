import { randomUUID } from 'node:crypto';

import { ErrorCode, WarrenError } from '../../lib/errors.js';
import { signCompact, type JwsAlg } from './jws.js';
import type { IdpAlg, IdpKey, KeyStore } from './keys.js';

/** JWT claims; a claim set to `undefined` is left out of the token (to mint "missing" claims). */
export type Claims = Record<string, unknown>;

/** Options of `mint`. Times are NumericDate seconds since the epoch (RFC 7519 §2). */
export interface MintOptions {
  /** Which current key signs; default `ES256`. Ignored when `kid` is given. */
  alg?: IdpAlg;
  /** Sign with this key, in any state (a retired key still signs, for removal scenarios). */
  kid?: string;
  /** `exp` = `iat` + this; default 300 s. A claim `exp` wins over it. */
  expiresInSeconds?: number;
  /** `nbf`; default the `iat`. A claim `nbf` wins over it. */
  notBefore?: number;
  /** `iat`; default now (the IdP clock). A claim `iat` wins over it. */
  issuedAt?: number;
  /**
   * Merged over the default header `{ alg, kid, typ: 'JWT' }`; `undefined` removes a member.
   * Changing `alg` here changes only the header, never how the token is signed.
   */
  header?: Record<string, unknown>;
}

/** What a minter needs from the IdP it belongs to. */
export interface MintContext {
  store: KeyStore;
  issuer: string;
  audience: string;
  /** The IdP clock in ms since the epoch. */
  nowMs: () => number;
}

/** Default token lifetime: short-lived, as the demo setup's tokens are. */
export const defaultExpiresInSeconds = 300;

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

function pickKey(context: MintContext, options: MintOptions): IdpKey {
  if (options.kid === undefined) return context.store.current(options.alg ?? 'ES256');
  const key = context.store.find(options.kid);
  if (key === undefined) {
    throw new WarrenError(ErrorCode.BadOption, `mint: no IdP key with kid ${options.kid}`);
  }
  return key;
}

/** The claims a minted token carries: defaults (iss, aud, iat, nbf, exp, jti) under `claims`. */
export function defaultClaims(context: MintContext, claims: Claims, options: MintOptions): Claims {
  const iat = options.issuedAt ?? Math.floor(context.nowMs() / 1000);
  const defaults = {
    iss: context.issuer,
    aud: context.audience,
    iat,
    nbf: options.notBefore ?? iat,
    exp: iat + (options.expiresInSeconds ?? defaultExpiresInSeconds),
    jti: randomUUID(),
  };
  return withoutUndefined({ ...defaults, ...claims });
}

/** Mints a compact JWS signed by one of the IdP's keys. */
export function mintToken(context: MintContext, claims: Claims, options: MintOptions = {}): string {
  const key = pickKey(context, options);
  const header = withoutUndefined({ alg: key.alg, kid: key.kid, typ: 'JWT', ...options.header });
  return signCompact(header, defaultClaims(context, claims, options), key.alg, key.privateKey);
}

/** Options of `signRaw`. */
export interface SignRawOptions {
  /** The key; default the current key of `alg` (or ES256). */
  kid?: string;
  alg?: IdpAlg;
  /**
   * The algorithm actually used to sign, when it differs from the key's own (e.g. PS256 with the
   * RS256 key) to test that a verifier pins the alg per key. Default: the key's alg.
   */
  signAlg?: JwsAlg;
}

/**
 * Signs an exact header and payload (objects, or JSON texts kept byte for byte so duplicate
 * member names survive) with an IdP key. Nothing is added: the caller writes `alg` and `kid`.
 */
export function signRawToken(
  context: MintContext,
  header: object | string,
  payload: object | string,
  options: SignRawOptions = {},
): string {
  const key = pickKey(context, options);
  return signCompact(header, payload, options.signAlg ?? key.alg, key.privateKey);
}
