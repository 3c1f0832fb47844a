/**
 * The eviction operator: the least-privileged identity reference-auth needs to close other
 * users' connections through the RabbitMQ management API when the HTTP backend is the broker's
 * only auth backend.
 *
 * What the broker asks for (rabbitmq_management, `rabbit_mgmt_wm_connection_user_name` →
 * `rabbit_mgmt_util:is_authorized_user`): a DELETE on another user's connections needs the
 * `administrator` tag; GET would need `monitoring`. Every management request first logs in
 * through the auth backends (user path only: no vhost is asked), so the operator needs a login
 * that yields that tag and no vhost, resource or topic grant at all.
 *
 * This module adds such a user to a policy: a class with `tags: [administrator]`, no vhosts and
 * no grants, and a static user of that class with no tenant (so no tenant kill switch blocks
 * evictions, and every `{tenant}` pattern is void for it). Its password is made per deployment
 * (or per run) and given to the service only through `WARREN_AUTH_MANAGEMENT_PASSWORD`.
 */
import { randomBytes } from 'node:crypto';

import { parseDocument } from 'yaml';

import { AuthErrorCode, AuthServiceError } from '../errors.js';
import { hashPassword, type ScryptParams } from '../identity/static-users.js';

/** Name of the class the operator belongs to. */
export const evictionOperatorClass = 'eviction-operator';

/** Default username of the operator. */
export const defaultEvictionOperatorUsername = 'reference-auth-evictor';

/** A freshly made operator: the plaintext password goes to the service's environment only. */
export interface EvictionOperatorCredentials {
  username: string;
  /** Plaintext; never logged, never written to a file. */
  password: string;
  /** `scrypt$…` hash for the policy's static user. */
  passwordHash: string;
}

/** Options of {@link createEvictionOperator}. */
export interface EvictionOperatorOptions {
  /** Default {@link defaultEvictionOperatorUsername}. */
  username?: string;
  /** scrypt cost; default the service's defaults (N=16384, r=8, p=1). */
  scrypt?: ScryptParams;
}

/** Makes a random password (32 bytes, base64url) and its scrypt hash. */
export async function createEvictionOperator(
  options: EvictionOperatorOptions = {},
): Promise<EvictionOperatorCredentials> {
  const password = randomBytes(32).toString('base64url');
  const passwordHash = await hashPassword(password, options.scrypt);
  return {
    username: options.username ?? defaultEvictionOperatorUsername,
    password,
    passwordHash,
  };
}

/**
 * Returns `policyText` with the eviction operator's class and static user added. Throws
 * AuthServiceError(BadConfig) when the class or the username already exists (never merges
 * into a class someone else defined, which could widen it).
 */
export function withEvictionOperator(
  policyText: string,
  operator: Pick<EvictionOperatorCredentials, 'username' | 'passwordHash'>,
): string {
  const document = parseDocument(policyText);
  if (document.errors.length > 0)
    throw new AuthServiceError(
      AuthErrorCode.BadConfig,
      `policy: not YAML (${document.errors[0]?.message ?? 'parse error'})`,
    );
  if (document.hasIn(['classes', evictionOperatorClass]))
    throw new AuthServiceError(
      AuthErrorCode.BadConfig,
      `policy: class "${evictionOperatorClass}" already exists; remove it or add the operator by hand`,
    );
  const existing = document.getIn(['identities', 'staticUsers']) as
    { toJSON(): unknown } | undefined;
  const users = (existing?.toJSON() ?? []) as Array<{ username?: string }>;
  if (users.some((user) => user.username === operator.username))
    throw new AuthServiceError(
      AuthErrorCode.BadConfig,
      `policy: static user "${operator.username}" already exists`,
    );
  document.setIn(['classes', evictionOperatorClass], {
    description: 'reference-auth closing connections through the management API; nothing else',
    vhosts: [],
    tags: ['administrator'],
    grants: [],
  });
  document.setIn(
    ['identities', 'staticUsers'],
    [
      ...users,
      {
        username: operator.username,
        passwordHash: operator.passwordHash,
        class: evictionOperatorClass,
      },
    ],
  );
  return document.toString();
}
