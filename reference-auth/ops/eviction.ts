/**
 * Eviction: closing a username's live broker connections through the management API.
 *
 * Why it is needed (RABBITMQ.md section 3): a connection authenticated through the HTTP backend
 * never expires; the broker never re-asks the user path, and channels keep their last 12
 * resource/topic answers. Denying later checks is not enough: an expired token or a revoked
 * identity keeps its open connections until something closes them. The management API's
 * `DELETE /api/connections/username/{user}` (3.10.8+) closes every connection of that username
 * with 320 CONNECTION_FORCED and the text of the `X-Reason` header. The broker answers 204
 * whether or not the user had connections.
 *
 * Limitation: the DELETE is username-wide. The core therefore asks for an expiry eviction only
 * when a username's last live login has expired; a revocation or kill closes them all.
 */
import { performance } from 'node:perf_hooks';

import type { Logger } from 'pino';
import { request } from 'undici';

import type { EvictionOutcome, EvictionTrigger, OpsMetrics } from './metrics.js';

/** Options of {@link createEvictor}. */
export interface EvictorOptions {
  /** Management API base URL, e.g. `http://127.0.0.1:15672` (no trailing `/api`). */
  managementUrl: string;
  /** Management user; it needs the `administrator` tag to close other users' connections. */
  username: string;
  password: string;
  /** Whole-request deadline, milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Where outcome, request time and lag are counted. Default: not counted. */
  metrics?: Pick<OpsMetrics, 'eviction'>;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Wall clock in ms since the epoch, for lag since the trigger. Default Date.now. */
  nowMs?: () => number;
}

/** One eviction to perform. */
export interface EvictionRequest {
  /** The AMQP username whose connections are closed (JWT subject or certificate identity). */
  username: string;
  trigger: EvictionTrigger;
  /** When the trigger happened (token `exp`, revocation time), ms since the epoch. */
  triggeredAtMs?: number;
}

/** What an eviction did and how long it took. */
export interface EvictionResult {
  outcome: EvictionOutcome;
  /** Time of the DELETE request, milliseconds. */
  durationMs: number;
  /** Time from the trigger to the connections closed, milliseconds (when the trigger time is known). */
  lagMs?: number;
  /** HTTP status of the management API, when it answered. */
  status?: number;
}

/** Closes usernames' connections; concurrent requests for one username share one DELETE. */
export interface Evictor {
  evict(request: EvictionRequest): Promise<EvictionResult>;
}

const X_REASON: Record<EvictionTrigger, string> = {
  token_expired: 'reference-auth: token expired',
  revoked: 'reference-auth: identity revoked',
  killed: 'reference-auth: kill switch',
};

/** Builds an evictor for one management API endpoint. */
export function createEvictor(options: EvictorOptions): Evictor {
  const base = options.managementUrl.replace(/\/+$/, '');
  const authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const timeoutMs = options.timeoutMs ?? 5000;
  const nowMs = options.nowMs ?? Date.now;
  const inFlight = new Map<string, Promise<EvictionResult>>();

  async function deleteConnections(req: EvictionRequest): Promise<EvictionResult> {
    // Each path segment is percent-decoded by the broker, so `/` in a SPIFFE ID travels as %2F.
    const url = `${base}/api/connections/username/${encodeURIComponent(req.username)}`;
    const started = performance.now();
    let status: number | undefined;
    let failure: string | undefined;
    try {
      const response = await request(url, {
        method: 'DELETE',
        headers: { authorization, 'x-reason': X_REASON[req.trigger] },
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.statusCode;
      await response.body.dump();
      if (status < 200 || status >= 300) failure = `management API answered ${status}`;
    } catch (error) {
      failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    const durationMs = performance.now() - started;
    const outcome: EvictionOutcome = failure ? 'failed' : 'closed';
    const lagMs =
      req.triggeredAtMs === undefined ? undefined : Math.max(0, nowMs() - req.triggeredAtMs);
    options.metrics?.eviction(outcome, req.trigger, durationMs, lagMs);
    report(req, { outcome, durationMs, lagMs, status }, failure);
    return { outcome, durationMs, lagMs, status };
  }

  function report(req: EvictionRequest, result: EvictionResult, failure?: string): void {
    const fields = {
      eviction: req.trigger,
      username: req.username,
      durationMs: Math.round(result.durationMs * 100) / 100,
      lagMs: result.lagMs,
      status: result.status,
    };
    if (failure) {
      options.logger.error({ ...fields, err: failure }, 'eviction failed: connections stay open');
    } else {
      options.logger.info(fields, 'connections closed through the management API');
    }
  }

  return {
    evict(req) {
      const pending = inFlight.get(req.username);
      if (pending) return pending;
      const started = deleteConnections(req).finally(() => inFlight.delete(req.username));
      inFlight.set(req.username, started);
      return started;
    },
  };
}
