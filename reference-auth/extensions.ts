/**
 * Extension points the operations half (reference-auth/ops, reference-auth/admin) plugs into the
 * composition root: request admission (rate limits, overload shedding), opaque-token
 * introspection, and eviction of broker connections.
 */
import type { DecisionPath, ReasonCode } from './decision.js';
import type { RejectedToken, VerifiedToken } from './identity/jwt.js';

/** What the guard sees of a request: never a password or token. */
export interface GuardContext {
  path: DecisionPath;
  /** The username as sent (the only identity known before deciding). */
  username: string;
}

/**
 * Admission control, asked before every decision. Returning a reason code (`rate_limited`,
 * `overloaded`) answers `deny` at once with that reason; `undefined` admits the request.
 * `done` runs after every admitted request, for concurrency accounting.
 */
export interface RequestGuard {
  admit(context: GuardContext): ReasonCode | undefined;
  done?(context: GuardContext): void;
}

/**
 * Verifies a password that is not a JWT (RFC 7662 introspection of an opaque token).
 * Must not throw: failures come back as a RejectedToken (`dependency_unavailable` when the
 * introspection endpoint is down or its circuit is open). Claims resolve to a tenant and class
 * exactly like JWT claims; `expiresAtMs` bounds the session.
 */
export interface OpaqueTokenVerifier {
  verify(token: string, username: string): Promise<VerifiedToken | RejectedToken>;
}

/** Why a username's broker connections should be closed. */
export type EvictionReason = 'expired' | 'revoked' | 'killed';

/** Called when a username's connections should be closed (management API eviction). */
export type EvictionListener = (username: string, reason: EvictionReason) => void;
