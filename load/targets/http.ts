/** One plain HTTP request per iteration, over a keep-alive pool (benchmarks, smoke runs). */
import { Pool } from 'undici';

import type { Tags } from '../engine/metrics.js';
import type { HttpTargetSpec } from './spec.js';
import { recordError, type IterationContext, type Target } from './target.js';

/** Builds the plain HTTP target for one worker. */
export function createHttpTarget(spec: HttpTargetSpec): Target {
  const url = new URL(spec.url);
  // Pool-level timeouts instead of a per-request AbortSignal: one timer less per request.
  const pool = new Pool(url.origin, {
    connections: spec.connections,
    pipelining: 1,
    headersTimeout: spec.timeoutMs,
    bodyTimeout: spec.timeoutMs,
  });
  const path = `${url.pathname}${url.search}`;
  const headers: Record<string, string> =
    spec.body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' };
  // Tag objects are reused, so the metric store finds their series without building keys.
  const tags = { method: spec.method, endpoint: url.pathname };
  const byStatus = new Map<string, Tags>();
  const statusTags = (status: string): Tags => {
    let found = byStatus.get(status);
    if (!found) byStatus.set(status, (found = { ...tags, status }));
    return found;
  };
  return {
    async iterate(context: IterationContext): Promise<void> {
      let ok = false;
      let status = 'error';
      try {
        const response = await pool.request({
          path,
          method: spec.method,
          headers,
          body: spec.body ?? null,
        });
        await response.body.dump();
        status = String(response.statusCode);
        ok = response.statusCode >= 200 && response.statusCode < 400;
      } catch (error) {
        recordError(context.record, error, tags);
      }
      // Measured from the intended start: queueing in the generator counts against the target.
      const durationMs = context.now() - context.intendedMs;
      context.record.trend('http_req_duration', durationMs, statusTags(status));
      context.record.counter('http_reqs', 1, tags);
      context.record.rate('http_req_failed', !ok, tags);
      if (!ok) throw new Error(`request failed with status ${status}`);
    },
    close: (force) => (force ? pool.destroy() : pool.close()),
  };
}
