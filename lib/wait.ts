import { setTimeout as sleep } from 'node:timers/promises';

import { ErrorCode, WarrenError } from './errors.js';

export interface WaitOptions {
  /** What is awaited, for the timeout message ("broker rabbit-3.10 to accept AMQP"). */
  what: string;
  /** Give up after this long. */
  deadlineMs: number;
  /** Pause between probes; default 200 ms. */
  intervalMs?: number;
}

/**
 * Polls `probe` until it returns a value other than `undefined`, or fails with
 * WARREN_ERR_TIMEOUT once the deadline passes. Probe errors count as "not yet"; the last
 * one is attached as the cause.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.deadlineMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new WarrenError(
        ErrorCode.Timeout,
        `gave up waiting for ${options.what} after ${options.deadlineMs} ms`,
        { cause: lastError },
      );
    }
    await sleep(options.intervalMs ?? 200);
  }
}
