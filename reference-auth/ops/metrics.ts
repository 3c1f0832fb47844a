/**
 * Prometheus metrics, one registry per server instance: two servers in one process (tests, the
 * benchmark) never share or overwrite each other's series, and prom-client's global default
 * registry is never touched.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import type { DecisionRecord, DecisionSink } from '../decision.js';

/** Outcome of one eviction request: the broker accepted the close (204), or it failed. */
export type EvictionOutcome = 'closed' | 'failed';
/** Why a username's connections were closed. */
export type EvictionTrigger = 'token_expired' | 'revoked' | 'killed';
/** Outcome of one introspection call (or of the breaker refusing to make it). */
export type IntrospectionOutcome = 'active' | 'inactive' | 'cached' | 'error' | 'circuit_open';
/** Circuit breaker state, exported as 0 closed, 1 half-open, 2 open. */
export type CircuitState = 'closed' | 'half_open' | 'open';

/** Options of {@link createOpsMetrics}. */
export interface OpsMetricsOptions {
  /** Also export Node process metrics (CPU, heap, event loop lag). Default false. */
  collectProcessMetrics?: boolean;
}

/** The counters and histograms the service updates, plus the registry they live in. */
export interface OpsMetrics {
  readonly registry: Registry;
  /** A DecisionSink counting decisions and observing their latency. */
  readonly sink: DecisionSink;
  /** Where the decision-cache counters read their totals at scrape time. */
  setCacheSource(source: () => { hits: number; misses: number }): void;
  /** One JWKS fetch from the IdP. */
  jwksFetch(ok: boolean): void;
  /** One eviction attempt, its request time and (when known) the time since its trigger. */
  eviction(
    outcome: EvictionOutcome,
    trigger: EvictionTrigger,
    durationMs: number,
    lagMs?: number,
  ): void;
  /** One introspection lookup. */
  introspection(outcome: IntrospectionOutcome): void;
  /** A circuit breaker changed state. */
  circuitState(breaker: string, state: CircuitState): void;
  /** Audit records dropped because the audit writer fell behind. */
  auditDropped(count: number): void;
  /** Where the live-sessions gauge reads its value at scrape time. */
  setSessionsLiveSource(source: () => number): void;
  /** The Prometheus text exposition of every series. */
  render(): Promise<string>;
  /** Content-Type of {@link render}'s output. */
  readonly contentType: string;
}

const PREFIX = 'reference_auth_';
/** Decisions take tens of microseconds when cached, a few milliseconds for a JWT login. */
const DECISION_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];
/** An eviction is one management API call: milliseconds to the broker's own timeouts. */
const EVICTION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15];
const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

/** Builds a fresh registry with every series of the service registered in it. */
export function createOpsMetrics(options: OpsMetricsOptions = {}): OpsMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.collectProcessMetrics) collectDefaultMetrics({ register: registry, prefix: PREFIX });

  const decisions = new Counter({
    name: `${PREFIX}decisions_total`,
    help: 'Decisions answered, by path, verdict and reason code.',
    labelNames: ['path', 'verdict', 'reason'] as const,
    registers,
  });
  const decisionSeconds = new Histogram({
    name: `${PREFIX}decision_duration_seconds`,
    help: 'Server-side time to decide, by path.',
    labelNames: ['path'] as const,
    buckets: DECISION_BUCKETS_SECONDS,
    registers,
  });
  let cacheSource = () => ({ hits: 0, misses: 0 });
  new Counter({
    name: `${PREFIX}decision_cache_lookups_total`,
    help: 'Decision cache lookups, by result (hit or miss).',
    labelNames: ['result'] as const,
    registers,
    // The cache keeps its own totals (sessions/cache.ts); copying them at scrape time keeps
    // the hot path free of metric updates.
    collect() {
      const { hits, misses } = cacheSource();
      this.reset();
      this.inc({ result: 'hit' }, hits);
      this.inc({ result: 'miss' }, misses);
    },
  });
  const jwks = new Counter({
    name: `${PREFIX}jwks_fetches_total`,
    help: 'JWKS fetches from the identity provider, by outcome (ok or error).',
    labelNames: ['outcome'] as const,
    registers,
  });
  let sessionsSource: () => number = () => 0;
  new Gauge({
    name: `${PREFIX}sessions_live`,
    help: 'Usernames holding at least one unexpired login.',
    registers,
    collect() {
      this.set(sessionsSource());
    },
  });
  const evictions = new Counter({
    name: `${PREFIX}evictions_total`,
    help: 'Connection evictions through the management API, by outcome and trigger.',
    labelNames: ['outcome', 'trigger'] as const,
    registers,
  });
  const evictionSeconds = new Histogram({
    name: `${PREFIX}eviction_duration_seconds`,
    help: 'Time of the management API DELETE that closes a username\u2019s connections.',
    labelNames: ['outcome'] as const,
    buckets: EVICTION_BUCKETS_SECONDS,
    registers,
  });
  const evictionLagSeconds = new Histogram({
    name: `${PREFIX}eviction_lag_seconds`,
    help: 'Time from the trigger (token expiry, revocation, kill switch) to connections closed.',
    labelNames: ['trigger'] as const,
    buckets: EVICTION_BUCKETS_SECONDS,
    registers,
  });
  const introspections = new Counter({
    name: `${PREFIX}introspection_lookups_total`,
    help: 'RFC 7662 introspection lookups, by outcome.',
    labelNames: ['outcome'] as const,
    registers,
  });
  const circuit = new Gauge({
    name: `${PREFIX}circuit_state`,
    help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
    labelNames: ['breaker'] as const,
    registers,
  });
  const auditDropped = new Counter({
    name: `${PREFIX}audit_dropped_records_total`,
    help: 'Decisions not written to the audit file because its writer fell behind.',
    registers,
  });

  const sink: DecisionSink = {
    record(decision: DecisionRecord): void {
      decisions.inc({ path: decision.path, verdict: decision.verdict, reason: decision.reason });
      decisionSeconds.observe({ path: decision.path }, decision.latencyMs / 1000);
    },
  };

  return {
    registry,
    sink,
    setCacheSource(source) {
      cacheSource = source;
    },
    jwksFetch: (ok) => jwks.inc({ outcome: ok ? 'ok' : 'error' }),
    eviction(outcome, trigger, durationMs, lagMs) {
      evictions.inc({ outcome, trigger });
      evictionSeconds.observe({ outcome }, durationMs / 1000);
      if (lagMs !== undefined && outcome !== 'failed') {
        evictionLagSeconds.observe({ trigger }, lagMs / 1000);
      }
    },
    introspection: (outcome) => introspections.inc({ outcome }),
    circuitState: (breaker, state) => circuit.set({ breaker }, CIRCUIT_STATE_VALUE[state]),
    auditDropped: (count) => auditDropped.inc(count),
    setSessionsLiveSource(source) {
      sessionsSource = source;
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

/** Serves `GET /metrics` (Prometheus text format) from the given metrics on a Fastify app. */
export function registerMetricsRoute(app: FastifyInstance, metrics: OpsMetrics): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.render();
    return reply.header('content-type', metrics.contentType).send(text);
  });
}

/**
 * Wraps the fetch the JWKS cache uses (server.ts `deps.fetch`) so every key-set fetch is counted:
 * `ok` for a 2xx answer, `error` for any other status, a timeout or a refused connection.
 */
export function countingFetch(
  metrics: Pick<OpsMetrics, 'jwksFetch'>,
  inner: typeof fetch = fetch,
): typeof fetch {
  return async (input, init) => {
    try {
      const response = await inner(input, init);
      metrics.jwksFetch(response.ok);
      return response;
    } catch (error) {
      metrics.jwksFetch(false);
      throw error;
    }
  };
}
