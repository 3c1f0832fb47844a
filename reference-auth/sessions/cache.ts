/**
 * Cache for repeated vhost/resource/topic decisions. Keys hold only request fields that the
 * broker sends in the clear to every path (never a password or token). Entries expire at the
 * earlier of the TTL and the earliest session expiry of the username, and are dropped on policy
 * reload, revocation, kill switch changes and new logins for the username.
 */
import type { Clock } from '../controls.js';
import type { ReasonCode } from '../decision.js';

/** What the cache returns; the caller adds correlation id and latency. */
export interface CachedDecision {
  verdict: 'allow' | 'deny';
  reason: ReasonCode;
  identity: string;
  tenant?: string;
  sessionId?: string;
  rule?: string;
}

interface Entry {
  value: CachedDecision;
  expiresAtMs: number;
}

/** Bounded per-username decision cache. */
export class DecisionCache {
  private readonly byUsername = new Map<string, Map<string, Entry>>();
  private size = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** Builds a cache key from request fields (path first); callers never pass secrets. */
  static key(fields: ReadonlyArray<string | undefined>): string {
    return fields.map((f) => f ?? '').join('\u0000');
  }

  get(username: string, key: string): CachedDecision | undefined {
    const entry = this.byUsername.get(username)?.get(key);
    if (!entry || entry.expiresAtMs <= this.clock.nowMs()) {
      this.misses += 1;
      return undefined;
    }
    this.hits += 1;
    return entry.value;
  }

  /** Stores a decision valid until `notAfterMs` at the latest. */
  set(username: string, key: string, value: CachedDecision, notAfterMs: number): void {
    if (this.ttlMs <= 0) return;
    if (this.size >= this.maxEntries) this.clear();
    let entries = this.byUsername.get(username);
    if (!entries) {
      entries = new Map();
      this.byUsername.set(username, entries);
    }
    if (!entries.has(key)) this.size += 1;
    entries.set(key, { value, expiresAtMs: Math.min(this.clock.nowMs() + this.ttlMs, notAfterMs) });
  }

  invalidateUsername(username: string): void {
    this.size -= this.byUsername.get(username)?.size ?? 0;
    this.byUsername.delete(username);
  }

  clear(): void {
    this.byUsername.clear();
    this.size = 0;
  }

  get entryCount(): number {
    return this.size;
  }
}
