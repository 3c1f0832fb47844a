/**
 * The decision core behind the four paths: logins resolve a credential to a binding and record a
 * session; vhost/resource/topic checks are decided against every live session of the username
 * (intersection), after revocations and the kill switch. Every allow names the rule behind it.
 */
import { createHash } from 'node:crypto';
import type { AuthConfig } from './config.js';
import type { Clock, KillSwitchStore, RevocationStore } from './controls.js';
import { ReasonCode, type Verdict } from './decision.js';
import type { OpaqueTokenVerifier } from './extensions.js';
import type { JwtVerifier, RejectedToken, VerifiedToken } from './identity/jwt.js';
import { looksLikeJwt } from './identity/jwt.js';
import { decoyHash, verifyPassword } from './identity/static-users.js';
import type { AccessRequest, Binding, Policy } from './policy/engine.js';
import type { Permission, ResourceKind, Tag } from './policy/schema.js';
import { DecisionCache } from './sessions/cache.js';
import type { Session, SessionRegistry } from './sessions/registry.js';

/** The answer to one request, before it is formatted and recorded. */
export interface Outcome {
  verdict: Verdict;
  reason: ReasonCode;
  /** Subject or certificate identity; the username as sent when none was established. */
  identity: string;
  tenant?: string;
  sessionId?: string;
  tags?: Tag[];
  /** Policy rule behind the answer, e.g. `classes.producer.grants[1]`. */
  rule?: string;
  /** Secret-free detail for the log (e.g. a jose error code). */
  detail?: string;
}

/** A user-path request. `password` absent means an EXTERNAL (certificate) login. */
export interface LoginRequest {
  username: string;
  password?: string;
}

/** A vhost-path request. */
export interface VhostRequest {
  username: string;
  vhost: string;
}

/** A resource- or topic-path request (`routingKey` set for topic). */
export interface ResourceRequest {
  username: string;
  vhost: string;
  resource: ResourceKind;
  name: string;
  permission: Permission;
  routingKey?: string;
}

/** Collaborators of the decision core. */
export interface DecisionCoreDeps {
  config: AuthConfig;
  clock: Clock;
  policy: () => Policy;
  sessions: SessionRegistry;
  cache: DecisionCache;
  killSwitch: KillSwitchStore;
  revocations: RevocationStore;
  jwt?: JwtVerifier;
  introspector?: OpaqueTokenVerifier;
}

/** Decides logins and access checks. */
export class DecisionCore {
  constructor(private readonly deps: DecisionCoreDeps) {}

  /** User path: verify the credential, resolve the binding, record the session, grant tags. */
  async login(request: LoginRequest): Promise<Outcome> {
    const resolved = await this.authenticate(request);
    if ('reason' in resolved) return { verdict: 'deny', identity: request.username, ...resolved };
    const { binding, expiresAtMs, key } = resolved;
    const base = { identity: binding.identity, tenant: binding.tenant };

    const blocked = this.blocked(binding);
    if (blocked) return { verdict: 'deny', ...base, ...blocked };

    const session = this.deps.sessions.record(request.username, binding, expiresAtMs, key);
    this.deps.cache.invalidateUsername(request.username);
    const tags = this.deps.policy().tagsFor(binding);
    return {
      verdict: 'allow',
      reason: binding.kind === 'static' ? ReasonCode.AllowedStaticUser : ReasonCode.AllowedByGrant,
      ...base,
      sessionId: session.sessionId,
      tags,
      rule: `classes.${binding.className}`,
    };
  }

  /** Vhost path. */
  vhost(request: VhostRequest): Outcome {
    const key = DecisionCache.key(['vhost', request.vhost]);
    return this.decideForSessions(
      request.username,
      key,
      { vhost: request.vhost },
      (policy, binding) => policy.decideVhost(binding, request.vhost),
    );
  }

  /** Resource and topic paths. */
  access(request: ResourceRequest): Outcome {
    const target: AccessRequest = {
      vhost: request.vhost,
      resource: request.resource,
      name: request.name,
      permission: request.permission,
      ...(request.routingKey === undefined ? {} : { routingKey: request.routingKey }),
    };
    const path = request.routingKey === undefined ? 'resource' : 'topic';
    const key = DecisionCache.key([
      path,
      request.vhost,
      request.resource,
      request.name,
      request.permission,
      request.routingKey,
    ]);
    return this.decideForSessions(request.username, key, target, (policy, binding) =>
      policy.decideAccess(binding, target),
    );
  }

  /**
   * Every live session of the username must allow (intersection); the first denial decides.
   * Cached per username until the TTL or the earliest session expiry, whichever is sooner.
   */
  private decideForSessions(
    username: string,
    cacheKey: string,
    target: AccessRequest,
    decide: (
      policy: Policy,
      binding: Binding,
    ) => { verdict: Verdict; reason: ReasonCode; rule?: string },
  ): Outcome {
    const cached = this.deps.cache.get(username, cacheKey);
    if (cached) return { ...cached, detail: 'cached' };

    const { sessions, lapsed } = this.deps.sessions.live(username);
    if (sessions.length === 0) {
      return {
        verdict: 'deny',
        reason: lapsed ? ReasonCode.SessionExpired : ReasonCode.NoSession,
        identity: username,
      };
    }
    const policy = this.deps.policy();
    const outcome = this.intersect(sessions, (session) => {
      const blocked = this.blocked(session.binding, target);
      return blocked ? { verdict: 'deny', ...blocked } : decide(policy, session.binding);
    });
    const expiry = Math.min(...sessions.map((s) => s.expiresAtMs));
    const cacheable = { ...outcome };
    delete cacheable.detail;
    this.deps.cache.set(username, cacheKey, cacheable, expiry);
    return outcome;
  }

  private intersect(
    sessions: Session[],
    decide: (session: Session) => { verdict: Verdict; reason: ReasonCode; rule?: string },
  ): Outcome {
    let allowed: Outcome | undefined;
    for (const session of sessions) {
      const answer = decide(session);
      const outcome: Outcome = {
        ...answer,
        identity: session.binding.identity,
        tenant: session.binding.tenant,
        sessionId: session.sessionId,
      };
      if (answer.verdict === 'deny') return outcome;
      if (answer.reason === ReasonCode.AllowedByGrant && session.binding.kind === 'static') {
        outcome.reason = ReasonCode.AllowedStaticUser;
      }
      allowed ??= outcome;
    }
    return allowed as Outcome;
  }

  /** Revocation and kill switch, checked on every login and every access decision. */
  private blocked(
    binding: Binding,
    target?: AccessRequest,
  ): { reason: ReasonCode; detail?: string } | undefined {
    const subject = {
      kind: binding.kind,
      identity: binding.identity,
      tenant: binding.tenant,
      ...(binding.jti ? { jti: binding.jti } : {}),
    };
    const revoked = this.deps.revocations.matches(subject);
    if (revoked) {
      return {
        reason: revoked.kind === 'jti' ? ReasonCode.TokenRevoked : ReasonCode.IdentityRevoked,
        detail: revoked.kind,
      };
    }
    const killed = this.deps.killSwitch.matches(subject, target);
    return killed
      ? { reason: ReasonCode.KillSwitch, detail: `${killed.kind}:${killed.id}` }
      : undefined;
  }

  private async authenticate(
    request: LoginRequest,
  ): Promise<
    | { binding: Binding; expiresAtMs: number; key: string }
    | { reason: ReasonCode; detail?: string; tenant?: string }
  > {
    const policy = this.deps.policy();
    const now = this.deps.clock.nowMs();
    if (request.password === undefined) {
      // No password key at all: the broker's EXTERNAL mechanism (RABBITMQ.md section 1).
      const binding = policy.resolveCertificate(request.username);
      if (!binding) return { reason: ReasonCode.UnknownIdentity, detail: 'certificate' };
      const ttlMs = this.deps.config.sessions.certificateTtlSeconds * 1000;
      return { binding, expiresAtMs: now + ttlMs, key: 'certificate' };
    }
    const password = request.password;
    if (this.deps.jwt && looksLikeJwt(password)) {
      return this.fromToken(
        policy,
        request.username,
        await this.deps.jwt.verify(password, request.username),
        password,
      );
    }
    const staticUser = policy.staticUser(request.username);
    if (staticUser) {
      if (!(await verifyPassword(password, staticUser.passwordHash)))
        return { reason: ReasonCode.BadCredentials, detail: 'static' };
      const ttlMs = this.deps.config.sessions.staticUserTtlSeconds * 1000;
      return { binding: policy.bindStatic(staticUser), expiresAtMs: now + ttlMs, key: 'static' };
    }
    if (this.deps.introspector) {
      return this.fromToken(
        policy,
        request.username,
        await this.deps.introspector.verify(password, request.username),
        password,
      );
    }
    // Same cost as a wrong static password, so timing does not reveal which names exist.
    if (policy.hasStaticUsers) await verifyPassword(password, decoyHash);
    return { reason: ReasonCode.BadCredentials, detail: 'unknown_user' };
  }

  private fromToken(
    policy: Policy,
    username: string,
    verified: VerifiedToken | RejectedToken,
    token: string,
  ):
    | { binding: Binding; expiresAtMs: number; key: string }
    | { reason: ReasonCode; detail?: string } {
    if (!verified.ok) return { reason: verified.reason, detail: verified.detail };
    const binding = policy.resolveJwt(verified.claims, username);
    if (typeof binding === 'string') return { reason: binding, detail: 'claims' };
    // The session key is the jti, or a short hash of the token: never the token itself.
    const key = verified.jti !== undefined ? `jti:${verified.jti}` : `tok:${shortHash(token)}`;
    return { binding, expiresAtMs: verified.expiresAtMs, key };
  }
}

/** First 16 hex digits of SHA-256: enough to tell tokens apart, useless to replay. */
export function shortHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}
