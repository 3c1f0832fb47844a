/**
 * Legacy static users: salted scrypt hashes (node:crypto) compared in constant time.
 * Hash format: `scrypt$N$r$p$<salt base64>$<hash base64>`; make one with `hashPassword`.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost parameters; N=16384, r=8, p=1 is node's default and OWASP's minimum. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

const defaultParams: ScryptParams = { N: 16384, r: 8, p: 1 };
const keyLengthBytes = 32;

function derive(
  password: string,
  salt: Buffer,
  params: ScryptParams,
  length: number,
): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 128 * params.N * params.r * 2 };
  return new Promise((resolve, reject) =>
    scrypt(password, salt, length, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** Hashes a password into the policy file's format. */
export async function hashPassword(
  password: string,
  params: ScryptParams = defaultParams,
): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, params, keyLengthBytes);
  return [
    'scrypt',
    params.N,
    params.r,
    params.p,
    salt.toString('base64'),
    hash.toString('base64'),
  ].join('$');
}

/** Verifies a password against a stored hash in constant time; false on any malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4] as string, 'base64');
  const expected = Buffer.from(parts[5] as string, 'base64');
  if (expected.length === 0 || ![N, r, p].every(Number.isSafeInteger)) return false;
  try {
    const actual = await derive(password, salt, { N, r, p }, expected.length);
    return timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
}

/**
 * A hash no password matches in practice, verified for unknown usernames so a login for a
 * missing user costs the same time as one for an existing user (no username probing by timing).
 */
export const decoyHash = `scrypt$16384$8$1$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`;
