/**
 * A circuit breaker for a remote dependency (the introspection endpoint): after enough
 * consecutive failures it opens and refuses calls at once, so a dead dependency costs the broker
 * a fast `deny` instead of a timeout per login; after a pause it lets one trial call through
 * (half-open) and closes again on success.
 */
import type { CircuitState } from './metrics.js';

/** Options of {@link createCircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** Time the circuit stays open before a trial call, milliseconds. Default 10000. */
  openMs?: number;
  /** Monotonic-enough clock, milliseconds. Default Date.now. */
  nowMs?: () => number;
  /** Told about every state change (metrics, logs). Default: ignored. */
  onStateChange?: (state: CircuitState) => void;
}

/** Guards calls: ask {@link CircuitBreaker.tryAcquire} first, then report the call's outcome. */
export interface CircuitBreaker {
  /** Current state; an open circuit whose pause has passed reads as half-open. */
  readonly state: CircuitState;
  /** True when a call may go ahead; in half-open only one trial at a time is admitted. */
  tryAcquire(): boolean;
  /** The admitted call succeeded. */
  success(): void;
  /** The admitted call failed (error, timeout or unusable answer). */
  failure(): void;
}

/** Builds a breaker in the closed state. */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  const threshold = options.failureThreshold ?? 5;
  const openMs = options.openMs ?? 10_000;
  const nowMs = options.nowMs ?? Date.now;
  let stored: CircuitState = 'closed';
  let failures = 0;
  let openedAtMs = 0;
  let trialInFlight = false;

  function setState(next: CircuitState): void {
    if (next === stored) return;
    stored = next;
    options.onStateChange?.(next);
  }

  function current(): CircuitState {
    if (stored === 'open' && nowMs() - openedAtMs >= openMs) setState('half_open');
    return stored;
  }

  function open(): void {
    openedAtMs = nowMs();
    trialInFlight = false;
    setState('open');
  }

  return {
    get state() {
      return current();
    },
    tryAcquire() {
      const state = current();
      if (state === 'closed') return true;
      if (state === 'open' || trialInFlight) return false;
      trialInFlight = true;
      return true;
    },
    success() {
      failures = 0;
      trialInFlight = false;
      setState('closed');
    },
    failure() {
      if (current() === 'half_open') return open();
      failures++;
      if (failures >= threshold) open();
    },
  };
}
