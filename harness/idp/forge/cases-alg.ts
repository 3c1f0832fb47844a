import { randomBytes } from 'node:crypto';

import type { IdpAlg } from '../keys.js';
import {
  forged,
  segmentsOf,
  signedToken,
  unsignedToken,
  type ForgeCase,
  type ForgeKit,
} from './kit.js';

const noneReference = 'RFC 7518 §3.6; RFC 8725 §2.1, §3.1';

function noneCase(spelling: string): ForgeCase {
  return {
    id: `forge.alg-none.${spelling}`,
    category: 'alg-none',
    title: `alg "${spelling}" with an empty signature`,
    reference: noneReference,
    expected: 'reject',
    caughtBy: 'algorithm',
    build: (kit) => forged(kit, unsignedToken({ alg: spelling, typ: 'JWT' }, kit.fullClaims())),
  };
}

const algNone: ForgeCase[] = [
  ...['none', 'None', 'NONE', 'nOnE'].map(noneCase),
  {
    id: 'forge.alg-none.with-kid',
    category: 'alg-none',
    title: 'alg "none" naming the kid of a real IdP key',
    reference: noneReference,
    expected: 'reject',
    caughtBy: 'algorithm',
    build: (kit) => {
      const header = { alg: 'none', kid: kit.idp.currentKey('ES256').kid, typ: 'JWT' };
      return forged(kit, unsignedToken(header, kit.fullClaims()));
    },
  },
  {
    id: 'forge.alg-none.keeps-signature',
    category: 'alg-none',
    title: 'alg "none" with the original signature left in place',
    reference: noneReference,
    expected: 'reject',
    caughtBy: 'algorithm',
    build: (kit) => {
      const signature = segmentsOf(kit.legitToken())[2];
      return forged(kit, unsignedToken({ alg: 'none', typ: 'JWT' }, kit.fullClaims(), signature));
    },
  },
  {
    id: 'forge.alg-none.empty-alg',
    category: 'alg-none',
    title: 'alg "" (empty string) with an empty signature',
    reference: 'RFC 7515 §4.1.1; RFC 8725 §3.1',
    expected: 'reject',
    caughtBy: 'algorithm',
    build: (kit) => forged(kit, unsignedToken({ alg: '', typ: 'JWT' }, kit.fullClaims())),
  },
  {
    id: 'forge.alg-none.missing-alg',
    category: 'alg-none',
    title: 'header without an alg member',
    reference: 'RFC 7515 §4.1.1 (alg is required)',
    expected: 'reject',
    caughtBy: 'header',
    build: (kit) => forged(kit, unsignedToken({ typ: 'JWT' }, kit.fullClaims())),
  },
];

const signature: ForgeCase[] = [
  {
    id: 'forge.signature.stripped',
    category: 'signature',
    title: 'real header (ES256, kid) with the signature segment emptied',
    reference: 'RFC 7515 §5.2 step 8; RFC 8725 §2.1',
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => {
      const [header, payload] = segmentsOf(kit.legitToken());
      return forged(kit, `${header}.${payload}.`);
    },
  },
  {
    id: 'forge.signature.two-segments',
    category: 'signature',
    title: 'header and payload only, no third segment',
    reference: 'RFC 7515 §7.1 (three segments); RFC 7519 §7.2 step 1',
    expected: 'reject',
    caughtBy: 'format',
    build: (kit) => {
      const [header, payload] = segmentsOf(kit.legitToken());
      return forged(kit, `${header}.${payload}`);
    },
  },
  {
    id: 'forge.signature.random-bytes',
    category: 'signature',
    title: 'ES256 header with 64 random bytes as signature',
    reference: 'RFC 7515 §5.2 step 8',
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => {
      const [header, payload] = segmentsOf(kit.legitToken());
      return forged(kit, `${header}.${payload}.${randomBytes(64).toString('base64url')}`);
    },
  },
  {
    id: 'forge.signature.spliced-from-own-token',
    category: 'signature',
    title: "target claims with the signature of the attacker's own valid token",
    reference: 'RFC 7515 §5.2 step 8',
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => {
      const [header, payload] = segmentsOf(kit.legitToken());
      return forged(kit, `${header}.${payload}.${segmentsOf(kit.ownToken())[2]}`);
    },
  },
];

/** Public-key encodings an HMAC-confused verifier might use as its secret. */
type PublicForm = 'pem' | 'pem-no-newline' | 'pkcs1-pem' | 'der' | 'jwk' | 'jwk-thumbprint-json';

function publicKeyBytes(kit: ForgeKit, keyAlg: IdpAlg, form: PublicForm): Buffer {
  const key = kit.idp.currentKey(keyAlg);
  const spkiPem = String(key.publicKey.export({ format: 'pem', type: 'spki' }));
  switch (form) {
    case 'pem':
      return Buffer.from(spkiPem);
    case 'pem-no-newline':
      return Buffer.from(spkiPem.trimEnd());
    case 'pkcs1-pem':
      return Buffer.from(String(key.publicKey.export({ format: 'pem', type: 'pkcs1' })));
    case 'der':
      return key.publicKey.export({ format: 'der', type: 'spki' });
    case 'jwk':
      return Buffer.from(JSON.stringify(key.publicJwk));
    case 'jwk-thumbprint-json':
      return Buffer.from(JSON.stringify(key.publicKey.export({ format: 'jwk' })));
  }
}

function confusionCase(
  hmac: 'HS256' | 'HS384' | 'HS512',
  keyAlg: IdpAlg,
  form: PublicForm,
): ForgeCase {
  const family = { ES256: 'ec', RS256: 'rsa', EdDSA: 'ed25519' }[keyAlg];
  return {
    id: `forge.key-confusion.${hmac.toLowerCase()}-${family}-${form}`,
    category: 'key-confusion',
    title: `${hmac} keyed with the IdP's ${keyAlg} public key (${form}), its kid in the header`,
    reference: 'RFC 8725 §2.1, §3.1; CVE-2015-9235',
    expected: 'reject',
    caughtBy: 'algorithm',
    build: (kit) => {
      const header = { alg: hmac, kid: kit.idp.currentKey(keyAlg).kid, typ: 'JWT' };
      const secret = publicKeyBytes(kit, keyAlg, form);
      return forged(kit, signedToken(header, kit.fullClaims(), hmac, secret));
    },
  };
}

const keyConfusion: ForgeCase[] = [
  ...(['pem', 'pem-no-newline', 'pkcs1-pem', 'der', 'jwk', 'jwk-thumbprint-json'] as const).map(
    (form) => confusionCase('HS256', 'RS256', form),
  ),
  confusionCase('HS384', 'RS256', 'pem'),
  confusionCase('HS512', 'RS256', 'pem'),
  ...(['pem', 'der', 'jwk'] as const).map((form) => confusionCase('HS256', 'ES256', form)),
  confusionCase('HS256', 'EdDSA', 'pem'),
];

const weakHmac: ForgeCase[] = [
  {
    id: 'forge.weak-hmac.empty-key',
    category: 'weak-hmac',
    title: 'HS256 signed with an empty key, naming a real kid',
    reference: 'RFC 7518 §3.2 (key ≥ hash size); RFC 8725 §3.5; CVE-2019-20933',
    expected: 'reject',
    caughtBy: 'algorithm',
    build: (kit) => {
      const header = { alg: 'HS256', kid: kit.idp.currentKey('ES256').kid, typ: 'JWT' };
      return forged(kit, signedToken(header, kit.fullClaims(), 'HS256', ''));
    },
  },
  {
    id: 'forge.weak-hmac.empty-key-no-kid',
    category: 'weak-hmac',
    title: 'HS256 signed with an empty key, no kid',
    reference: 'RFC 7518 §3.2; RFC 8725 §3.5; CVE-2019-20933',
    expected: 'reject',
    caughtBy: 'algorithm',
    build: (kit) =>
      forged(kit, signedToken({ alg: 'HS256', typ: 'JWT' }, kit.fullClaims(), 'HS256', '')),
  },
  {
    id: 'forge.weak-hmac.hs512-empty-key',
    category: 'weak-hmac',
    title: 'HS512 signed with an empty key',
    reference: 'RFC 7518 §3.2; RFC 8725 §3.5',
    expected: 'reject',
    caughtBy: 'algorithm',
    build: (kit) =>
      forged(kit, signedToken({ alg: 'HS512', typ: 'JWT' }, kit.fullClaims(), 'HS512', '')),
  },
];

const unknownAlg: ForgeCase[] = [
  {
    id: 'forge.unknown-alg.es256k',
    category: 'unknown-alg',
    title: 'ES256K (secp256k1) by an attacker key, naming the IdP ES256 kid',
    reference: 'RFC 8812 §3 (ES256K); RFC 8725 §3.1, §3.2',
    expected: 'reject',
    caughtBy: 'algorithm',
    build: (kit) => {
      const header = { alg: 'ES256K', kid: kit.idp.currentKey('ES256').kid, typ: 'JWT' };
      return forged(
        kit,
        signedToken(header, kit.fullClaims(), 'ES256K', kit.attacker.secp256k1.privateKey),
      );
    },
  },
  {
    id: 'forge.unknown-alg.ps256-attacker-key',
    category: 'unknown-alg',
    title: 'PS256 by an attacker RSA key, naming the IdP RS256 kid',
    reference: 'RFC 7518 §3.5; RFC 8725 §3.1',
    expected: 'reject',
    caughtBy: 'algorithm',
    build: (kit) => {
      const header = { alg: 'PS256', kid: kit.idp.currentKey('RS256').kid, typ: 'JWT' };
      return forged(
        kit,
        signedToken(header, kit.fullClaims(), 'PS256', kit.attacker.rsa.privateKey),
      );
    },
  },
  {
    id: 'forge.unknown-alg.ps256-idp-key',
    category: 'unknown-alg',
    title: 'PS256 really signed by the IdP RSA key whose JWK says RS256',
    reference: 'RFC 7517 §4.4 (key alg); RFC 8725 §3.1 (one alg per key)',
    expected: 'reject',
    caughtBy: 'algorithm',
    build: (kit) => {
      const header = { alg: 'PS256', kid: kit.idp.currentKey('RS256').kid, typ: 'JWT' };
      return forged(
        kit,
        kit.idp.signRaw(header, kit.fullClaims(), { alg: 'RS256', signAlg: 'PS256' }),
      );
    },
  },
  {
    id: 'forge.unknown-alg.es384-on-p256-key',
    category: 'unknown-alg',
    title: 'ES384 label, SHA-384 signature by the IdP P-256 key whose JWK says ES256',
    reference: 'RFC 7518 §3.4 (ES384 needs P-384); RFC 8725 §3.1',
    expected: 'reject',
    caughtBy: 'algorithm',
    build: (kit) => {
      const header = { alg: 'ES384', kid: kit.idp.currentKey('ES256').kid, typ: 'JWT' };
      return forged(
        kit,
        kit.idp.signRaw(header, kit.fullClaims(), { alg: 'ES256', signAlg: 'ES384' }),
      );
    },
  },
  {
    id: 'forge.unknown-alg.made-up-name',
    category: 'unknown-alg',
    title: 'alg "XS999" (unregistered) with random signature bytes',
    reference: 'RFC 7515 §4.1.1; RFC 8725 §3.1',
    expected: 'reject',
    caughtBy: 'algorithm',
    build: (kit) => {
      const header = { alg: 'XS999', kid: kit.idp.currentKey('ES256').kid, typ: 'JWT' };
      return forged(kit, unsignedToken(header, kit.fullClaims(), randomBytes(64)));
    },
  },
  {
    id: 'forge.unknown-alg.lowercase-es256',
    category: 'unknown-alg',
    title: 'alg "es256" (wrong case) with a real IdP signature',
    reference: 'RFC 7515 §4.1.1 (alg is case-sensitive)',
    expected: 'reject',
    caughtBy: 'algorithm',
    build: (kit) => {
      const header = { alg: 'es256', kid: kit.idp.currentKey('ES256').kid, typ: 'JWT' };
      return forged(kit, kit.idp.signRaw(header, kit.fullClaims(), { alg: 'ES256' }));
    },
  },
];

function unknownKeyCase(alg: IdpAlg): ForgeCase {
  return {
    id: `forge.unknown-key.${alg.toLowerCase()}-existing-kid`,
    category: 'unknown-key',
    title: `${alg} by an attacker key, naming the kid of the IdP ${alg} key`,
    reference: 'RFC 7515 §4.1.4, §5.2 step 8',
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => {
      const key = { ES256: kit.attacker.ec, RS256: kit.attacker.rsa, EdDSA: kit.attacker.ed25519 }[
        alg
      ];
      const header = { alg, kid: kit.idp.currentKey(alg).kid, typ: 'JWT' };
      return forged(kit, signedToken(header, kit.fullClaims(), alg, key.privateKey));
    },
  };
}

const unknownKey: ForgeCase[] = [
  ...(['ES256', 'RS256', 'EdDSA'] as const).map(unknownKeyCase),
  {
    id: 'forge.unknown-key.unknown-kid',
    category: 'unknown-key',
    title: 'ES256 by an attacker key with its own kid (forces a JWKS lookup miss)',
    reference: 'RFC 7515 §4.1.4; RFC 7517 §4.5',
    expected: 'reject',
    caughtBy: 'key-lookup',
    build: (kit) => {
      const header = { alg: 'ES256', kid: kit.attacker.ec.kid, typ: 'JWT' };
      return forged(
        kit,
        signedToken(header, kit.fullClaims(), 'ES256', kit.attacker.ec.privateKey),
      );
    },
  },
  {
    id: 'forge.unknown-key.no-kid',
    category: 'unknown-key',
    title: 'ES256 by an attacker key without kid (verifier must not try keys until one fits)',
    reference: 'RFC 7515 §4.1.4, §5.2 step 8',
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => {
      const token = signedToken(
        { alg: 'ES256', typ: 'JWT' },
        kit.fullClaims(),
        'ES256',
        kit.attacker.ec.privateKey,
      );
      return forged(kit, token);
    },
  },
];

/** Algorithm and signature attacks. */
export const algCases: readonly ForgeCase[] = [
  ...algNone,
  ...signature,
  ...keyConfusion,
  ...weakHmac,
  ...unknownAlg,
  ...unknownKey,
];
