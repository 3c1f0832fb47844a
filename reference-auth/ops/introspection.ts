/**
 * RFC 7662 token introspection for opaque (non-JWT) tokens sent as the AMQP password.
 *
 * - Strict timeout: the broker waits at most its `request_timeout` (15 s) and the AMQP handshake
 *   10 s (RABBITMQ.md section 1); an introspection call must end long before either.
 * - Cache keyed by the token's SHA-256, never by the token: active answers until the token's
 *   `exp` (capped), inactive answers briefly. Concurrent lookups of one token share one call,
 *   because the broker's own cache has no single-flight.
 * - Circuit breaker: after repeated failures calls stop and lookups answer `unavailable` at once;
 *   the user path then denies with reason `dependency_unavailable`.
 */
import { createHash } from 'node:crypto';

import type { JWTPayload } from 'jose';
import { request } from 'undici';

import { ReasonCode } from '../decision.js';
import type { OpaqueTokenVerifier } from '../extensions.js';
import type { RejectedToken, VerifiedToken } from '../identity/jwt.js';
import { createCircuitBreaker, type CircuitBreaker } from './circuit-breaker.js';
import type { OpsMetrics } from './metrics.js';

/** Options of {@link createIntrospectionClient}. */
export interface IntrospectionOptions {
  /** The introspection endpoint (RFC 7662 section 2). */
  endpoint: string;
  /** Client credentials sent as HTTP Basic (RFC 7662 section 2.1 requires client authentication). */
  clientId: string;
  clientSecret: string;
  /** Whole-call deadline, milliseconds. Default 1000. */
  timeoutMs?: number;
  /** Longest an active answer is cached even if `exp` is later, seconds. Default 60. */
  maxCacheSeconds?: number;
  /** How long an inactive answer is cached, seconds; 0 disables. Default 10. */
  inactiveCacheSeconds?: number;
  /** Most cached answers; the oldest is dropped beyond it. Default 10000. */
  maxCacheEntries?: number;
  /** Breaker settings; see {@link createCircuitBreaker}. Defaults: 5 failures, 10000 ms open. */
  breaker?: { failureThreshold?: number; openMs?: number };
  /** Wall clock, ms since the epoch (exp comparisons, cache expiry, breaker). Default Date.now. */
  nowMs?: () => number;
  metrics?: Pick<OpsMetrics, 'introspection' | 'circuitState'>;
}

/** Claims of an active token, as the endpoint returned them. */
export type IntrospectedClaims = Record<string, unknown> & { active: true };

/** The result of one lookup. */
export type IntrospectionResult =
  | { kind: 'active'; claims: IntrospectedClaims; cached: boolean }
  | { kind: 'inactive'; cached: boolean }
  | { kind: 'unavailable'; cause: 'circuit_open' | 'timeout' | 'error' };

/** Looks tokens up; never throws, never logs or stores the token itself. */
export interface IntrospectionClient {
  introspect(token: string): Promise<IntrospectionResult>;
  readonly breaker: CircuitBreaker;
}

interface CacheEntry {
  result: { kind: 'active'; claims: IntrospectedClaims } | { kind: 'inactive' };
  untilMs: number;
}

/** The reason code a user-path denial carries for a lookup that did not yield an active token. */
export function introspectionDenialReason(
  result: Exclude<IntrospectionResult, { kind: 'active' }>,
): ReasonCode {
  return result.kind === 'inactive' ? ReasonCode.TokenInvalid : ReasonCode.DependencyUnavailable;
}

/** Builds a client for one introspection endpoint. */
export function createIntrospectionClient(options: IntrospectionOptions): IntrospectionClient {
  const nowMs = options.nowMs ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 1000;
  const maxCacheMs = (options.maxCacheSeconds ?? 60) * 1000;
  const inactiveCacheMs = (options.inactiveCacheSeconds ?? 10) * 1000;
  const maxEntries = options.maxCacheEntries ?? 10_000;
  const authorization = `Basic ${Buffer.from(
    `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
  ).toString('base64')}`;
  const breaker = createCircuitBreaker({
    ...options.breaker,
    nowMs,
    onStateChange: (state) => options.metrics?.circuitState('introspection', state),
  });
  const cache = new Map<string, CacheEntry>();
  const inFlight = new Map<string, Promise<IntrospectionResult>>();

  function remember(key: string, result: CacheEntry['result']): void {
    const now = nowMs();
    let untilMs = now + inactiveCacheMs;
    if (result.kind === 'active') {
      const exp = result.claims.exp;
      untilMs = Math.min(now + maxCacheMs, typeof exp === 'number' ? exp * 1000 : Infinity);
    }
    if (untilMs <= now) return;
    cache.delete(key);
    cache.set(key, { result, untilMs });
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
  }

  function cached(key: string): IntrospectionResult | undefined {
    const entry = cache.get(key);
    if (!entry) return undefined;
    if (entry.untilMs <= nowMs()) {
      cache.delete(key);
      return undefined;
    }
    return { ...entry.result, cached: true };
  }

  async function lookUp(key: string, token: string): Promise<IntrospectionResult> {
    if (!breaker.tryAcquire()) {
      options.metrics?.introspection('circuit_open');
      return { kind: 'unavailable', cause: 'circuit_open' };
    }
    const answer = await callEndpoint(options.endpoint, token, authorization, timeoutMs);
    if (answer.kind === 'unavailable') {
      breaker.failure();
      options.metrics?.introspection('error');
      return answer;
    }
    breaker.success();
    const result = activeAndCurrent(answer.body, nowMs());
    remember(key, result);
    options.metrics?.introspection(result.kind);
    return { ...result, cached: false };
  }

  return {
    breaker,
    introspect(token) {
      const key = createHash('sha256').update(token).digest('hex');
      const hit = cached(key);
      if (hit) {
        options.metrics?.introspection('cached');
        return Promise.resolve(hit);
      }
      const pending = inFlight.get(key);
      if (pending) return pending;
      const started = lookUp(key, token).finally(() => inFlight.delete(key));
      inFlight.set(key, started);
      return started;
    },
  };
}

/** An `active: true` answer whose `exp`/`nbf` say otherwise is treated as inactive. */
function activeAndCurrent(body: Record<string, unknown>, nowMs: number): CacheEntry['result'] {
  if (body.active !== true) return { kind: 'inactive' };
  const nowSeconds = nowMs / 1000;
  if (typeof body.exp === 'number' && body.exp <= nowSeconds) return { kind: 'inactive' };
  if (typeof body.nbf === 'number' && body.nbf > nowSeconds) return { kind: 'inactive' };
  return { kind: 'active', claims: body as IntrospectedClaims };
}

type EndpointAnswer =
  | { kind: 'answered'; body: Record<string, unknown> }
  | { kind: 'unavailable'; cause: 'timeout' | 'error' };

/** One POST (RFC 7662 section 2.1); anything but 200 with a JSON object carrying `active` fails. */
async function callEndpoint(
  endpoint: string,
  token: string,
  authorization: string,
  timeoutMs: number,
): Promise<EndpointAnswer> {
  try {
    const response = await request(endpoint, {
      method: 'POST',
      headers: {
        authorization,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.statusCode !== 200) {
      await response.body.dump();
      return { kind: 'unavailable', cause: 'error' };
    }
    const body: unknown = await response.body.json();
    if (
      body === null ||
      typeof body !== 'object' ||
      typeof (body as { active?: unknown }).active !== 'boolean'
    ) {
      return { kind: 'unavailable', cause: 'error' };
    }
    return { kind: 'answered', body: body as Record<string, unknown> };
  } catch (error) {
    const timedOut =
      error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { kind: 'unavailable', cause: timedOut ? 'timeout' : 'error' };
  }
}

/** Options of {@link createOpaqueTokenVerifier}. */
export interface OpaqueVerifierOptions {
  /** Claim the AMQP username must equal. Default `sub`. */
  usernameClaim?: string;
  /** Session lifetime for an active token without `exp`, seconds. Default 300. */
  sessionSecondsWithoutExp?: number;
  /** Wall clock, ms since the epoch. Default Date.now. */
  nowMs?: () => number;
}

/**
 * Adapts the client to the core's OpaqueTokenVerifier (server.ts `deps.introspector`): an active
 * token whose username claim matches becomes a verified token; anything else a denial with
 * `token_invalid`, `username_mismatch` or `dependency_unavailable`.
 */
export function createOpaqueTokenVerifier(
  client: IntrospectionClient,
  options: OpaqueVerifierOptions = {},
): OpaqueTokenVerifier {
  const usernameClaim = options.usernameClaim ?? 'sub';
  const fallbackMs = (options.sessionSecondsWithoutExp ?? 300) * 1000;
  const nowMs = options.nowMs ?? Date.now;
  return {
    async verify(token, username): Promise<VerifiedToken | RejectedToken> {
      const result = await client.introspect(token);
      if (result.kind !== 'active') {
        const detail =
          result.kind === 'inactive' ? 'introspection_inactive' : `introspection_${result.cause}`;
        return { ok: false, reason: introspectionDenialReason(result), detail };
      }
      const { claims } = result;
      if (claims[usernameClaim] !== username) {
        return { ok: false, reason: ReasonCode.UsernameMismatch, detail: usernameClaim };
      }
      const expiresAtMs = typeof claims.exp === 'number' ? claims.exp * 1000 : nowMs() + fallbackMs;
      const jti = typeof claims.jti === 'string' ? claims.jti : undefined;
      return { ok: true, claims: claims as JWTPayload, expiresAtMs, ...(jti ? { jti } : {}) };
    },
  };
}
