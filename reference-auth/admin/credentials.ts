/**
 * Admin listener credentials: a bearer token or basic credentials, checked in constant time.
 * Both sides are hashed first so the comparison never depends on lengths or common prefixes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { AuthErrorCode, AuthServiceError } from '../errors.js';

/** Shortest accepted bearer token or password, characters: guessing must stay out of reach. */
export const MIN_SECRET_LENGTH = 16;

/** What the admin listener accepts; at least one form must be configured. */
export interface AdminCredentials {
  /** Bearer token (`Authorization: Bearer …`). */
  token?: string;
  /** Basic credentials (`Authorization: Basic …`); both or neither. */
  username?: string;
  password?: string;
}

/** Checks an `Authorization` header value against the configured credentials. */
export type AuthorizationCheck = (header: string | undefined) => boolean;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function sameSecret(expected: Buffer, given: string): boolean {
  return timingSafeEqual(expected, digest(given));
}

/**
 * Validates the credentials and returns the header check. Throws AuthServiceError(BadConfig)
 * when none are configured or one is too short: the admin API never starts open.
 */
export function createAuthorizationCheck(credentials: AdminCredentials): AuthorizationCheck {
  const { token, username, password } = credentials;
  const hasBasic = Boolean(username) || Boolean(password);
  if (!token && !hasBasic) {
    throw new AuthServiceError(
      AuthErrorCode.BadConfig,
      'admin listener has no credentials: set admin.token (WARREN_AUTH_ADMIN_TOKEN) or ' +
        'admin.username and admin.password, or disable it with admin.enabled = false',
    );
  }
  if (hasBasic && (!username || !password)) {
    throw new AuthServiceError(
      AuthErrorCode.BadConfig,
      'admin.username and admin.password must be set together',
    );
  }
  for (const [field, secret] of [
    ['admin.token', token],
    ['admin.password', password],
  ] as const) {
    if (secret !== undefined && secret !== '' && secret.length < MIN_SECRET_LENGTH) {
      throw new AuthServiceError(
        AuthErrorCode.BadConfig,
        `${field} is shorter than ${MIN_SECRET_LENGTH} characters; use a long random value`,
      );
    }
  }

  const tokenDigest = token ? digest(token) : undefined;
  const userDigest = username ? digest(username) : undefined;
  const passwordDigest = password ? digest(password) : undefined;

  return (header) => {
    if (!header) return false;
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (space <= 0 || value === '') return false;
    if (scheme === 'bearer') return tokenDigest !== undefined && sameSecret(tokenDigest, value);
    if (scheme !== 'basic' || !userDigest || !passwordDigest) return false;
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    // Both halves are always compared: which one failed must not show in the timing.
    const userOk = sameSecret(userDigest, decoded.slice(0, colon));
    const passwordOk = sameSecret(passwordDigest, decoded.slice(colon + 1));
    return userOk && passwordOk;
  };
}
