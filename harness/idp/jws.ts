import { constants, createHmac, sign as cryptoSign, type KeyObject } from 'node:crypto';

/**
 * Every JWS `alg` Warren can produce. The IdP signs with the first three; the rest exist so the
 * forgery toolkit can build tokens a correct verifier must refuse (RFC 8725 §3.1: the verifier,
 * not the token, decides the algorithm).
 */
export type JwsAlg =
  'ES256' | 'RS256' | 'EdDSA' | 'ES384' | 'ES256K' | 'PS256' | 'HS256' | 'HS384' | 'HS512';

/** What signs: an asymmetric private key, or an HMAC secret (which may be empty). */
export type SigningSecret = KeyObject | Uint8Array | string;

/** base64url without padding (RFC 7515 §2). */
export function base64url(input: string | Uint8Array): string {
  return Buffer.from(input).toString('base64url');
}

/** The header or payload segment for a JSON value or an exact JSON text (kept byte for byte). */
export function encodeSegment(value: object | string): string {
  return base64url(typeof value === 'string' ? value : JSON.stringify(value));
}

const hmacHash: Partial<Record<JwsAlg, string>> = {
  HS256: 'sha256',
  HS384: 'sha384',
  HS512: 'sha512',
};

/**
 * Signs `data` the way RFC 7518 §3 defines `alg`, with node:crypto directly so that no library
 * guardrail stops a deliberately wrong combination (HS256 over a public key, ES256K, ...).
 * ECDSA signatures are the raw r||s form JWS requires (RFC 7518 §3.4), not DER.
 */
export function signBytes(alg: JwsAlg, secret: SigningSecret, data: Uint8Array): Buffer {
  const hash = hmacHash[alg];
  if (hash !== undefined) {
    if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) {
      return createHmac(hash, secret.export()).update(data).digest();
    }
    return createHmac(hash, secret).update(data).digest();
  }
  if (typeof secret === 'string' || secret instanceof Uint8Array) {
    throw new TypeError(`alg ${alg} needs a private key, not an HMAC secret`);
  }
  return signAsymmetric(alg, secret, data);
}

function signAsymmetric(alg: JwsAlg, key: KeyObject, data: Uint8Array): Buffer {
  switch (alg) {
    case 'ES256':
    case 'ES256K':
      return cryptoSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
    case 'ES384':
      return cryptoSign('sha384', data, { key, dsaEncoding: 'ieee-p1363' });
    case 'RS256':
      return cryptoSign('sha256', data, key);
    case 'PS256':
      // RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash output.
      return cryptoSign('sha256', data, {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      });
    case 'EdDSA':
      return cryptoSign(null, data, key);
    default:
      throw new TypeError(`alg ${alg} is not an asymmetric JWS algorithm`);
  }
}

/**
 * Builds a compact JWS from a header and a payload (objects, or exact JSON texts so duplicate
 * member names survive), signed with `alg` and `secret`.
 */
export function signCompact(
  header: object | string,
  payload: object | string,
  alg: JwsAlg,
  secret: SigningSecret,
): string {
  const input = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  return `${input}.${base64url(signBytes(alg, secret, Buffer.from(input)))}`;
}

/** The three segments of a compact token, decoded where they decode (no verification). */
export interface DecodedToken {
  headerText: string;
  payloadText: string;
  signature: Buffer;
  segments: string[];
}

/** Splits and base64url-decodes a compact token without verifying anything. */
export function decodeCompact(token: string): DecodedToken {
  const segments = token.split('.');
  const [header = '', payload = '', signature = ''] = segments;
  return {
    headerText: Buffer.from(header, 'base64url').toString('utf8'),
    payloadText: Buffer.from(payload, 'base64url').toString('utf8'),
    signature: Buffer.from(signature, 'base64url'),
    segments,
  };
}
