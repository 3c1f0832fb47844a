/**
 * Runtime controls the admin API drives: the kill switch and the revocation list.
 * Both are interfaces so an operator can back them with shared storage; the in-memory versions
 * here are what the service uses unless the composition root is given others.
 * Every change notifies listeners, which invalidate the decision cache and end sessions.
 */
import { randomUUID } from 'node:crypto';
import { compilePattern } from './policy/patterns.js';

/** Wall-clock source, injectable so tests control time instead of sleeping through it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
}

/** The real clock. */
export const systemClock: Clock = { nowMs: () => Date.now() };

/** Who a decision is about, as far as the controls care. */
export interface Subject {
  /** JWT subject, certificate identity or static username. */
  identity: string;
  tenant: string;
  /** Token id, for JWT logins that carried one. */
  jti?: string;
}

/** What a vhost/resource/topic request touches, for route kills. */
export interface RouteTarget {
  vhost?: string;
  resource?: string;
  name?: string;
  routingKey?: string;
}

/** A kill switch rule: everything matching it is denied at once. */
export type KillRule =
  | { kind: 'identity'; identity: string }
  | { kind: 'tenant'; tenant: string }
  /**
   * A route: vhost plus optional resource kind, name pattern and routing-key pattern, in the
   * policy's pattern language (`*` one word, `#` any words).
   */
  | { kind: 'route'; vhost: string; resource?: string; name?: string; routingKey?: string };

/** A stored kill rule with its id and creation time. */
export type KillEntry = KillRule & { id: string; createdAtMs: number };

/** Kill switch storage; `matches` must be cheap, it runs on every decision. */
export interface KillSwitchStore {
  /** Adds a rule and returns its id. */
  engage(rule: KillRule): KillEntry;
  /** Removes a rule; false when the id is unknown. */
  release(id: string): boolean;
  list(): KillEntry[];
  /** The first rule denying this subject (and target, for route rules), if any. */
  matches(subject: Subject, target?: RouteTarget): KillEntry | undefined;
  /** Called after every change. */
  onChange(listener: (entry: KillEntry, engaged: boolean) => void): void;
}

/** What can be revoked. */
export type RevocationRule =
  | { kind: 'jti'; jti: string }
  | { kind: 'subject'; subject: string }
  | { kind: 'certificate'; identity: string };

/** A stored revocation with its creation time. */
export type RevocationEntry = RevocationRule & { createdAtMs: number };

/** Revocation storage; `matches` runs on every login and decision. */
export interface RevocationStore {
  revoke(rule: RevocationRule): RevocationEntry;
  /** Removes a revocation; false when it was not there. */
  restore(rule: RevocationRule): boolean;
  list(): RevocationEntry[];
  /** The revocation covering this subject, if any. */
  matches(
    subject: Subject & { kind: 'jwt' | 'certificate' | 'static' },
  ): RevocationEntry | undefined;
  onChange(listener: (entry: RevocationEntry, revoked: boolean) => void): void;
}

/** In-memory kill switch. */
export class MemoryKillSwitch implements KillSwitchStore {
  private readonly entries = new Map<string, KillEntry & { test?: (t: RouteTarget) => boolean }>();
  private readonly listeners: Array<(entry: KillEntry, engaged: boolean) => void> = [];

  constructor(private readonly clock: Clock = systemClock) {}

  engage(rule: KillRule): KillEntry {
    const entry: KillEntry = { ...rule, id: randomUUID(), createdAtMs: this.clock.nowMs() };
    this.entries.set(entry.id, {
      ...entry,
      test: rule.kind === 'route' ? routeTest(rule) : undefined,
    });
    this.listeners.forEach((l) => l(entry, true));
    return entry;
  }

  release(id: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    this.listeners.forEach((l) => l(stripTest(entry), false));
    return true;
  }

  list(): KillEntry[] {
    return [...this.entries.values()].map(stripTest);
  }

  matches(subject: Subject, target?: RouteTarget): KillEntry | undefined {
    for (const entry of this.entries.values()) {
      if (entry.kind === 'identity' && entry.identity === subject.identity) return stripTest(entry);
      if (entry.kind === 'tenant' && entry.tenant === subject.tenant) return stripTest(entry);
      if (entry.kind === 'route' && target && entry.test?.(target)) return stripTest(entry);
    }
    return undefined;
  }

  onChange(listener: (entry: KillEntry, engaged: boolean) => void): void {
    this.listeners.push(listener);
  }
}

function stripTest(entry: KillEntry & { test?: unknown }): KillEntry {
  const copy = { ...entry };
  delete copy.test;
  return copy as KillEntry;
}

function routeTest(rule: Extract<KillRule, { kind: 'route' }>): (t: RouteTarget) => boolean {
  const vhost = compilePattern(rule.vhost, {});
  const name = rule.name === undefined ? undefined : compilePattern(rule.name, {});
  const key = rule.routingKey === undefined ? undefined : compilePattern(rule.routingKey, {});
  return (t) =>
    t.vhost !== undefined &&
    vhost.test(t.vhost) &&
    (rule.resource === undefined || rule.resource === t.resource) &&
    (name === undefined || (t.name !== undefined && name.test(t.name))) &&
    (key === undefined || (t.routingKey !== undefined && key.test(t.routingKey)));
}

/** In-memory revocation list. */
export class MemoryRevocations implements RevocationStore {
  private readonly entries = new Map<string, RevocationEntry>();
  private readonly listeners: Array<(entry: RevocationEntry, revoked: boolean) => void> = [];

  constructor(private readonly clock: Clock = systemClock) {}

  revoke(rule: RevocationRule): RevocationEntry {
    const entry: RevocationEntry = { ...rule, createdAtMs: this.clock.nowMs() };
    this.entries.set(revocationKey(rule), entry);
    this.listeners.forEach((l) => l(entry, true));
    return entry;
  }

  restore(rule: RevocationRule): boolean {
    const entry = this.entries.get(revocationKey(rule));
    if (!entry) return false;
    this.entries.delete(revocationKey(rule));
    this.listeners.forEach((l) => l(entry, false));
    return true;
  }

  list(): RevocationEntry[] {
    return [...this.entries.values()];
  }

  matches(
    subject: Subject & { kind: 'jwt' | 'certificate' | 'static' },
  ): RevocationEntry | undefined {
    if (subject.jti !== undefined) {
      const byJti = this.entries.get(revocationKey({ kind: 'jti', jti: subject.jti }));
      if (byJti) return byJti;
    }
    const kind = subject.kind === 'certificate' ? 'certificate' : 'subject';
    return kind === 'certificate'
      ? this.entries.get(revocationKey({ kind, identity: subject.identity }))
      : this.entries.get(revocationKey({ kind, subject: subject.identity }));
  }

  onChange(listener: (entry: RevocationEntry, revoked: boolean) => void): void {
    this.listeners.push(listener);
  }
}

function revocationKey(rule: RevocationRule): string {
  switch (rule.kind) {
    case 'jti':
      return `jti\u0000${rule.jti}`;
    case 'subject':
      return `sub\u0000${rule.subject}`;
    case 'certificate':
      return `cert\u0000${rule.identity}`;
  }
}
