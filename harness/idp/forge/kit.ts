import type { IdpMinter } from '../idp.js';
import type { IdpAlg } from '../keys.js';
import { base64url, encodeSegment, signCompact, type JwsAlg, type SigningSecret } from '../jws.js';
import type { Claims } from '../mint.js';
import type { HostedFile } from '../server.js';
import { createAttackerMaterial, type AttackerMaterial } from './attacker.js';

/** Families of forgery, for grouping scenarios. */
export type ForgeCategory =
  | 'alg-none'
  | 'signature'
  | 'key-confusion'
  | 'weak-hmac'
  | 'unknown-alg'
  | 'unknown-key'
  | 'embedded-key'
  | 'remote-key'
  | 'kid-injection'
  | 'tampering'
  | 'duplicate-keys'
  | 'parsing'
  | 'header'
  | 'ecdsa'
  | 'validity'
  | 'audience-issuer'
  | 'missing-claim';

/** Which check of a correct verifier stops the token. */
export type CaughtBy = 'algorithm' | 'signature' | 'key-lookup' | 'header' | 'claims' | 'format';

/** One forged (or control) token recipe. */
export interface ForgeCase {
  /** Stable id, `forge.<family>.<variant>`; scenario ids derive from it. */
  id: string;
  category: ForgeCategory;
  /** One line: what the token is. */
  title: string;
  /** The clause or advisory it encodes (RFC 7515/7517/7518/7519/7797/8725, CVE). */
  reference: string;
  /** `reject` for attacks; `accept` for the few controls that a correct verifier must take. */
  expected: 'reject' | 'accept';
  /** For rejects: the verifier check that must stop it. */
  caughtBy?: CaughtBy;
  /** A verifier setting beyond algorithms/issuer/audience the verdict relies on, if any. */
  assumes?: string;
  build(kit: ForgeKit): ForgedToken;
}

/** A built token and the AMQP username to present it with (the claimed `sub`). */
export interface ForgedToken {
  token: string;
  username: string;
}

/** Inputs of `createForgeKit`. */
export interface ForgeInput {
  /** The IdP whose trust the tokens try to abuse (a RunningIdp also hosts attacker files). */
  idp: IdpMinter & { hostFile?: (path: string, file: HostedFile) => string };
  /** The identity forged tokens claim; default the demo `acme-producer`. */
  claims?: Claims;
  /** An identity the attacker really holds, base for tampering; default `acme-consumer`. */
  ownClaims?: Claims;
  /**
   * "Now" for time claims, seconds since the epoch. Default: the wall clock read at each build,
   * so a kit made at the start of a long run still builds fresh tokens. Fix it in unit tests.
   */
  nowSeconds?: number;
  /** The verifier's clock tolerance the boundary cases straddle; default 60 s. */
  clockSkewSeconds?: number;
  /**
   * Slack added on the rejecting side of time boundaries so that a token stays invalid while
   * it travels to the backend (a `nbf` 1 s beyond the skew becomes valid 1 s later); default 5 s.
   */
  marginSeconds?: number;
  /** Where `jku`/`x5u` point; default files hosted on the IdP under `/attacker/` when it can. */
  attackerBaseUrl?: string;
}

/** Everything the recipes build from. Create with `createForgeKit`. */
export interface ForgeKit {
  idp: ForgeInput['idp'];
  claims: Claims;
  ownClaims: Claims;
  /** "Now" for the next build (fixed, or the wall clock). */
  readonly nowSeconds: number;
  clockSkewSeconds: number;
  marginSeconds: number;
  attacker: AttackerMaterial;
  attackerBaseUrl: string;
  /** The claims of a legitimate token for `claims` at `nowSeconds` (iss, aud, times, jti). */
  fullClaims(overrides?: Claims): Claims;
  /** A legitimate IdP token for `claims`. */
  legitToken(alg?: IdpAlg): string;
  /** A legitimate IdP token for `ownClaims` (the attacker's own). */
  ownToken(alg?: IdpAlg): string;
}

export const demoClaims: Claims = { sub: 'acme-producer', tenant_id: 'acme', workload: 'producer' };
export const demoOwnClaims: Claims = {
  sub: 'acme-consumer',
  tenant_id: 'acme',
  workload: 'consumer',
};

function hostAttackerFiles(input: ForgeInput, attacker: AttackerMaterial): string {
  if (input.attackerBaseUrl !== undefined) return input.attackerBaseUrl;
  if (input.idp.hostFile === undefined) return 'http://attacker.invalid';
  const jwks = JSON.stringify({ keys: [attacker.ec.publicJwk, attacker.rsa.publicJwk] });
  const url = input.idp.hostFile('/attacker/jwks.json', {
    contentType: 'application/json',
    body: jwks,
  });
  input.idp.hostFile('/attacker/cert.pem', {
    contentType: 'application/pem-certificate-chain',
    body: attacker.certificatePem,
  });
  return url.slice(0, -'/jwks.json'.length);
}

/** Prepares attacker material (and hosts its files on a running IdP) for the recipes. */
export async function createForgeKit(input: ForgeInput): Promise<ForgeKit> {
  const attacker = await createAttackerMaterial();
  const claims = input.claims ?? demoClaims;
  const ownClaims = input.ownClaims ?? demoOwnClaims;
  const { idp } = input;
  const now = () => input.nowSeconds ?? Math.floor(Date.now() / 1000);
  return {
    idp,
    claims,
    ownClaims,
    get nowSeconds() {
      return now();
    },
    clockSkewSeconds: input.clockSkewSeconds ?? 60,
    marginSeconds: input.marginSeconds ?? 5,
    attacker,
    attackerBaseUrl: hostAttackerFiles(input, attacker),
    fullClaims: (overrides = {}) => idp.claimsFor({ ...claims, ...overrides }, { issuedAt: now() }),
    legitToken: (alg = 'ES256') => idp.mint(claims, { alg, issuedAt: now() }),
    ownToken: (alg = 'ES256') => idp.mint(ownClaims, { alg, issuedAt: now() }),
  };
}

/** The username a forged token is presented with: the claimed `sub`. */
export function usernameOf(kit: ForgeKit): string {
  return String(kit.claims['sub']);
}

/** A token with the given segments and a literal signature segment (default empty). */
export function unsignedToken(
  header: object | string,
  payload: object | string,
  signature: Uint8Array | string = '',
): string {
  const sig = typeof signature === 'string' ? signature : base64url(signature);
  return `${encodeSegment(header)}.${encodeSegment(payload)}.${sig}`;
}

/** A token signed by a key that is not the IdP's (or by the IdP's key used wrongly). */
export function signedToken(
  header: object | string,
  payload: object | string,
  alg: JwsAlg,
  secret: SigningSecret,
): string {
  return signCompact(header, payload, alg, secret);
}

/** Wraps a builder producing only the token text. */
export function forged(kit: ForgeKit, token: string): ForgedToken {
  return { token, username: usernameOf(kit) };
}

/** The three segments of a compact token. */
export function segmentsOf(token: string): [string, string, string] {
  const [header = '', payload = '', signature = ''] = token.split('.');
  return [header, payload, signature];
}

/** The decoded header object of a compact token. */
export function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segmentsOf(token)[0], 'base64url').toString('utf8'));
}

/** Replaces the payload of a signed token, keeping its header and signature. */
export function withPayload(token: string, payload: object | string): string {
  const [header, , signature] = segmentsOf(token);
  return `${header}.${encodeSegment(payload)}.${signature}`;
}

/** Replaces the header of a signed token, keeping its payload and signature. */
export function withHeader(token: string, header: object | string): string {
  const [, payload, signature] = segmentsOf(token);
  return `${encodeSegment(header)}.${payload}.${signature}`;
}
