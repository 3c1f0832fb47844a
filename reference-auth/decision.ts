/**
 * The vocabulary every decision path shares: what was asked, what was answered, and why.
 * Decision records flow from the four paths to the sinks (log, audit file, metrics).
 */

/** The broker's four HTTP backend paths (RABBITMQ.md section 1). */
export type DecisionPath = 'user' | 'vhost' | 'resource' | 'topic';

export type Verdict = 'allow' | 'deny';

/**
 * Why a decision came out as it did: a closed set, documented in reference-auth/README.md and
 * counted in metrics. Allows name the kind of rule that granted them; denials name the first
 * check that failed.
 */
export const ReasonCode = {
  // allows
  AllowedByGrant: 'allowed_by_grant',
  AllowedStaticUser: 'allowed_static_user',
  // request problems
  MissingParameter: 'missing_parameter',
  DuplicateParameter: 'duplicate_parameter',
  OversizedParameter: 'oversized_parameter',
  MalformedRequest: 'malformed_request',
  // identity problems
  TokenInvalid: 'token_invalid',
  TokenExpired: 'token_expired',
  TokenNotYetValid: 'token_not_yet_valid',
  TokenTooLarge: 'token_too_large',
  TokenClaimMissing: 'token_claim_missing',
  TokenAudience: 'token_audience',
  TokenIssuer: 'token_issuer',
  TokenAlgorithm: 'token_algorithm',
  TokenUnknownKey: 'token_unknown_key',
  TokenRevoked: 'token_revoked',
  UsernameMismatch: 'username_mismatch',
  UnknownIdentity: 'unknown_identity',
  BadCredentials: 'bad_credentials',
  NoSession: 'no_session',
  SessionExpired: 'session_expired',
  IdentityRevoked: 'identity_revoked',
  // policy outcomes
  NoMatchingGrant: 'no_matching_grant',
  ExplicitDeny: 'explicit_deny',
  KillSwitch: 'kill_switch',
  TagNotGranted: 'tag_not_granted',
  // service health
  RateLimited: 'rate_limited',
  Overloaded: 'overloaded',
  DependencyUnavailable: 'dependency_unavailable',
  InternalError: 'internal_error',
} as const;

export type ReasonCode = (typeof ReasonCode)[keyof typeof ReasonCode];

/** One answered request, as logged, audited and counted. Never holds a password or token. */
export interface DecisionRecord {
  /** Generated per request. */
  correlationId: string;
  /** Set on logins and carried by later decisions for the same username. */
  sessionId?: string;
  path: DecisionPath;
  verdict: Verdict;
  reason: ReasonCode;
  /** Subject or certificate identity; the username as sent when no identity was established. */
  identity: string;
  tenant?: string;
  /** The request's non-secret fields (vhost, resource, name, permission, routing_key, tags, ip). */
  request: Record<string, string>;
  /** Tags granted on a user-path allow. */
  tags?: string[];
  /** Hash of the policy that decided. */
  policyVersion: string;
  /** Server-side time to decide, milliseconds. */
  latencyMs: number;
  /** ISO-8601 time the decision was made. */
  time: string;
  /** Policy rule that decided, e.g. `classes.producer.grants[1]` (appended by the core). */
  rule?: string;
  /** Secret-free detail such as a jose error code or `cached` (appended by the core). */
  detail?: string;
}

/** Receives every decision record; sinks must not throw into the request path. */
export interface DecisionSink {
  record(decision: DecisionRecord): void;
}
