/**
 * JWT passwords: verified with jose against the cached JWKS. Only asymmetric algorithms from the
 * allow-list pass (so `none` and HS/RS confusion fail before any key is used), issuer and audience
 * must match, `exp`/`nbf`/`iat` are checked against the injected clock with the configured skew,
 * and the AMQP username must equal the configured claim.
 */
import { jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../controls.js';
import { ReasonCode } from '../decision.js';
import type { JwksCache } from './jwks.js';

/** Verification settings (see config.ts `jwt`). */
export interface JwtVerifierOptions {
  issuers: readonly string[];
  audiences: readonly string[];
  algorithms: readonly string[];
  clockSkewSeconds: number;
  maxTokenBytes: number;
  requiredClaims: readonly string[];
  usernameClaim: string;
  maxTokenAgeSeconds: number;
  /** Required `typ` header; empty: not checked. */
  requiredType: string;
}

/** A verified token. */
export interface VerifiedToken {
  ok: true;
  claims: JWTPayload;
  /** `exp` in milliseconds since the epoch. */
  expiresAtMs: number;
  jti?: string;
}

/** A rejected token with the first failed check. */
export interface RejectedToken {
  ok: false;
  reason: ReasonCode;
  /** Short, secret-free detail for the log (a jose error code). */
  detail: string;
}

const compactJwsRe = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/** True when the password has the shape of a compact JWS (three base64url segments). */
export function looksLikeJwt(password: string): boolean {
  return compactJwsRe.test(password);
}

/** Verifies JWT passwords. */
export class JwtVerifier {
  private readonly requiredClaims: string[];

  constructor(
    private readonly options: JwtVerifierOptions,
    private readonly keys: JwksCache,
    private readonly clock: Clock,
  ) {
    // `exp` is always required: a token without one would open a session that never ends.
    this.requiredClaims = [...new Set([...options.requiredClaims, 'exp', options.usernameClaim])];
  }

  /** Verifies `token` as the password of `username`. Never throws. */
  async verify(token: string, username: string): Promise<VerifiedToken | RejectedToken> {
    if (Buffer.byteLength(token, 'utf8') > this.options.maxTokenBytes) {
      return { ok: false, reason: ReasonCode.TokenTooLarge, detail: 'max_token_bytes' };
    }
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, this.keys.getKey, {
        issuer: [...this.options.issuers],
        audience: [...this.options.audiences],
        algorithms: [...this.options.algorithms],
        clockTolerance: this.options.clockSkewSeconds,
        currentDate: new Date(this.clock.nowMs()),
        requiredClaims: this.requiredClaims,
        maxTokenAge: this.options.maxTokenAgeSeconds,
        ...(this.options.requiredType ? { typ: this.options.requiredType } : {}),
      }));
    } catch (error) {
      return { ok: false, ...classify(error) };
    }
    if (claims[this.options.usernameClaim] !== username) {
      return { ok: false, reason: ReasonCode.UsernameMismatch, detail: this.options.usernameClaim };
    }
    const jti = typeof claims.jti === 'string' ? claims.jti : undefined;
    return {
      ok: true,
      claims,
      expiresAtMs: (claims.exp as number) * 1000,
      ...(jti ? { jti } : {}),
    };
  }
}

/** Maps jose's error codes (stable API) to the closed set of reason codes. */
function classify(error: unknown): { reason: ReasonCode; detail: string } {
  const { code, claim, reason } = (error ?? {}) as {
    code?: string;
    claim?: string;
    reason?: string;
  };
  const detail = code ?? (error instanceof Error ? error.name : 'unknown');
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return { reason: ReasonCode.TokenExpired, detail };
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return { reason: claimReason(claim, reason), detail: `${detail}:${claim ?? ''}` };
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return { reason: ReasonCode.TokenAlgorithm, detail };
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return { reason: ReasonCode.TokenUnknownKey, detail };
    case 'WARREN_AUTH_ERR_JWKS':
      return { reason: ReasonCode.DependencyUnavailable, detail };
    default:
      return { reason: ReasonCode.TokenInvalid, detail };
  }
}

function claimReason(claim: string | undefined, reason: string | undefined): ReasonCode {
  if (reason === 'missing') return ReasonCode.TokenClaimMissing;
  switch (claim) {
    case 'iss':
      return ReasonCode.TokenIssuer;
    case 'aud':
      return ReasonCode.TokenAudience;
    case 'nbf':
    case 'iat':
      return ReasonCode.TokenNotYetValid;
    default:
      return ReasonCode.TokenInvalid;
  }
}
