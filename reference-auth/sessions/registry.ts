/**
 * Closes the "HTTP logins never expire" gap (RABBITMQ.md section 3): the broker sends the token
 * only to the user path, so every allowed login is recorded here with its binding and expiry,
 * and vhost/resource/topic checks for that username are decided against the live records.
 *
 * Intersection rule: a username may hold several live logins (token refresh, several clients,
 * a token and a certificate sharing a name). The later checks carry only the username, so the
 * service cannot tell which connection asks; it allows only what every live login allows.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../controls.js';
import type { Binding } from '../policy/engine.js';

const maxLapsedUsernames = 100_000;

/** One recorded login. */
export interface Session {
  /** Generated at the first login with this key; carried by later decision records. */
  sessionId: string;
  username: string;
  binding: Binding;
  /** When the login stops counting (token `exp`, or the configured lifetime), ms since epoch. */
  expiresAtMs: number;
  createdAtMs: number;
  /** Deduplicates repeated logins of the same credential (jti or a short token hash). */
  key: string;
}

/** Why a session ended; the ops side evicts broker connections on these. */
export type SessionEndReason = 'expired' | 'revoked' | 'killed' | 'replaced';

export interface SessionEndEvent {
  username: string;
  session: Session;
  reason: SessionEndReason;
  /** True when the username has no live session left. */
  lastForUsername: boolean;
}

/** Live sessions for one username, and whether any had lapsed before this call. */
export interface LiveSessions {
  sessions: Session[];
  /** True when the username had sessions that are now expired (vs. never logged in). */
  lapsed: boolean;
}

/** Per-username login records with expiry. */
export class SessionRegistry {
  private readonly byUsername = new Map<string, Session[]>();
  private readonly lapsedUsernames = new Set<string>();
  private readonly listeners: Array<(event: SessionEndEvent) => void> = [];

  constructor(
    private readonly clock: Clock,
    private readonly maxPerUsername: number,
  ) {}

  /** Records (or renews) a login and returns its session. */
  record(username: string, binding: Binding, expiresAtMs: number, key: string): Session {
    const now = this.clock.nowMs();
    const list = (this.byUsername.get(username) ?? []).filter((s) => s.expiresAtMs > now);
    const existing = list.find((s) => s.key === key);
    if (existing) {
      existing.binding = binding;
      existing.expiresAtMs = Math.max(existing.expiresAtMs, expiresAtMs);
      return existing;
    }
    const session: Session = {
      sessionId: randomUUID(),
      username,
      binding,
      expiresAtMs,
      createdAtMs: now,
      key,
    };
    list.push(session);
    while (list.length > this.maxPerUsername) {
      const dropped = list.shift() as Session;
      this.emit({ username, session: dropped, reason: 'replaced', lastForUsername: false });
    }
    this.byUsername.set(username, list);
    this.lapsedUsernames.delete(username);
    return session;
  }

  /** Unexpired sessions of a username at the clock's current time. */
  live(username: string): LiveSessions {
    const now = this.clock.nowMs();
    const list = this.byUsername.get(username);
    if (!list) return { sessions: [], lapsed: this.lapsedUsernames.has(username) };
    const sessions = list.filter((s) => s.expiresAtMs > now);
    return {
      sessions,
      lapsed: sessions.length < list.length || this.lapsedUsernames.has(username),
    };
  }

  /** Ends every session the predicate selects; returns the affected usernames. */
  endWhere(predicate: (session: Session) => boolean, reason: SessionEndReason): string[] {
    const affected: string[] = [];
    for (const [username, list] of this.byUsername) {
      const ending = list.filter(predicate);
      if (ending.length === 0) continue;
      const kept = list.filter((s) => !predicate(s));
      this.store(username, kept);
      ending.forEach((session) =>
        this.emit({ username, session, reason, lastForUsername: kept.length === 0 }),
      );
      affected.push(username);
    }
    return affected;
  }

  /** Drops expired sessions and reports them; the composition root calls this on a timer. */
  sweep(): string[] {
    const now = this.clock.nowMs();
    return this.endWhere((s) => s.expiresAtMs <= now, 'expired');
  }

  /** All live sessions (for the admin status endpoint). */
  all(): Session[] {
    const now = this.clock.nowMs();
    return [...this.byUsername.values()].flat().filter((s) => s.expiresAtMs > now);
  }

  /** Subscribes to session ends (expiry, revocation, kill, replacement). */
  onEnd(listener: (event: SessionEndEvent) => void): void {
    this.listeners.push(listener);
  }

  private store(username: string, kept: Session[]): void {
    if (kept.length > 0) {
      this.byUsername.set(username, kept);
      return;
    }
    this.byUsername.delete(username);
    // Remembered so a later check says "session expired" rather than "never logged in"; the
    // set is capped (clearing only changes that reason code, never the verdict).
    if (this.lapsedUsernames.size >= maxLapsedUsernames) this.lapsedUsernames.clear();
    this.lapsedUsernames.add(username);
  }

  private emit(event: SessionEndEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A failing listener (e.g. an eviction client) must not break the decision path.
      }
    }
  }
}
