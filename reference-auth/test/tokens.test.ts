import { createHmac } from 'node:crypto';
import { base64url, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  demoClaims,
  startService,
  TestIdp,
  type ManualClock,
  type TestService,
} from './support.js';

let idp: TestIdp;
let service: TestService;

beforeAll(async () => {
  idp = await TestIdp.start();
  service = await startService({ idp });
});

afterAll(async () => {
  await service.auth.close();
  await idp.close();
});

const claims = demoClaims('acme-producer', 'acme', 'producer');

/** Signs `header.payload` with HMAC-SHA256 using `secret` (for the HS/RS confusion attack). */
function hmacToken(header: object, payload: object, secret: Uint8Array | string): string {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
  const mac = createHmac('sha256', secret).update(input).digest();
  return `${input}.${base64url.encode(mac)}`;
}

function demoPayload(clock: ManualClock): Record<string, unknown> {
  return {
    ...claims,
    iss: idp.issuer,
    aud: 'rabbitmq',
    iat: clock.seconds,
    exp: clock.seconds + 300,
  };
}

interface TokenCase {
  title: string;
  token: (clock: ManualClock) => Promise<string> | string;
  username?: string;
  reason: string;
}

const cases: TokenCase[] = [
  {
    title: 'an expired token',
    token: (clock) =>
      idp.mint(clock, { ...claims, iat: clock.seconds - 600, exp: clock.seconds - 60 }),
    reason: 'token_expired',
  },
  {
    title: 'a token not valid before a future time beyond the skew',
    token: (clock) => idp.mint(clock, { ...claims, nbf: clock.seconds + 120 }),
    reason: 'token_not_yet_valid',
  },
  {
    title: 'a token for another audience',
    token: (clock) => idp.mint(clock, { ...claims, aud: 'kafka' }),
    reason: 'token_audience',
  },
  {
    title: 'a token from another issuer',
    token: (clock) => idp.mint(clock, { ...claims, iss: 'http://evil.test' }),
    reason: 'token_issuer',
  },
  {
    title: 'an unsigned token (alg none)',
    token: (clock) =>
      `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url.encode(JSON.stringify(demoPayload(clock)))}.`,
    reason: 'token_algorithm',
  },
  {
    title: 'an HS256 token keyed with the RSA public key (HS/RS confusion)',
    token: (clock) => {
      const jwk = idp.keys.find((k) => k.kid === 'rs-1')?.publicJwk;
      return hmacToken({ alg: 'HS256', kid: 'rs-1' }, demoPayload(clock), JSON.stringify(jwk));
    },
    reason: 'token_algorithm',
  },
  {
    title: 'a token signed by an unpublished key with an unknown kid',
    token: async (clock) =>
      idp.mint(clock, claims, { key: await idp.addKey('rogue', 'RS256', false) }),
    reason: 'token_unknown_key',
  },
  {
    title: 'a token signed by an unpublished key reusing a known kid',
    token: async (clock) => {
      const rogue = await idp.addKey('rs-1', 'RS256', false);
      return idp.mint(clock, claims, { key: rogue });
    },
    reason: 'token_invalid',
  },
  {
    title: 'a token issued in the future beyond the skew',
    token: (clock) => idp.mint(clock, { ...claims, iat: clock.seconds + 120 }),
    reason: 'token_not_yet_valid',
  },
  {
    title: 'a token issued more than a day ago',
    token: (clock) =>
      idp.mint(clock, { ...claims, iat: clock.seconds - 90_000, exp: clock.seconds + 60 }),
    reason: 'token_expired',
  },
  {
    title: 'a token typed for another use (typ at+jwt)',
    token: async (clock) => {
      const key = idp.keys.find((k) => k.kid === 'rs-1');
      return new SignJWT(demoPayload(clock))
        .setProtectedHeader({ alg: 'RS256', kid: 'rs-1', typ: 'at+jwt' })
        .sign(key?.privateKey as CryptoKey);
    },
    reason: 'token_invalid',
  },
  {
    title: 'a token whose subject is not the username',
    token: (clock) => idp.mint(clock, claims),
    username: 'acme-admin',
    reason: 'username_mismatch',
  },
  {
    title: 'a token without exp',
    token: (clock) => idp.mint(clock, { ...claims, exp: undefined }),
    reason: 'token_claim_missing',
  },
  {
    title: 'a token larger than the limit',
    token: (clock) => idp.mint(clock, { ...claims, padding: 'x'.repeat(9000) }),
    reason: 'token_too_large',
  },
  {
    title: 'a token with a tampered payload',
    token: async (clock) => {
      const [header, , signature] = (await idp.mint(clock, claims)).split('.');
      const payload = base64url.encode(
        JSON.stringify({ ...demoPayload(clock), workload: 'admin' }),
      );
      return `${header}.${payload}.${signature}`;
    },
    reason: 'token_invalid',
  },
];

describe('JWT passwords that must be denied', () => {
  it.each(cases)('denies $title', async ({ token, username, reason }) => {
    const password = await token(service.clock);
    expect(await service.get('user', { username: username ?? 'acme-producer', password })).toBe(
      'deny',
    );
    expect(service.sink.records.at(-1)?.reason).toBe(reason);
  });

  it('accepts a token inside the clock skew and an ES256 token', async () => {
    const skewed = await idp.mint(service.clock, { ...claims, nbf: service.clock.seconds + 10 });
    expect(await service.get('user', { username: 'acme-producer', password: skewed })).toBe(
      'allow',
    );
    const es = await idp.mint(service.clock, claims, { kid: 'es-1' });
    expect(await service.get('user', { username: 'acme-producer', password: es })).toBe('allow');
  });

  it('never lets an HS256 token pass even when signed with a shared secret the service could know', async () => {
    const token = await new SignJWT(demoPayload(service.clock))
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-long!'));
    expect(await service.get('user', { username: 'acme-producer', password: token })).toBe('deny');
    expect(service.sink.records.at(-1)?.reason).toBe('token_algorithm');
  });
});
