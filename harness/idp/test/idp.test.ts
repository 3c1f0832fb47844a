import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { calculateJwkThumbprint, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ErrorCode, isWarrenError } from '../../../lib/errors.js';
import { idpAlgs, KeyStore, startIdp, type RunningIdp } from '../index.js';

const tempDirs: string[] = [];
function tempKeysDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warren-idp-'));
  tempDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** What a correct backend does: fresh remote JWKS, pinned algorithms, issuer and audience. */
function verifyWith(idp: RunningIdp, token: string, options: { timeoutMs?: number } = {}) {
  const jwks = createRemoteJWKSet(new URL(idp.jwksUrl), {
    timeoutDuration: options.timeoutMs ?? 2000,
  });
  return jwtVerify(token, jwks, {
    algorithms: [...idpAlgs],
    issuer: idp.issuer,
    audience: idp.audience,
  });
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => new Error('expected a failure, got success'),
    (error: unknown) => error as Error,
  );
  if (outcome.message === 'expected a failure, got success') throw outcome;
  return outcome;
}

describe('test IdP', () => {
  let idp: RunningIdp;
  let keysDir: string;

  beforeAll(async () => {
    keysDir = tempKeysDir();
    idp = await startIdp({ port: 0, keysDir });
  });
  afterAll(async () => {
    await idp.stop();
  });

  it.each(idpAlgs)('serves a JWKS that jose accepts for %s tokens', async (alg) => {
    const token = idp.mint({ sub: 'acme-producer', tenant_id: 'acme' }, { alg });
    const { payload, protectedHeader } = await verifyWith(idp, token);
    expect(protectedHeader).toMatchObject({ alg, kid: idp.currentKey(alg).kid, typ: 'JWT' });
    expect(payload).toMatchObject({ sub: 'acme-producer', tenant_id: 'acme', aud: 'rabbitmq' });
  });

  it('mints the default claims: iss, aud, iat, nbf = iat, exp = iat + 300, a fresh jti', () => {
    const claims = idp.claimsFor({ sub: 'x' }, { issuedAt: 1_000 });
    expect(claims).toMatchObject({ iss: idp.issuer, aud: 'rabbitmq', iat: 1_000, nbf: 1_000 });
    expect(claims['exp']).toBe(1_300);
    expect(claims['jti']).toMatch(/^[0-9a-f-]{36}$/);
    expect(idp.claimsFor({})['jti']).not.toBe(claims['jti']);
  });

  it('leaves out claims and header members set to undefined', () => {
    const token = idp.mint({ sub: 'x', exp: undefined }, { header: { typ: undefined } });
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
    expect(payload).not.toHaveProperty('exp');
    expect(decodeProtectedHeader(token)).not.toHaveProperty('typ');
  });

  it('publishes a discovery document naming its issuer and JWKS', async () => {
    const response = await fetch(idp.discoveryUrl);
    const document = (await response.json()) as Record<string, unknown>;
    expect(document['issuer']).toBe(idp.issuer);
    expect(document['jwks_uri']).toBe(idp.jwksUrl);
  });

  it('uses RFC 7638 thumbprints as kid', async () => {
    for (const jwk of idp.jwks().keys) {
      expect(jwk.kid).toBe(await calculateJwkThumbprint(jwk));
    }
  });

  it('keeps private keys in 0600 files', () => {
    for (const key of idp.keys()) {
      const mode = statSync(join(keysDir, `${key.kid}.key.pem`)).mode & 0o777;
      expect(mode).toBe(0o600);
    }
  });
});

describe('test IdP key lifecycle', () => {
  it('keeps the same keys across a restart, so old tokens still verify', async () => {
    const keysDir = tempKeysDir();
    const first = await startIdp({ port: 0, keysDir });
    const token = first.mint({ sub: 'acme-producer' });
    const kids = first.keys().map((k) => k.kid);
    await first.stop();

    const second = await startIdp({ port: first.port, keysDir });
    try {
      expect(second.keys().map((k) => k.kid)).toEqual(kids);
      await expect(verifyWith(second, token)).resolves.toBeDefined();
    } finally {
      await second.stop();
    }
  });

  it('rotates with overlap: old kid stays published until retired', async () => {
    const idp = await startIdp({ port: 0, keysDir: tempKeysDir() });
    try {
      const oldToken = idp.mint({ sub: 'a' });
      const oldKid = idp.currentKey('ES256').kid;
      const newKid = idp.rotate('ES256').kid;

      expect(newKid).not.toBe(oldKid);
      expect(decodeProtectedHeader(idp.mint({ sub: 'a' })).kid).toBe(newKid);
      expect(idp.jwks().keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
      await expect(verifyWith(idp, oldToken)).resolves.toBeDefined();

      idp.retire(oldKid);
      expect(idp.jwks().keys.map((k) => k.kid)).not.toContain(oldKid);
      const failure = await failureOf(verifyWith(idp, oldToken));
      expect((failure as { code?: string }).code).toBe('ERR_JWKS_NO_MATCHING_KEY');
      // A retired key still signs on request, for "key removed" scenarios.
      expect(decodeProtectedHeader(idp.mint({}, { kid: oldKid })).kid).toBe(oldKid);
    } finally {
      await idp.stop();
    }
  });

  it('refuses to retire the current key of an alg', async () => {
    const idp = await startIdp({ port: 0, keysDir: tempKeysDir() });
    try {
      const failure = (() => {
        try {
          idp.retire(idp.currentKey('RS256').kid);
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(isWarrenError(failure, ErrorCode.IdpState)).toBe(true);
    } finally {
      await idp.stop();
    }
  });

  it('publishes a rotation made by another process on the same folder without restart', async () => {
    const keysDir = tempKeysDir();
    const idp = await startIdp({ port: 0, keysDir });
    try {
      const rotated = KeyStore.open(keysDir).rotate('EdDSA');
      const response = await fetch(idp.jwksUrl);
      const jwks = (await response.json()) as { keys: { kid: string }[] };
      expect(jwks.keys.map((k) => k.kid)).toContain(rotated.kid);
      expect(idp.currentKey('EdDSA').kid).toBe(rotated.kid);
    } finally {
      await idp.stop();
    }
  });

  it('rejects a port out of range and a taken port with stable codes', async () => {
    await expect(startIdp({ port: 70_000, keysDir: tempKeysDir() })).rejects.toSatisfy((e) =>
      isWarrenError(e, ErrorCode.BadOption),
    );
    const idp = await startIdp({ port: 0, keysDir: tempKeysDir() });
    try {
      await expect(startIdp({ port: idp.port, keysDir: tempKeysDir() })).rejects.toSatisfy((e) =>
        isWarrenError(e, ErrorCode.PortInUse),
      );
    } finally {
      await idp.stop();
    }
  });
});

describe('test IdP JWKS modes', () => {
  let idp: RunningIdp;
  beforeAll(async () => {
    idp = await startIdp({ port: 0, keysDir: tempKeysDir() });
  });
  afterAll(async () => {
    await idp.stop();
  });

  it.each([
    // jose reports an unparsable body as a generic error, a wrong shape as an invalid JWKS.
    ['invalid-json', 'ERR_JOSE_GENERIC'],
    ['html', 'ERR_JOSE_GENERIC'],
    ['not-a-jwks', 'ERR_JWKS_INVALID'],
    ['http-500', 'ERR_JOSE_GENERIC'],
  ] as const)('broken (%s): jose fails with %s and the request is counted', async (kind, code) => {
    const token = idp.mint({ sub: 'a' });
    await idp.setJwksMode('broken', { broken: kind });
    idp.resetCounters();
    try {
      const failure = await failureOf(verifyWith(idp, token));
      expect((failure as { code?: string }).code).toBe(code);
      expect(idp.counters().jwks).toBe(1);
    } finally {
      await idp.setJwksMode('ok');
    }
  });

  it('unreachable (destroy): the fetch fails and the request is counted', async () => {
    const token = idp.mint({ sub: 'a' });
    await idp.setJwksMode('unreachable');
    idp.resetCounters();
    try {
      const failure = await failureOf(verifyWith(idp, token));
      expect(failure).toBeInstanceOf(TypeError);
      expect(failure.message).toBe('fetch failed');
      expect(idp.counters().jwks).toBeGreaterThanOrEqual(1);
    } finally {
      await idp.setJwksMode('ok');
    }
  });

  it('unreachable (close): connections are refused, then the same port serves again', async () => {
    const token = idp.mint({ sub: 'a' });
    await idp.setJwksMode('unreachable', { unreachable: 'close' });
    const failure = await failureOf(fetch(idp.discoveryUrl));
    expect((failure.cause as { code?: string }).code).toBe('ECONNREFUSED');

    await idp.setJwksMode('ok');
    await expect(verifyWith(idp, token)).resolves.toBeDefined();
  });

  it('slow: a client with a shorter timeout gives up, the request still counts', async () => {
    const token = idp.mint({ sub: 'a' });
    await idp.setJwksMode('slow', { delayMs: 400 });
    idp.resetCounters();
    try {
      const failure = await failureOf(verifyWith(idp, token, { timeoutMs: 50 }));
      expect((failure as { code?: string }).code).toBe('ERR_JWKS_TIMEOUT');
      expect(idp.counters().jwks).toBe(1);
    } finally {
      await idp.setJwksMode('ok');
    }
  });

  it('empty: a valid JWKS without keys matches no token', async () => {
    const token = idp.mint({ sub: 'a' });
    await idp.setJwksMode('empty');
    try {
      const failure = await failureOf(verifyWith(idp, token));
      expect((failure as { code?: string }).code).toBe('ERR_JWKS_NO_MATCHING_KEY');
    } finally {
      await idp.setJwksMode('ok');
    }
  });

  it('counts each JWKS request with its arrival time, and nothing else as JWKS', async () => {
    idp.resetCounters();
    await fetch(idp.jwksUrl);
    await fetch(idp.jwksUrl);
    await fetch(idp.discoveryUrl);
    await fetch(`${idp.issuer}/nowhere`);
    const counters = idp.counters();
    expect(counters).toMatchObject({ jwks: 2, discovery: 1, notFound: 1 });
    expect(counters.jwksAtMs).toHaveLength(2);
  });

  it('serves hosted files and counts them by path', async () => {
    const url = idp.hostFile('/attacker/jwks.json', {
      contentType: 'application/json',
      body: '{}',
    });
    idp.resetCounters();
    expect(await (await fetch(url)).text()).toBe('{}');
    expect(idp.counters().hosted).toEqual({ '/attacker/jwks.json': 1 });
  });
});
