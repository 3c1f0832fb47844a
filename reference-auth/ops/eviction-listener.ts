/**
 * Turns the composition root's eviction events (server.ts `onEvict`: a username's last login
 * expired, or its identity was revoked or killed) into management API evictions.
 * The core decides which usernames are affected (it holds the sessions); this side closes them.
 */
import type { EvictionListener, EvictionReason } from '../extensions.js';
import type { Evictor } from './eviction.js';
import type { EvictionTrigger } from './metrics.js';

const TRIGGER: Record<EvictionReason, EvictionTrigger> = {
  expired: 'token_expired',
  revoked: 'revoked',
  killed: 'killed',
};

/**
 * An EvictionListener that evicts in the background; failures are logged and counted by the
 * evictor and never thrown into the caller. When the core passes the trigger time (a token's
 * `exp`) as a third argument, the lag metric runs from it; otherwise from the event itself.
 */
export function createEvictionListener(
  evictor: Evictor,
  nowMs: () => number = Date.now,
): EvictionListener & ((username: string, reason: EvictionReason, atMs?: number) => void) {
  return (username, reason, atMs?: number) => {
    void evictor.evict({ username, trigger: TRIGGER[reason], triggeredAtMs: atMs ?? nowMs() });
  };
}
