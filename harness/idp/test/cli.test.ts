import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';

import { repoRoot } from '../../../lib/paths.js';

const run = promisify(execFile);
const stateDir = mkdtempSync(join(tmpdir(), 'warren-idp-cli-'));

afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

/** Runs `scripts/idp.ts` like `npm run idp --` does, with its own state folder. */
async function idpCli(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const options = { cwd: repoRoot, env: { ...process.env, WARREN_STATE_DIR: stateDir } };
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'scripts/idp.ts', ...args],
      options,
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run idp', () => {
  it('token prints only a token that verifies against the printed JWKS', async () => {
    const minted = await idpCli(
      'token',
      '--sub',
      'acme-producer',
      '--claim',
      'tenant_id=acme',
      '--claim-json',
      'level=3',
      '--alg',
      'EdDSA',
      '--expires-in',
      '60',
    );
    expect(minted.code).toBe(0);
    expect(minted.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);

    const jwks = JSON.parse((await idpCli('jwks')).stdout) as JSONWebKeySet;
    const { payload, protectedHeader } = await jwtVerify(
      minted.stdout.trim(),
      createLocalJWKSet(jwks),
      { algorithms: ['EdDSA'], issuer: 'http://127.0.0.1:8700', audience: 'rabbitmq' },
    );
    expect(protectedHeader.alg).toBe('EdDSA');
    expect(payload).toMatchObject({ sub: 'acme-producer', tenant_id: 'acme', level: 3 });
    expect(Number(payload.exp) - Number(payload.iat)).toBe(60);
  });

  it('rotate publishes a new kid beside the old one', async () => {
    const rotated = await idpCli('rotate', '--alg', 'RS256');
    const jwks = JSON.parse((await idpCli('jwks')).stdout) as JSONWebKeySet;

    expect(rotated.code).toBe(0);
    const newKid = /kid (\S+)/.exec(rotated.stdout)?.[1];
    expect(jwks.keys.map((k) => k.kid)).toContain(newKid);
    expect(jwks.keys.filter((k) => k.alg === 'RS256')).toHaveLength(2);
  });

  it.each([
    [['token'], '--sub'],
    [['token', '--sub', 'x', '--alg', 'HS256'], '--alg'],
    [['launch'], 'usage'],
  ])('%j exits 2 naming %s, with nothing on stdout', async (args, named) => {
    const outcome = await idpCli(...args);
    expect(outcome.code).toBe(2);
    expect(outcome.stdout).toBe('');
    expect(outcome.stderr).toContain(named);
  });
});
