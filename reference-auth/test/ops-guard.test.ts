import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  createIdentityRateLimiter,
  createRequestGuard,
  sampleEventLoopDelay,
} from '../ops/guard.js';

const ctx = (username: string) => ({ path: 'resource' as const, username });

describe('per-identity rate limit', () => {
  it('allows a burst, then refills at the sustained rate', () => {
    let now = 0;
    const allow = createIdentityRateLimiter({ ratePerSecond: 10, burst: 3 }, () => now);
    expect([1, 2, 3, 4].map(() => allow('acme-producer'))).toEqual([true, true, true, false]);
    now = 99;
    expect(allow('acme-producer')).toBe(false);
    now = 100;
    expect(allow('acme-producer')).toBe(true);
    expect(allow('acme-producer')).toBe(false);
  });

  it('keys buckets on the username, so one noisy identity never throttles another', () => {
    const allow = createIdentityRateLimiter({ ratePerSecond: 1, burst: 1 }, () => 0);
    expect(allow('acme-producer')).toBe(true);
    expect(allow('acme-producer')).toBe(false);
    expect(allow('globex-producer')).toBe(true);
  });

  it('forgets the least recently seen identity beyond the tracking limit', () => {
    const allow = createIdentityRateLimiter(
      { ratePerSecond: 1, burst: 1, maxTrackedIdentities: 2 },
      () => 0,
    );
    allow('a');
    allow('b');
    allow('c');
    // 'a' was dropped, so it starts again with a full bucket; 'c' is still tracked and empty.
    expect(allow('a')).toBe(true);
    expect(allow('c')).toBe(false);
  });

  it('is off with a rate of 0', () => {
    const allow = createIdentityRateLimiter({ ratePerSecond: 0, burst: 0 }, () => 0);
    expect(Array.from({ length: 1000 }, () => allow('x')).every(Boolean)).toBe(true);
  });
});

describe('request guard', () => {
  it.each([
    { title: 'admits a normal request', inFlight: 0, delayMs: 0, expected: undefined },
    { title: 'sheds at the in-flight limit', inFlight: 2, delayMs: 0, expected: 'overloaded' },
    { title: 'sheds on event-loop lag', inFlight: 0, delayMs: 51, expected: 'overloaded' },
    { title: 'admits at exactly the lag limit', inFlight: 0, delayMs: 50, expected: undefined },
  ])('$title', ({ inFlight, delayMs, expected }) => {
    const guard = createRequestGuard({
      overload: { maxInFlight: 2, maxEventLoopDelayMs: 50 },
      rateLimit: { ratePerSecond: 0 },
      eventLoopDelayMs: () => delayMs,
    });
    for (let i = 0; i < inFlight; i++) expect(guard.admit(ctx(`u${i}`))).toBeUndefined();
    expect(guard.admit(ctx('next'))).toBe(expected);
    guard.close();
  });

  it('frees an in-flight slot when a request is done', () => {
    const guard = createRequestGuard({
      overload: { maxInFlight: 1, maxEventLoopDelayMs: 0 },
      rateLimit: { ratePerSecond: 0 },
    });
    expect(guard.admit(ctx('a'))).toBeUndefined();
    expect(guard.admit(ctx('b'))).toBe('overloaded');
    guard.done?.(ctx('a'));
    expect(guard.inFlight).toBe(0);
    expect(guard.admit(ctx('b'))).toBeUndefined();
    guard.close();
  });

  it('answers rate_limited for an identity over its budget and does not count it in flight', () => {
    const guard = createRequestGuard({
      overload: { maxInFlight: 10, maxEventLoopDelayMs: 0 },
      rateLimit: { ratePerSecond: 1, burst: 1 },
      nowMs: () => 0,
    });
    expect(guard.admit(ctx('acme-consumer'))).toBeUndefined();
    guard.done?.(ctx('acme-consumer'));
    expect(guard.admit(ctx('acme-consumer'))).toBe('rate_limited');
    expect(guard.inFlight).toBe(0);
    guard.close();
  });
});

describe('event-loop lag sampler', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ignores one long pause but reports a loop that stays behind', () => {
    vi.useFakeTimers();
    const sampler = sampleEventLoopDelay(100);
    const tickAfterPause = (pauseMs: number) => {
      vi.setSystemTime(Date.now() + pauseMs);
      vi.advanceTimersByTime(100);
    };
    tickAfterPause(600);
    expect(sampler.current()).toBe(0);
    tickAfterPause(600);
    expect(sampler.current()).toBe(600);
    tickAfterPause(0);
    expect(sampler.current()).toBe(0);
    sampler.stop();
  });
});
