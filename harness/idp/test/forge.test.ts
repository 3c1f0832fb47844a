import { createHmac, createPublicKey, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createForgeKit,
  forgeCatalogue,
  p256Order,
  splitRawSignature,
  verifyAsReference,
  type CaughtBy,
  type ForgeKit,
} from '../forge.js';
import { startIdp, type RunningIdp } from '../index.js';

/** The decoded parts of a token, read independently of the recipes' own helpers. */
interface Parts {
  token: string;
  headerText: string;
  payloadText: string;
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signature: Buffer;
  signingInput: string;
}

function parse(token: string): Parts {
  const [h = '', p = '', s = ''] = token.split('.');
  const headerText = Buffer.from(h, 'base64url').toString('utf8');
  const payloadText = Buffer.from(p, 'base64url').toString('utf8');
  const json = (text: string) => {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  return {
    token,
    headerText,
    payloadText,
    header: json(headerText),
    payload: json(payloadText),
    signature: Buffer.from(s, 'base64url'),
    signingInput: `${h}.${p}`,
  };
}

function hmac(hash: string, key: string | Buffer, input: string): Buffer {
  return createHmac(hash, key).update(input).digest();
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/** jose error codes each "caught by" label may surface as. */
const codesFor: Record<CaughtBy, string[]> = {
  algorithm: ['ERR_JOSE_ALG_NOT_ALLOWED', 'ERR_JWS_INVALID'],
  signature: ['ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  'key-lookup': ['ERR_JWKS_NO_MATCHING_KEY'],
  header: [
    'ERR_JWS_INVALID',
    'ERR_JOSE_NOT_SUPPORTED',
    'ERR_JWT_INVALID',
    'ERR_JWT_CLAIM_VALIDATION_FAILED',
  ],
  claims: ['ERR_JWT_EXPIRED', 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
  format: ['ERR_JWS_INVALID', 'ERR_JWT_INVALID'],
};

type ShapeCheck = (parts: Parts, kit: ForgeKit) => void;

const kidOf = (kit: ForgeKit, alg: 'ES256' | 'RS256' | 'EdDSA') => kit.idp.currentKey(alg).kid;
const spkiPem = (kit: ForgeKit, alg: 'ES256' | 'RS256' | 'EdDSA') =>
  String(kit.idp.currentKey(alg).publicKey.export({ format: 'pem', type: 'spki' }));
const es256Verifies = (parts: Parts, key: Parameters<typeof verify>[2]) =>
  verify(
    'sha256',
    Buffer.from(parts.signingInput),
    { key, dsaEncoding: 'ieee-p1363' } as never,
    parts.signature,
  );

/** What each recipe (matched by id, or by id prefix ending in '.') must look like. */
const shapes: Record<string, ShapeCheck> = {
  'forge.alg-none.none': (p) => expect([p.header['alg'], p.signature.length]).toEqual(['none', 0]),
  'forge.alg-none.None': (p) => expect([p.header['alg'], p.signature.length]).toEqual(['None', 0]),
  'forge.alg-none.NONE': (p) => expect([p.header['alg'], p.signature.length]).toEqual(['NONE', 0]),
  'forge.alg-none.nOnE': (p) => expect([p.header['alg'], p.signature.length]).toEqual(['nOnE', 0]),
  'forge.alg-none.with-kid': (p, k) =>
    expect(p.header).toMatchObject({ alg: 'none', kid: kidOf(k, 'ES256') }),
  'forge.alg-none.keeps-signature': (p) => {
    expect(p.header['alg']).toBe('none');
    expect(p.signature.length).toBe(64);
  },
  'forge.alg-none.empty-alg': (p) => expect(p.header['alg']).toBe(''),
  'forge.alg-none.missing-alg': (p) => expect(p.header).not.toHaveProperty('alg'),
  'forge.signature.stripped': (p) => {
    expect(p.token.endsWith('.')).toBe(true);
    expect(p.header['alg']).toBe('ES256');
  },
  'forge.signature.two-segments': (p) => expect(p.token.split('.')).toHaveLength(2),
  'forge.signature.random-bytes': (p) => expect(p.signature.length).toBe(64),
  'forge.signature.spliced-from-own-token': (p, k) => {
    expect(p.payload['sub']).toBe(k.claims['sub']);
    expect(p.signature.length).toBe(64);
  },
  'forge.key-confusion.': (p, k) => {
    const alg = String(p.header['alg']);
    const hash = `sha${alg.slice(2)}`;
    const keyAlg =
      p.header['kid'] === kidOf(k, 'RS256')
        ? 'RS256'
        : p.header['kid'] === kidOf(k, 'ES256')
          ? 'ES256'
          : 'EdDSA';
    expect(p.header['kid']).toBe(kidOf(k, keyAlg));
    const key = k.idp.currentKey(keyAlg);
    const forms = [
      Buffer.from(spkiPem(k, keyAlg)),
      Buffer.from(spkiPem(k, keyAlg).trimEnd()),
      key.publicKey.export({ format: 'der', type: 'spki' }),
      Buffer.from(JSON.stringify(key.publicJwk)),
      Buffer.from(JSON.stringify(key.publicKey.export({ format: 'jwk' }))),
      ...(keyAlg === 'RS256'
        ? [Buffer.from(String(key.publicKey.export({ format: 'pem', type: 'pkcs1' })))]
        : []),
    ];
    // The MAC really is keyed with one encoding of the IdP's public key.
    expect(forms.some((form) => hmac(hash, form, p.signingInput).equals(p.signature))).toBe(true);
  },
  'forge.weak-hmac.': (p) => {
    const hash = `sha${String(p.header['alg']).slice(2)}`;
    expect(hmac(hash, '', p.signingInput).equals(p.signature)).toBe(true);
  },
  'forge.unknown-alg.es256k': (p, k) => {
    expect(p.header['alg']).toBe('ES256K');
    expect(es256Verifies(p, k.attacker.secp256k1.privateKey)).toBe(true);
  },
  'forge.unknown-alg.ps256-attacker-key': (p, k) =>
    expect(p.header).toMatchObject({ alg: 'PS256', kid: kidOf(k, 'RS256') }),
  'forge.unknown-alg.ps256-idp-key': (p, k) => {
    const key = { key: k.idp.currentKey('RS256').publicKey, padding: 6, saltLength: 32 };
    expect(verify('sha256', Buffer.from(p.signingInput), key, p.signature)).toBe(true);
  },
  'forge.unknown-alg.es384-on-p256-key': (p, k) => {
    const key = { key: k.idp.currentKey('ES256').publicKey, dsaEncoding: 'ieee-p1363' as const };
    expect(p.header['alg']).toBe('ES384');
    expect(verify('sha384', Buffer.from(p.signingInput), key, p.signature)).toBe(true);
  },
  'forge.unknown-alg.made-up-name': (p) => expect(p.header['alg']).toBe('XS999'),
  'forge.unknown-alg.lowercase-es256': (p, k) => {
    expect(p.header['alg']).toBe('es256');
    expect(es256Verifies(p, k.idp.currentKey('ES256').publicKey)).toBe(true);
  },
  'forge.unknown-key.': (p, k) => {
    const attacker = { ES256: k.attacker.ec, RS256: k.attacker.rsa, EdDSA: k.attacker.ed25519 };
    const alg = p.header['alg'] as keyof typeof attacker;
    const pub = createPublicKey(attacker[alg].privateKey);
    const hash = alg === 'EdDSA' ? null : 'sha256';
    const key = alg === 'ES256' ? { key: pub, dsaEncoding: 'ieee-p1363' as const } : pub;
    expect(verify(hash, Buffer.from(p.signingInput), key, p.signature)).toBe(true);
  },
  'forge.ecdsa.psychic-raw-zero': (p) => expect(p.signature.equals(Buffer.alloc(64))).toBe(true),
  'forge.ecdsa.psychic-der-zero': (p) =>
    expect(p.signature.toString('hex')).toBe('3006020100020100'),
  'forge.ecdsa.psychic-r-s-equal-n': (p) =>
    expect(splitRawSignature(p.signature)).toEqual({ r: p256Order, s: p256Order }),
  'forge.ecdsa.psychic-unknown-kid': (p) => {
    expect(p.signature.equals(Buffer.alloc(64))).toBe(true);
    expect(p.payload['workload']).toBe('admin');
  },
  'forge.ecdsa.high-s': (p, k) => {
    expect(splitRawSignature(p.signature).s > p256Order / 2n).toBe(true);
    expect(es256Verifies(p, k.idp.currentKey('ES256').publicKey)).toBe(true);
  },
  'forge.ecdsa.high-s-tampered': (p) => expect(p.payload['workload']).toBe('admin'),
  'forge.ecdsa.der-encoded-valid': (p, k) => {
    // DER decoded back to raw r||s is a real IdP signature over the same input.
    const key = { key: k.idp.currentKey('ES256').publicKey, dsaEncoding: 'der' as const };
    expect(p.signature[0]).toBe(0x30);
    expect(verify('sha256', Buffer.from(p.signingInput), key, p.signature)).toBe(true);
  },
  'forge.ecdsa.truncated-63-bytes': (p) => expect(p.signature.length).toBe(63),
  'forge.ecdsa.extended-65-bytes': (p) => expect(p.signature.length).toBe(65),
  'forge.ecdsa.r-zero': (p) =>
    expect(p.signature.subarray(0, 32).equals(Buffer.alloc(32))).toBe(true),
  'forge.ecdsa.s-zero': (p) => expect(p.signature.subarray(32).equals(Buffer.alloc(32))).toBe(true),
  'forge.ecdsa.s-plus-n': (p) => expect(p.signature.length).toBe(65),
  'forge.ecdsa.r-s-swapped': (p, k) => {
    const { r, s } = splitRawSignature(p.signature);
    // Swapped back, it is a real IdP signature.
    const original = Buffer.concat([p.signature.subarray(32), p.signature.subarray(0, 32)]);
    expect(r).not.toBe(s);
    expect(es256Verifies({ ...p, signature: original }, k.idp.currentKey('ES256').publicKey)).toBe(
      true,
    );
  },
  'forge.ecdsa.r-s-one': (p) => expect(splitRawSignature(p.signature)).toEqual({ r: 1n, s: 1n }),
  'forge.ecdsa.all-ones-bits': (p) => expect(p.signature.equals(Buffer.alloc(64, 0xff))).toBe(true),
  'forge.ecdsa.r-n-minus-r': (p, k) => {
    const { r, s } = splitRawSignature(p.signature);
    const original = Buffer.concat([
      Buffer.from((p256Order - r).toString(16).padStart(64, '0'), 'hex'),
      p.signature.subarray(32),
    ]);
    expect(s).toBeGreaterThan(0n);
    expect(es256Verifies({ ...p, signature: original }, k.idp.currentKey('ES256').publicKey)).toBe(
      true,
    );
  },
  'forge.ecdsa.invalid-curve-point-jwk': (p) => {
    // Node refuses to import a point that is not on the curve.
    expect(() => createPublicKey({ key: p.header['jwk'] as never, format: 'jwk' })).toThrow();
  },
  'forge.ecdsa.wrong-curve-jwk': (p) => {
    const jwk = p.header['jwk'] as { crv: string; x: string };
    expect([jwk.crv, Buffer.from(jwk.x, 'base64url').length]).toEqual(['P-256', 48]);
  },
  'forge.embedded-key.jwk-oct': (p) => {
    const k = Buffer.from(String((p.header['jwk'] as { k: string }).k), 'base64url');
    expect(hmac('sha256', k, p.signingInput).equals(p.signature)).toBe(true);
  },
  'forge.embedded-key.': (p) => {
    const pub = createPublicKey({ key: p.header['jwk'] as never, format: 'jwk' });
    const key =
      p.header['alg'] === 'ES256' ? { key: pub, dsaEncoding: 'ieee-p1363' as const } : pub;
    expect(verify('sha256', Buffer.from(p.signingInput), key, p.signature)).toBe(true);
  },
  'forge.remote-key.jku-attacker': (p, k) =>
    expect(p.header).toMatchObject({
      jku: `${k.attackerBaseUrl}/jwks.json`,
      kid: k.attacker.ec.kid,
    }),
  'forge.remote-key.jku-attacker-existing-kid': (p, k) =>
    expect(p.header).toMatchObject({
      jku: `${k.attackerBaseUrl}/jwks.json`,
      kid: kidOf(k, 'ES256'),
    }),
  'forge.remote-key.jku-unresolvable': (p) =>
    expect(String(p.header['jku'])).toMatch(/\.invalid\//),
  'forge.remote-key.x5u-attacker': (p, k) =>
    expect(p.header['x5u']).toBe(`${k.attackerBaseUrl}/cert.pem`),
  'forge.remote-key.x5c-': (p) => {
    const cert = new X509Certificate(
      Buffer.from(String((p.header['x5c'] as string[])[0]), 'base64'),
    );
    expect(cert.checkIssued(cert)).toBe(true);
    expect(es256Verifies(p, cert.publicKey)).toBe(true);
  },
  'forge.kid-injection.path-traversal-dev-null': (p) => {
    expect(p.header['kid']).toBe('../../../../../../dev/null');
    expect(hmac('sha256', '', p.signingInput).equals(p.signature)).toBe(true);
  },
  'forge.kid-injection.path-traversal-known-file': (p) =>
    expect(String(p.header['kid'])).toContain('../'),
  'forge.kid-injection.sql-union': (p) => {
    expect(String(p.header['kid'])).toContain('UNION SELECT');
    expect(hmac('sha256', 'warren-key', p.signingInput).equals(p.signature)).toBe(true);
  },
  'forge.kid-injection.sql-tautology': (p) => expect(String(p.header['kid'])).toContain("'1'='1"),
  'forge.kid-injection.command-substitution': (p) => expect(p.header['kid']).toBe('$(sleep 5)'),
  'forge.kid-injection.command-separator': (p) =>
    expect(String(p.header['kid'])).toContain('; sleep'),
  'forge.kid-injection.empty': (p) => expect(p.header['kid']).toBe(''),
  'forge.kid-injection.empty-hmac': (p) =>
    expect([p.header['kid'], p.header['alg']]).toEqual(['', 'HS256']),
  'forge.kid-injection.very-long': (p) => expect(String(p.header['kid']).length).toBe(16_384),
  'forge.kid-injection.number': (p) => expect(typeof p.header['kid']).toBe('number'),
  'forge.kid-injection.object': (p) => expect(p.header['kid']).toEqual({ $ne: null }),
  'forge.kid-injection.nul-suffix': (p, k) =>
    expect(p.header['kid']).toMatch(new RegExp(`^${kidOf(k, 'ES256')}\u0000`)),
  'forge.header.crit-unknown': (p) => expect(p.header['crit']).toEqual(['warren-ext']),
  'forge.header.crit-registered-name': (p) => expect(p.header['crit']).toEqual(['alg']),
  'forge.header.crit-empty': (p) => expect(p.header['crit']).toEqual([]),
  'forge.header.b64-false-': (p) => expect(p.header).toMatchObject({ b64: false, crit: ['b64'] }),
  'forge.header.typ-other-jwt-kind': (p) => expect(p.header['typ']).toBe('secevent+jwt'),
  'forge.header.typ-jwe': (p) => expect(p.header['typ']).toBe('JWE'),
  'forge.tampering.sub': (p, k) => expect(p.payload['sub']).toBe(k.claims['sub']),
  'forge.tampering.tenant': (p) => expect(p.payload['tenant_id']).toBe('globex'),
  'forge.tampering.workload-admin': (p) => expect(p.payload['workload']).toBe('admin'),
  'forge.tampering.exp-extended': (p, k) =>
    expect(Number(p.payload['exp'])).toBeGreaterThan(k.nowSeconds + 300 * 86_400),
  'forge.tampering.kid-swapped': (p, k) =>
    expect(p.header).toMatchObject({ alg: 'ES256', kid: kidOf(k, 'RS256') }),
  'forge.tampering.alg-relabelled': (p) => expect(p.header['alg']).toBe('RS256'),
  'forge.tampering.padded-base64': (p) => expect(p.token.split('.')[1]).toMatch(/=$/),
  'forge.tampering.extra-segment': (p) => expect(p.token.split('.')).toHaveLength(4),
  'forge.duplicate-keys.payload-': (p) => expect(count(p.payloadText, '"sub":')).toBe(2),
  'forge.duplicate-keys.idp-signed-last-wins': (p, k) => {
    expect(count(p.payloadText, '"sub":')).toBe(2);
    expect(p.payload['sub']).toBe(k.ownClaims['sub']);
  },
  'forge.duplicate-keys.header-alg-none-last': (p) => {
    expect(count(p.headerText, '"alg":')).toBe(2);
    expect(p.header['alg']).toBe('none');
  },
  'forge.duplicate-keys.header-alg-none-first': (p) => {
    expect(count(p.headerText, '"alg":')).toBe(2);
    expect(p.headerText.startsWith('{"alg":"none"')).toBe(true);
  },
  'forge.parsing.over-8-kib': (p) => expect(p.token.length).toBeGreaterThan(8 * 1024),
  'forge.parsing.over-64-kib': (p) => expect(p.token.length).toBeGreaterThan(64 * 1024),
  'forge.parsing.deeply-nested-claim': (p) => expect(p.payloadText).toContain('['.repeat(5000)),
  'forge.parsing.deeply-nested-header': (p) => expect(p.headerText).toContain('['.repeat(5000)),
  'forge.parsing.payload-not-json': (p) => expect(() => JSON.parse(p.payloadText)).toThrow(),
  'forge.parsing.payload-array': (p) => expect(Array.isArray(JSON.parse(p.payloadText))).toBe(true),
  'forge.parsing.invalid-base64url': (p) => expect(p.token).toMatch(/\*!/),
  'forge.validity.control-valid': (p, k) => expect(p.payload).toMatchObject(k.claims),
  'forge.validity.expired-long-ago': (p, k) => expect(p.payload['exp']).toBe(k.nowSeconds - 86_400),
  'forge.validity.exp-at-skew-edge': (p, k) =>
    expect(p.payload['exp']).toBe(k.nowSeconds - k.clockSkewSeconds),
  'forge.validity.exp-beyond-skew': (p, k) =>
    expect(p.payload['exp']).toBe(k.nowSeconds - k.clockSkewSeconds - 1),
  'forge.validity.control-exp-inside-skew': (p, k) => {
    expect(Number(p.payload['exp'])).toBeLessThan(k.nowSeconds);
    expect(Number(p.payload['exp'])).toBeGreaterThan(k.nowSeconds - k.clockSkewSeconds);
  },
  'forge.validity.nbf-far-future': (p, k) => expect(p.payload['nbf']).toBe(k.nowSeconds + 86_400),
  'forge.validity.nbf-beyond-skew': (p, k) =>
    expect(p.payload['nbf']).toBe(k.nowSeconds + k.clockSkewSeconds + k.marginSeconds),
  'forge.validity.control-nbf-inside-skew': (p, k) => {
    expect(Number(p.payload['nbf'])).toBeGreaterThan(k.nowSeconds);
    expect(Number(p.payload['nbf'])).toBeLessThan(k.nowSeconds + k.clockSkewSeconds);
  },
  'forge.validity.iat-beyond-skew': (p, k) =>
    expect(p.payload['iat']).toBe(k.nowSeconds + k.clockSkewSeconds + k.marginSeconds),
  'forge.validity.exp-as-string': (p) => expect(typeof p.payload['exp']).toBe('string'),
  'forge.validity.nbf-as-string': (p) => expect(typeof p.payload['nbf']).toBe('string'),
  'forge.validity.exp-before-nbf': (p) =>
    expect(Number(p.payload['exp'])).toBeLessThan(Number(p.payload['nbf'])),
  'forge.audience-issuer.aud-other-service': (p) => expect(p.payload['aud']).toBe('grafana'),
  'forge.audience-issuer.aud-other-environment': (p) =>
    expect(p.payload['aud']).toBe('rabbitmq-staging'),
  'forge.audience-issuer.aud-prefix-extended': (p) =>
    expect(p.payload['aud']).toBe('rabbitmq.evil'),
  'forge.audience-issuer.aud-wrong-case': (p) => expect(p.payload['aud']).toBe('RABBITMQ'),
  'forge.audience-issuer.aud-array-without-ours': (p) =>
    expect(p.payload['aud']).toEqual(['grafana', 'vault']),
  'forge.audience-issuer.aud-empty-string': (p) => expect(p.payload['aud']).toBe(''),
  'forge.audience-issuer.aud-missing': (p) => expect(p.payload).not.toHaveProperty('aud'),
  'forge.audience-issuer.iss-staging': (p) =>
    expect(p.payload['iss']).toBe('https://idp.staging.example'),
  'forge.audience-issuer.iss-trailing-slash': (p, k) =>
    expect(p.payload['iss']).toBe(`${k.idp.issuer}/`),
  'forge.audience-issuer.iss-upper-case-scheme': (p) =>
    expect(String(p.payload['iss'])).toMatch(/^HTTP:\/\//),
  'forge.audience-issuer.iss-https': (p) =>
    expect(String(p.payload['iss'])).toMatch(/^https:\/\/127/),
  'forge.audience-issuer.iss-missing': (p) => expect(p.payload).not.toHaveProperty('iss'),
  'forge.audience-issuer.staging-idp-key': (p, k) => {
    expect(p.header['kid']).toBe(k.attacker.staging.kid);
    expect(p.payload['iss']).toBe('https://idp.staging.example');
  },
  'forge.missing-claim.': (p, k) => {
    const required = ['exp', 'sub', 'iat', 'tenant_id', 'workload'];
    const absent = required.filter((claim) => !(claim in p.payload));
    expect(absent).toHaveLength(1);
    // Everything else of the identity is still there: only the one claim is missing.
    for (const [claim, value] of Object.entries(k.claims)) {
      if (!absent.includes(claim)) expect(p.payload[claim]).toEqual(value);
    }
  },
};

function shapeFor(id: string): ShapeCheck | undefined {
  if (shapes[id] !== undefined) return shapes[id];
  const prefix = Object.keys(shapes)
    .filter((key) => (key.endsWith('.') || key.endsWith('-')) && id.startsWith(key))
    .sort((a, b) => b.length - a.length)[0];
  return prefix === undefined ? undefined : shapes[prefix];
}

describe('forged-token catalogue', () => {
  let idp: RunningIdp;
  let kit: ForgeKit;
  let keysDir: string;

  beforeAll(async () => {
    keysDir = mkdtempSync(join(tmpdir(), 'warren-forge-'));
    idp = await startIdp({ port: 0, keysDir });
    kit = await createForgeKit({ idp, nowSeconds: Math.floor(Date.now() / 1000) });
  });
  afterAll(async () => {
    await idp.stop();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it('has unique, well-formed ids, one-line titles and a reference for every recipe', () => {
    const ids = forgeCatalogue.map((recipe) => recipe.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const recipe of forgeCatalogue) {
      expect(recipe.id).toMatch(new RegExp(`^forge\\.${recipe.category}\\.[A-Za-z0-9-]+$`));
      expect(recipe.title).not.toMatch(/\n/);
      expect(recipe.title.length).toBeLessThanOrEqual(100);
      expect(recipe.reference).toMatch(/RFC \d{4}|CVE-\d{4}-\d+|CWE-\d+/);
      expect(recipe.expected === 'reject').toBe(recipe.caughtBy !== undefined);
    }
  });

  it('follows the wall clock unless a time is fixed, so a long run keeps building fresh tokens', async () => {
    const live = await createForgeKit({ idp, attackerBaseUrl: 'http://attacker.invalid' });
    expect(Math.abs(live.nowSeconds - Date.now() / 1000)).toBeLessThan(2);
    const fixed = await createForgeKit({
      idp,
      nowSeconds: 1_000,
      attackerBaseUrl: 'http://a.invalid',
    });
    expect(fixed.fullClaims()).toMatchObject({ iat: 1_000, exp: 1_300 });
  });

  it('has a shape check for every recipe', () => {
    const unchecked = forgeCatalogue.filter((recipe) => shapeFor(recipe.id) === undefined);
    expect(unchecked.map((recipe) => recipe.id)).toEqual([]);
  });

  it.each(forgeCatalogue.map((recipe) => [recipe.id, recipe] as const))(
    '%s gets the verdict it claims from a correct jose verification and has its shape',
    async (_id, recipe) => {
      const { token, username } = recipe.build(kit);
      const outcome = await verifyAsReference(token, kit);

      expect(outcome.verdict).toBe(recipe.expected);
      if (recipe.caughtBy !== undefined) expect(codesFor[recipe.caughtBy]).toContain(outcome.code);
      if (outcome.verdict === 'accept') expect(outcome.sub).toBe(username);
      shapeFor(recipe.id)?.(parse(token), kit);
    },
  );

  it('builds tokens none of which a correct verifier fetches attacker URLs for', async () => {
    idp.resetCounters();
    for (const recipe of forgeCatalogue.filter((r) => r.category === 'remote-key')) {
      await verifyAsReference(recipe.build(kit).token, kit);
    }
    expect(idp.counters().hosted).toEqual({});
    // The attacker files are there, and a backend that follows jku/x5u would be counted.
    await fetch(`${kit.attackerBaseUrl}/jwks.json`);
    expect(idp.counters().hosted).toEqual({ '/attacker/jwks.json': 1 });
  });

  it('lets the IdP count an unknown-kid storm against a caching verifier', async () => {
    const unknownKid = forgeCatalogue.find((r) => r.id === 'forge.unknown-key.unknown-kid');
    const jwks = createRemoteJWKSet(new URL(idp.jwksUrl));
    idp.resetCounters();
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const { token } = unknownKid!.build(kit);
      await jwtVerify(token, jwks, { algorithms: ['ES256'] }).catch(() => undefined);
    }
    // jose fetches once, then honours its 30 s cooldown for unknown kids.
    expect(idp.counters().jwks).toBe(1);
  });
});
