/**
 * What starts an eviction: an identity's last login expiring (reported by the sessions sweep),
 * a revocation, or a kill switch. Connects the controls' change events to the {@link Evictor}.
 */
import type { Logger } from 'pino';

import type { KillRule, KillSwitchStore, RevocationRule, RevocationStore } from '../controls.js';
import type { EvictionResult, Evictor } from './eviction.js';

/** Options of {@link createEvictionTriggers}. */
export interface EvictionTriggersOptions {
  evictor: Evictor;
  /** Kill switch to follow; identity and tenant kills evict, route kills do not. */
  killSwitch?: KillSwitchStore;
  /** Revocations to follow; every kind evicts the usernames it covers. */
  revocations?: RevocationStore;
  /**
   * Usernames with live logins a rule covers (from the sessions store). Needed for tenant kills
   * and `jti` revocations, which name no username. Default: identity, subject and certificate
   * rules name their username; other rules evict nobody.
   */
  usernamesFor?: (rule: KillRule | RevocationRule) => string[];
  logger: Pick<Logger, 'warn'>;
  /** Wall clock, ms since the epoch. Default Date.now. */
  nowMs?: () => number;
}

/** Entry points for triggers the controls do not emit themselves. */
export interface EvictionTriggers {
  /**
   * A username's last unexpired login ended at `expiredAtMs`; call it only when no live login
   * of that username remains, because the DELETE closes all of its connections.
   */
  tokenExpired(username: string, expiredAtMs: number): Promise<EvictionResult>;
}

/** The username a rule names directly, if it names one. */
export function namedUsername(rule: KillRule | RevocationRule): string | undefined {
  if (rule.kind === 'identity') return rule.identity;
  if (rule.kind === 'subject') return rule.subject;
  if (rule.kind === 'certificate') return rule.identity;
  return undefined;
}

/** Subscribes to the controls and returns the entry point for expiry-driven evictions. */
export function createEvictionTriggers(options: EvictionTriggersOptions): EvictionTriggers {
  const nowMs = options.nowMs ?? Date.now;
  const usernamesFor =
    options.usernamesFor ??
    ((rule: KillRule | RevocationRule) => {
      const named = namedUsername(rule);
      return named === undefined ? [] : [named];
    });

  function evictAll(rule: KillRule | RevocationRule, trigger: 'revoked' | 'killed', atMs: number) {
    const usernames = [...new Set(usernamesFor(rule))];
    if (usernames.length === 0 && rule.kind !== 'route') {
      options.logger.warn({ eviction: trigger, kind: rule.kind }, 'no live username to evict');
    }
    for (const username of usernames) {
      // Failures are logged and counted by the evictor; a trigger never throws into the caller.
      void options.evictor.evict({ username, trigger, triggeredAtMs: atMs });
    }
  }

  options.killSwitch?.onChange((entry, engaged) => {
    if (engaged && entry.kind !== 'route') evictAll(entry, 'killed', entry.createdAtMs);
  });
  options.revocations?.onChange((entry, revoked) => {
    if (revoked) evictAll(entry, 'revoked', entry.createdAtMs);
  });

  return {
    tokenExpired: (username, expiredAtMs) =>
      options.evictor.evict({
        username,
        trigger: 'token_expired',
        triggeredAtMs: Math.min(expiredAtMs, nowMs()),
      }),
  };
}
