/**
 * Admission control for the decision listener: per-identity rate limits and overload shedding.
 *
 * - Limits are keyed on the username the broker forwards, never on the client address: the
 *   broker is the only client, so an address key would throttle every tenant together.
 * - Under overload the answer is an immediate `deny` (status 200, reason `overloaded`) rather
 *   than a queued request: the broker waits up to 15 s per check and 10 s per handshake
 *   (RABBITMQ.md section 1), and a late `allow` is worth less than a fast, retryable `deny`.
 * Both answers are ordinary denials, counted by reason in the metrics.
 */
import { ReasonCode } from '../decision.js';
import type { GuardContext, RequestGuard } from '../extensions.js';

/** Token-bucket settings of the per-identity limit. */
export interface RateLimitOptions {
  /** Sustained requests per second per username; 0 disables the limit. Default 200. */
  ratePerSecond?: number;
  /** Requests a username may make at once after being idle. Default 400. */
  burst?: number;
  /** Usernames tracked at once; the least recently seen bucket is dropped beyond it. Default 100000. */
  maxTrackedIdentities?: number;
}

/** When the service counts as overloaded. */
export interface OverloadOptions {
  /** Admitted requests still being decided (awaiting keys, introspection); 0 disables. Default 512. */
  maxInFlight?: number;
  /** Event-loop lag (two samples in a row) above which requests are shed, ms; 0 disables. Default 500. */
  maxEventLoopDelayMs?: number;
  /** How often event-loop lag is sampled, milliseconds. Default 100. */
  sampleIntervalMs?: number;
}

/** Options of {@link createRequestGuard}. */
export interface GuardOptions {
  rateLimit?: RateLimitOptions;
  overload?: OverloadOptions;
  /** Clock for the token buckets, milliseconds. Default Date.now. */
  nowMs?: () => number;
  /** Source of the current event-loop lag, milliseconds. Default: a sampling timer. */
  eventLoopDelayMs?: () => number;
}

/** A RequestGuard that also owns a sampling timer, stopped by `close`. */
export interface ClosableGuard extends RequestGuard {
  /** Requests currently admitted and not yet done. */
  readonly inFlight: number;
  close(): void;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Builds a per-username token bucket limiter; returns true when a request may proceed. */
export function createIdentityRateLimiter(
  options: RateLimitOptions,
  nowMs: () => number,
): (username: string) => boolean {
  const rate = options.ratePerSecond ?? 200;
  const burst = options.burst ?? 400;
  const maxTracked = options.maxTrackedIdentities ?? 100_000;
  const buckets = new Map<string, Bucket>();
  if (rate <= 0) return () => true;

  return (username) => {
    const now = nowMs();
    const bucket = buckets.get(username) ?? { tokens: burst, updatedMs: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updatedMs) / 1000) * rate);
    bucket.updatedMs = now;
    // Re-insert so Map order is least recently seen first.
    buckets.delete(username);
    buckets.set(username, bucket);
    if (buckets.size > maxTracked) buckets.delete(buckets.keys().next().value as string);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };
}

/**
 * Measures event-loop lag with a timer: how late each tick fires. Reports the smaller of the
 * last two samples, so one long pause (start-up, a major GC) does not shed traffic but a loop
 * that stays behind does. Unref'd, so it never keeps the process alive.
 */
export function sampleEventLoopDelay(intervalMs: number): { current(): number; stop(): void } {
  let lastMs = 0;
  let previousMs = 0;
  let expected = Date.now() + intervalMs;
  const timer = setInterval(() => {
    const now = Date.now();
    previousMs = lastMs;
    lastMs = Math.max(0, now - expected);
    expected = now + intervalMs;
  }, intervalMs);
  timer.unref();
  return { current: () => Math.min(lastMs, previousMs), stop: () => clearInterval(timer) };
}

/** Builds the guard the composition root passes as `deps.guard`. */
export function createRequestGuard(options: GuardOptions = {}): ClosableGuard {
  const nowMs = options.nowMs ?? Date.now;
  const allow = createIdentityRateLimiter(options.rateLimit ?? {}, nowMs);
  const maxInFlight = options.overload?.maxInFlight ?? 512;
  const maxDelayMs = options.overload?.maxEventLoopDelayMs ?? 500;
  const sampler =
    options.eventLoopDelayMs === undefined && maxDelayMs > 0
      ? sampleEventLoopDelay(options.overload?.sampleIntervalMs ?? 100)
      : undefined;
  const delayMs = options.eventLoopDelayMs ?? sampler?.current ?? (() => 0);
  let inFlight = 0;

  return {
    get inFlight() {
      return inFlight;
    },
    admit(context: GuardContext) {
      // Overload first: a shed request must cost nothing, not even a bucket update.
      if (maxInFlight > 0 && inFlight >= maxInFlight) return ReasonCode.Overloaded;
      if (maxDelayMs > 0 && delayMs() > maxDelayMs) return ReasonCode.Overloaded;
      if (!allow(context.username)) return ReasonCode.RateLimited;
      inFlight++;
      return undefined;
    },
    done() {
      inFlight = Math.max(0, inFlight - 1);
    },
    close() {
      sampler?.stop();
    },
  };
}
