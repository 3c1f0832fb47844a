/**
 * Tokens for PLAIN logins, minted before a run with the test IdP's keys (harness/idp), so
 * every simulated connection presents a fresh, correctly signed JWT — or, in a credential mix,
 * one with a broken signature or one already expired. Tokens live only in memory.
 */
import { KeyStore } from '../../harness/idp/keys.js';
import { mintToken, type MintContext } from '../../harness/idp/mint.js';
import { defaultAudience, defaultIdpPort } from '../../harness/idp/idp.js';
import { stateDir } from '../../lib/paths.js';
import { loadUsername } from './auth-http.js';
import type { AuthHttpTargetSpec, TargetSecrets } from './spec.js';

/** What minting needs from a target spec (auth-http and amqp-connect both have it). */
export type TokenSpec = Pick<AuthHttpTargetSpec, 'tenant' | 'workload' | 'users' | 'credentials'>;

/** Where minting gets its keys and issuer; defaults are the shared test IdP's. */
export interface MintSettings {
  /** Default `stateDir('idp')`, the keys the IdP on 127.0.0.1:8700 serves. */
  keysDir?: string;
  /** Default `http://127.0.0.1:8700`. */
  issuer?: string;
  /** Token lifetime, seconds; must outlast the run. */
  lifetimeSeconds: number;
}

/** Mints one token per user and credential kind present in the spec's mix. */
export function mintLoadTokens(spec: TokenSpec, settings: MintSettings): TargetSecrets {
  const context: MintContext = {
    store: KeyStore.open(settings.keysDir ?? stateDir('idp')),
    issuer: settings.issuer ?? `http://127.0.0.1:${defaultIdpPort}`,
    audience: defaultAudience,
    nowMs: Date.now,
  };
  const nowSeconds = Math.floor(Date.now() / 1000);
  const claimsOf = (n: number): Record<string, unknown> => ({
    sub: loadUsername(spec, n),
    tenant_id: spec.tenant,
    workload: spec.workload,
  });
  const users = Array.from({ length: spec.users }, (_, n) => n);
  const mix = spec.credentials;
  const valid = users.map((n) =>
    mintToken(context, claimsOf(n), { expiresInSeconds: settings.lifetimeSeconds }),
  );
  const invalid = mix.invalid > 0 ? valid.map(breakSignature) : [];
  const expired =
    mix.expired > 0
      ? users.map((n) =>
          mintToken(context, claimsOf(n), { issuedAt: nowSeconds - 3600, expiresInSeconds: 600 }),
        )
      : [];
  return { tokens: { valid, invalid, expired } };
}

/** Flips the signature's first character: a well-formed token no key verifies. */
function breakSignature(token: string): string {
  const dot = token.lastIndexOf('.');
  const first = token[dot + 1] === 'A' ? 'B' : 'A';
  return `${token.slice(0, dot + 1)}${first}${token.slice(dot + 2)}`;
}
