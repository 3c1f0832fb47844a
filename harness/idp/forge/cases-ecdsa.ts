import {
  forged,
  segmentsOf,
  signedToken,
  unsignedToken,
  withPayload,
  type ForgeCase,
  type ForgeKit,
} from './kit.js';

/** The order n of the P-256 group (SEC 2, secp256r1). */
export const p256Order = BigInt(
  '0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551',
);

function toFixedBytes(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
}

function toBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
}

/** Splits a raw r||s ES256 signature (RFC 7518 §3.4). */
export function splitRawSignature(signature: Uint8Array): { r: bigint; s: bigint } {
  return { r: toBigInt(signature.subarray(0, 32)), s: toBigInt(signature.subarray(32, 64)) };
}

/** Joins r and s into the 64-byte raw form. */
export function rawSignature(r: bigint, s: bigint): Buffer {
  return Buffer.concat([toFixedBytes(r, 32), toFixedBytes(s, 32)]);
}

function derInteger(value: bigint): Buffer {
  const hex = value.toString(16);
  let bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  // DER INTEGERs are signed: a leading byte with the top bit set needs a 0x00 in front.
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

/** ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }`, the form JWS forbids for ES256. */
export function derSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

function esHeader(kit: ForgeKit): object {
  return { alg: 'ES256', kid: kit.idp.currentKey('ES256').kid, typ: 'JWT' };
}

/** The target claims under the real ES256 header with a chosen signature. */
function withSignature(kit: ForgeKit, signature: Uint8Array) {
  return forged(kit, unsignedToken(esHeader(kit), kit.fullClaims(), signature));
}

/** The (r, s) of a real IdP ES256 signature over the target claims. */
function legitRs(kit: ForgeKit): { token: string; r: bigint; s: bigint } {
  const token = kit.legitToken('ES256');
  return { token, ...splitRawSignature(Buffer.from(segmentsOf(token)[2], 'base64url')) };
}

/** A real IdP token with its signature replaced: the mutation is over the signed input. */
function mutated(kit: ForgeKit, mutate: (r: bigint, s: bigint) => Uint8Array) {
  const { token, r, s } = legitRs(kit);
  const [header, payload] = segmentsOf(token);
  return forged(kit, `${header}.${payload}.${Buffer.from(mutate(r, s)).toString('base64url')}`);
}

/**
 * A real IdP signature whose s is in the lower half. OpenSSL does not normalise s, so about one
 * signature in two qualifies; 64 attempts fail with probability 2^-64.
 */
function lowSLegit(kit: ForgeKit): { token: string; r: bigint; s: bigint } {
  for (let attempt = 0; attempt < 64; attempt += 1) {
    const candidate = legitRs(kit);
    if (candidate.s <= p256Order / 2n) return candidate;
  }
  throw new Error('no low-S ES256 signature in 64 attempts');
}

function vector(
  variant: string,
  title: string,
  build: (kit: ForgeKit) => ReturnType<ForgeCase['build']>,
  extra: Partial<ForgeCase> = {},
): ForgeCase {
  const recipe: ForgeCase = {
    id: `forge.ecdsa.${variant}`,
    category: 'ecdsa',
    title,
    reference: 'RFC 7518 §3.4; RFC 8725 §3.3; Wycheproof ecdsa_secp256r1_sha256_p1363 style',
    expected: 'reject',
    caughtBy: 'signature',
    build,
    ...extra,
  };
  if (recipe.expected === 'accept') delete recipe.caughtBy;
  return recipe;
}

const psychicReference = 'CVE-2022-21449; RFC 8725 §3.3; SEC 1 §4.1.4 step 1 (r, s in [1, n-1])';

const psychic: ForgeCase[] = [
  vector(
    'psychic-raw-zero',
    'ES256 "psychic signature": r = s = 0 as 64 zero bytes',
    (kit) => withSignature(kit, Buffer.alloc(64)),
    { reference: psychicReference },
  ),
  vector(
    'psychic-der-zero',
    'ES256 "psychic signature": r = s = 0 in DER (30 06 02 01 00 02 01 00)',
    (kit) => withSignature(kit, derSignature(0n, 0n)),
    { reference: psychicReference, caughtBy: 'signature' },
  ),
  vector(
    'psychic-r-s-equal-n',
    'ES256 signature with r = s = n (the group order, ≡ 0 mod n)',
    (kit) => withSignature(kit, rawSignature(p256Order, p256Order)),
    { reference: psychicReference },
  ),
  vector(
    'psychic-unknown-kid',
    'ES256 r = s = 0 with an unknown kid and escalated claims',
    (kit) => {
      const header = { alg: 'ES256', kid: 'warren-psychic', typ: 'JWT' };
      return forged(
        kit,
        unsignedToken(header, kit.fullClaims({ workload: 'admin' }), Buffer.alloc(64)),
      );
    },
    { reference: psychicReference, caughtBy: 'key-lookup' },
  ),
];

function invalidCurveJwk(kit: ForgeKit): Record<string, unknown> {
  const jwk = { ...kit.attacker.ec.publicJwk };
  const y = Buffer.from(String(jwk.y), 'base64url');
  y[31] = (y[31] ?? 0) ^ 0x01; // one bit off: (x, y) is no longer on P-256
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: y.toString('base64url') };
}

const wycheproofStyle: ForgeCase[] = [
  vector(
    'high-s',
    'real IdP ES256 signature made high-S: s replaced by n - s (same claims)',
    (kit) => {
      const { token, r, s } = lowSLegit(kit);
      const [header, payload] = segmentsOf(token);
      return forged(
        kit,
        `${header}.${payload}.${rawSignature(r, p256Order - s).toString('base64url')}`,
      );
    },
    {
      expected: 'accept',
      assumes:
        'ECDSA verification accepts (r, n-s) as it does (r, s); the backend must not key replay ' +
        'caches or sessions on the signature bytes',
    },
  ),
  vector(
    'high-s-tampered',
    'high-S variant of a real signature over different (escalated) claims',
    (kit) => {
      const highS = mutated(kit, (r, s) => rawSignature(r, p256Order - s)).token;
      return forged(kit, withPayload(highS, kit.fullClaims({ workload: 'admin' })));
    },
  ),
  vector(
    'der-encoded-valid',
    'a valid IdP ES256 signature re-encoded as DER (JWS wants raw r||s)',
    (kit) => mutated(kit, (r, s) => derSignature(r, s)),
  ),
  vector(
    'truncated-63-bytes',
    'a valid IdP ES256 signature with its last byte cut (63 bytes)',
    (kit) => mutated(kit, (r, s) => rawSignature(r, s).subarray(0, 63)),
  ),
  vector(
    'extended-65-bytes',
    'a valid IdP ES256 signature with a zero byte appended (65 bytes)',
    (kit) => mutated(kit, (r, s) => Buffer.concat([rawSignature(r, s), Buffer.from([0])])),
  ),
  vector('r-zero', 'a valid IdP signature with r replaced by 0', (kit) =>
    mutated(kit, (_r, s) => rawSignature(0n, s)),
  ),
  vector('s-zero', 'a valid IdP signature with s replaced by 0', (kit) =>
    mutated(kit, (r) => rawSignature(r, 0n)),
  ),
  vector('s-plus-n', 'a valid IdP signature with s + n, 33 bytes wide (out of range)', (kit) =>
    mutated(kit, (r, s) => Buffer.concat([toFixedBytes(r, 32), toFixedBytes(s + p256Order, 33)])),
  ),
  vector('r-s-swapped', 'a valid IdP signature with r and s swapped', (kit) =>
    mutated(kit, (r, s) => rawSignature(s, r)),
  ),
  vector('r-n-minus-r', 'a valid IdP signature with r replaced by n - r', (kit) =>
    mutated(kit, (r, s) => rawSignature(p256Order - r, s)),
  ),
  vector('r-s-one', 'ES256 signature with r = s = 1', (kit) =>
    withSignature(kit, rawSignature(1n, 1n)),
  ),
  vector('all-ones-bits', 'ES256 signature of 64 0xff bytes (r and s above n)', (kit) =>
    withSignature(kit, Buffer.alloc(64, 0xff)),
  ),
  vector(
    'invalid-curve-point-jwk',
    'embedded jwk whose (x, y) is not on P-256, signed by an attacker key',
    (kit) => {
      const header = { alg: 'ES256', typ: 'JWT', jwk: invalidCurveJwk(kit) };
      return forged(
        kit,
        signedToken(header, kit.fullClaims(), 'ES256', kit.attacker.ec.privateKey),
      );
    },
    {
      reference: 'RFC 7515 §4.1.3; RFC 8725 §3.4 (validate points on the curve)',
      caughtBy: 'signature',
    },
  ),
  vector(
    'wrong-curve-jwk',
    'embedded jwk labelled P-256 carrying a P-384 point',
    (kit) => {
      const coordinate = (fill: number) => Buffer.alloc(48, fill).toString('base64url');
      const wide = { kty: 'EC', crv: 'P-256', x: coordinate(7), y: coordinate(9) };
      return forged(
        kit,
        signedToken(
          { alg: 'ES256', typ: 'JWT', jwk: wide },
          kit.fullClaims(),
          'ES256',
          kit.attacker.ec.privateKey,
        ),
      );
    },
    { reference: 'RFC 7518 §6.2.1.2 (x is 32 bytes for P-256); RFC 8725 §3.4' },
  ),
];

/** ECDSA-specific signature vectors, generated from real IdP signatures at build time. */
export const ecdsaCases: readonly ForgeCase[] = [...psychic, ...wycheproofStyle];
