/**
 * Turning a scenario's Given into what the broker would send at login: a username and, unless
 * the login is EXTERNAL, a password (a token minted or forged by the test IdP, or static
 * credentials from the profile).
 */
import { createHash, randomUUID } from 'node:crypto';

import type { Given } from './model.js';
import type { Profile, ProfileIdentity } from './profile.js';
import { fill, resolveTime } from './template.js';
import type { TimeContext } from './template.js';

/** Key families the test IdP signs with. */
export type SigningAlg = 'ES256' | 'RS256' | 'EdDSA';

/** The IdP behaviours a run can switch (RABBITMQ.md has none of this: it is the IdP side). */
export type JwksState = 'normal' | 'broken' | 'empty' | 'unreachable';

/** Input of a forge builder: the identity forged tokens claim, and one the attacker holds. */
export interface ForgeInput {
  /** Claims of the target identity (the profile identity of the scenario). */
  claims: Record<string, unknown>;
  /** Claims of the attacker's own identity (base for tampering); default: the target's. */
  ownClaims?: Record<string, unknown>;
}

/** A forged token and the username to present it with (the claimed `sub`). */
export interface ForgedLogin {
  token: string;
  username: string;
}

/** What the runner needs from the test IdP; scenarios/idp.ts adapts harness/idp to it. */
export interface IdpControl {
  readonly issuer: string;
  readonly jwksUrl: string;
  /** Mints a token signed by the current key; `undefined` claim values are left out. */
  mint(
    claims: Record<string, unknown>,
    header?: Record<string, unknown>,
    alg?: SigningAlg,
  ): Promise<string>;
  /** Ids of the forge builders, for catalogue checks. */
  forgeIds(): readonly string[];
  /** Builds a forged token with builder `id` from valid-looking claims. */
  forge(id: string, input: ForgeInput): Promise<ForgedLogin>;
  /** Makes a new current key for `alg` (default ES256); the old one stays published. */
  rotate(alg?: SigningAlg): Promise<void>;
  setJwks(state: JwksState): Promise<void>;
  /** JWKS requests seen by the IdP since it started. */
  jwksRequests(): number;
}

/** The login a scenario performs, as the broker would send it. */
export interface LoginIdentity {
  kind: 'jwt' | 'external' | 'static' | 'none';
  username: string;
  /** Absent for EXTERNAL: the broker sends no password key. */
  password?: string;
  /** Claims used (jwt only), after time resolution; for `wait: untilExpired`. */
  claims?: Record<string, unknown>;
  /** Tags the profile says this identity must get. */
  expectedTags: string[];
}

/** A short, non-secret handle for a credential, for transcripts: `sha256:1a2b3c4d`. */
export function secretHandle(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex').slice(0, 8)}`;
}

function profileIdentity(profile: Profile, name: string): ProfileIdentity {
  const identity = profile.identities[name];
  if (identity === undefined) {
    throw new Error(`the profile defines no identity "${name}"`);
  }
  return identity;
}

/** Claims for a jwt identity: issuer, audience and times, then the profile's, then overrides. */
export function buildClaims(
  base: Record<string, unknown>,
  overrides: Record<string, unknown>,
  context: { issuer: string; audience: string; time: TimeContext },
): Record<string, unknown> {
  const merged: Record<string, unknown> = {
    iss: context.issuer,
    aud: context.audience,
    iat: 'now',
    nbf: 'now',
    exp: 'now+life',
    jti: randomUUID(),
    ...base,
    ...overrides,
  };
  const claims: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(merged)) {
    // null in a scenario means "leave this claim out".
    claims[key] = value === null ? undefined : resolveTime(value, context.time);
  }
  return claims;
}

/** Everything identity resolution needs besides the scenario. */
export interface IdentityContext {
  profile: Profile;
  idp: IdpControl;
  vars: Record<string, string>;
  time: TimeContext;
}

/** Resolves Given into a login; placeholders are filled from `vars` first. */
export async function resolveIdentity(
  given: Given,
  context: IdentityContext,
): Promise<LoginIdentity> {
  const filled = fill(given, context.vars);
  if (filled.external !== undefined) {
    return { kind: 'external', username: filled.external, expectedTags: [] };
  }
  if (filled.password !== undefined) {
    return {
      kind: 'static',
      username: filled.username ?? '',
      password: filled.password,
      expectedTags: [],
    };
  }
  if (filled.identity === undefined) {
    return { kind: 'none', username: filled.username ?? '', expectedTags: [] };
  }
  const identity = fill(profileIdentity(context.profile, filled.identity), context.vars);
  if ('external' in identity) {
    return {
      kind: 'external',
      username: filled.username ?? identity.external,
      expectedTags: identity.tags,
    };
  }
  if ('password' in identity) {
    return {
      kind: 'static',
      username: filled.username ?? identity.username,
      password: identity.password,
      expectedTags: identity.tags,
    };
  }
  return resolveToken(filled, identity, context);
}

async function resolveToken(
  given: Given,
  identity: { claims: Record<string, unknown>; tags: string[] },
  context: IdentityContext,
): Promise<LoginIdentity> {
  const claims = buildClaims(identity.claims, given.claims ?? {}, {
    issuer: context.idp.issuer,
    audience: context.profile.token.audience,
    time: context.time,
  });
  // The AMQP username is the token's subject unless the scenario sends another on purpose.
  const sub = typeof claims['sub'] === 'string' ? claims['sub'] : '';
  if (given.forge !== undefined) {
    const own = context.profile.identities['consumer'];
    const ownClaims =
      own !== undefined && 'claims' in own ? fill(own.claims, context.vars) : undefined;
    const forged = await context.idp.forge(given.forge, {
      claims: identity.claims,
      ...(ownClaims === undefined ? {} : { ownClaims }),
    });
    const username = given.username ?? forged.username;
    return { kind: 'jwt', username, password: forged.token, expectedTags: identity.tags };
  }
  const username = given.username ?? sub;
  const password =
    given.rawToken !== undefined
      ? given.rawToken
      : await context.idp.mint(claims, given.header, given.alg);
  return { kind: 'jwt', username, password, claims, expectedTags: identity.tags };
}
