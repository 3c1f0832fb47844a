import Fastify from 'fastify';
import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import type { DecisionRecord } from '../decision.js';
import { countingFetch, createOpsMetrics, registerMetricsRoute } from '../ops/metrics.js';

function decision(overrides: Partial<DecisionRecord>): DecisionRecord {
  return {
    correlationId: 'c',
    path: 'resource',
    verdict: 'allow',
    reason: 'allowed_by_grant',
    identity: 'u',
    request: {},
    policyVersion: 'p',
    latencyMs: 0.3,
    time: '2026-12-03T13:00:00.000Z',
    ...overrides,
  };
}

describe('ops metrics', () => {
  it('counts decisions by path, verdict and reason and observes their latency', async () => {
    const metrics = createOpsMetrics();
    metrics.sink.record(decision({}));
    metrics.sink.record(decision({}));
    metrics.sink.record(decision({ path: 'user', verdict: 'deny', reason: 'token_expired' }));
    const text = await metrics.render();
    expect(text).toContain(
      'reference_auth_decisions_total{path="resource",verdict="allow",reason="allowed_by_grant"} 2',
    );
    expect(text).toContain(
      'reference_auth_decisions_total{path="user",verdict="deny",reason="token_expired"} 1',
    );
    expect(text).toContain(
      'reference_auth_decision_duration_seconds_bucket{le="0.0005",path="resource"} 2',
    );
  });

  it('keeps each instance apart and leaves the global default registry empty', async () => {
    const a = createOpsMetrics();
    const b = createOpsMetrics();
    a.setCacheSource(() => ({ hits: 2, misses: 1 }));
    expect(await a.render()).toContain(
      'reference_auth_decision_cache_lookups_total{result="hit"} 2',
    );
    expect(await b.render()).toContain(
      'reference_auth_decision_cache_lookups_total{result="hit"} 0',
    );
    expect(await a.render()).toContain(
      'reference_auth_decision_cache_lookups_total{result="miss"} 1',
    );
    expect(globalRegistry.getMetricsAsArray()).toEqual([]);
  });

  it('counts JWKS fetches through the wrapped fetch, failures included', async () => {
    const metrics = createOpsMetrics();
    const answers = [new Response('{}', { status: 200 }), new Response('', { status: 503 })];
    const fetchKeys = countingFetch(metrics, async () => {
      const next = answers.shift();
      if (!next) throw new TypeError('fetch failed');
      return next;
    });
    await fetchKeys('http://127.0.0.1:8700/.well-known/jwks.json');
    await fetchKeys('http://127.0.0.1:8700/.well-known/jwks.json');
    await expect(fetchKeys('http://127.0.0.1:8700/.well-known/jwks.json')).rejects.toThrow();
    const text = await metrics.render();
    expect(text).toContain('reference_auth_jwks_fetches_total{outcome="ok"} 1');
    expect(text).toContain('reference_auth_jwks_fetches_total{outcome="error"} 2');
  });

  it('exports JWKS fetches, live sessions, evictions, introspection, breaker and audit drops', async () => {
    const metrics = createOpsMetrics();
    let live = 3;
    metrics.setSessionsLiveSource(() => live);
    metrics.jwksFetch(true);
    metrics.jwksFetch(false);
    metrics.eviction('closed', 'revoked', 12, 40);
    metrics.eviction('failed', 'token_expired', 2000, 2100);
    metrics.introspection('circuit_open');
    metrics.circuitState('introspection', 'open');
    metrics.auditDropped(4);
    live = 5;
    const text = await metrics.render();
    for (const line of [
      'reference_auth_jwks_fetches_total{outcome="ok"} 1',
      'reference_auth_jwks_fetches_total{outcome="error"} 1',
      'reference_auth_sessions_live 5',
      'reference_auth_evictions_total{outcome="closed",trigger="revoked"} 1',
      'reference_auth_evictions_total{outcome="failed",trigger="token_expired"} 1',
      'reference_auth_eviction_duration_seconds_count{outcome="closed"} 1',
      'reference_auth_eviction_lag_seconds_count{trigger="revoked"} 1',
      'reference_auth_introspection_lookups_total{outcome="circuit_open"} 1',
      'reference_auth_circuit_state{breaker="introspection"} 2',
      'reference_auth_audit_dropped_records_total 4',
    ]) {
      expect(text).toContain(line);
    }
    // A failed eviction closed nothing, so it has no lag to report.
    expect(text).not.toContain(
      'reference_auth_eviction_lag_seconds_count{trigger="token_expired"}',
    );
  });

  it('serves the Prometheus text format at /metrics', async () => {
    const app = Fastify();
    const metrics = createOpsMetrics();
    registerMetricsRoute(app, metrics);
    metrics.sink.record(decision({ path: 'topic' }));
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    await app.close();
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.body).toContain('# TYPE reference_auth_decisions_total counter');
    expect(response.body).toContain('path="topic"');
  });
});
