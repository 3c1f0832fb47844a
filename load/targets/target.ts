/** The contract between the engine and whatever a scenario drives. */
import type { Tags } from '../engine/metrics.js';

/** Records samples into the worker's metric store; scenario tags are added automatically. */
export interface Recorder {
  /** A time, in milliseconds. */
  trend(name: string, ms: number, tags?: Tags): void;
  counter(name: string, increment?: number, tags?: Tags): void;
  rate(name: string, ok: boolean, tags?: Tags): void;
  gauge(name: string, value: number, tags?: Tags): void;
  /** A named check (k6's `check`): counted in the `checks` rate, tagged `check:<name>`. */
  check(name: string, ok: boolean, tags?: Tags): boolean;
}

/** One iteration's view of the run. */
export interface IterationContext {
  /** Clock time (ms) the schedule intended this iteration to start. */
  intendedMs: number;
  /** Run-wide iteration number (distinct across workers). */
  index: number;
  vu: number;
  /** The engine clock, ms. */
  now(): number;
  record: Recorder;
}

/** A built target; one per worker. */
export interface Target {
  /** One iteration; rejections count as failed iterations. */
  iterate(context: IterationContext): Promise<void>;
  /** Closes pools and connections; `force` aborts requests still running (graceful stop over). */
  close(force?: boolean): Promise<void>;
}

/**
 * Error codes that mean the generator, not the target, ran out of something (ports, file
 * descriptors, buffers): such errors make a run INVALID rather than a failed target.
 */
export const generatorSocketErrorCodes = new Set([
  'EADDRNOTAVAIL',
  'EADDRINUSE',
  'EMFILE',
  'ENFILE',
  'ENOBUFS',
  'ENOMEM',
]);

/** The errno-style code of an error or its cause, or "error". */
export function errorCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('UND_ERR_SOCKET')) return code;
    current = (current as { cause?: unknown }).cause;
  }
  const fallback = (error as { code?: unknown } | undefined)?.code;
  return typeof fallback === 'string' ? fallback : 'error';
}

/** Records an error's code, and counts generator-side socket errors separately. */
export function recordError(record: Recorder, error: unknown, tags: Tags): string {
  const code = errorCode(error);
  record.counter('errors', 1, { ...tags, code });
  if (generatorSocketErrorCodes.has(code)) record.counter('generator_socket_errors', 1, { code });
  return code;
}
