/**
 * The compiled policy: resolves callers to bindings (tenant + class + placeholder values) and
 * decides vhost, resource and topic requests for one binding. Order of evaluation:
 * explicit deny rules, then grants, then deny (nothing matched). The kill switch, revocations and
 * sessions are applied around this, in decide.ts.
 */
import { ReasonCode } from '../decision.js';
import { spiffeNamespace, type LoadedPolicy } from './load.js';
import { compilePattern, placeholdersOf, type Matcher, type PatternVars } from './patterns.js';
import type {
  ClassSpec,
  DenySpec,
  GrantSpec,
  Permission,
  PolicyDocument,
  ResourceKind,
  StaticUserSpec,
  Tag,
} from './schema.js';

/** Who a login resolved to; kept in the session registry, never holds a secret. */
export interface Binding {
  kind: 'jwt' | 'certificate' | 'static';
  /** JWT subject, certificate identity or static username. */
  identity: string;
  tenant: string;
  className: string;
  /** Placeholder values: tenant, username, service, claim:NAME. */
  vars: PatternVars;
  /** JWT `jti`, when present. */
  jti?: string;
}

/** A vhost, resource or topic request in policy terms. */
export interface AccessRequest {
  vhost: string;
  resource?: ResourceKind;
  name?: string;
  permission?: Permission;
  routingKey?: string;
}

/** The policy's answer with the rule that produced it. */
export interface PolicyAnswer {
  verdict: 'allow' | 'deny';
  reason: ReasonCode;
  /** Rule location such as `classes.producer.grants[1]`; absent for "nothing matched". */
  rule?: string;
}

interface CompiledRule {
  where: string;
  vhost: Matcher;
  resource?: ResourceKind;
  name: Matcher;
  permissions: ReadonlySet<Permission>;
  routingKeys?: Matcher[];
}

interface CompiledClass {
  vhosts: Matcher[];
  grants: CompiledRule[];
  denies: CompiledRule[];
}

interface CertificateMatcher {
  regex: RegExp;
  entry: { id: string; class: string; tenant?: string };
}

const maxCompiledBindings = 10_000;

/** An immutable compiled policy; a reload builds a new one and swaps it atomically. */
export class Policy {
  readonly version: string;
  readonly source: string;
  readonly document: PolicyDocument;
  private readonly tenants: ReadonlySet<string>;
  private readonly certificates: CertificateMatcher[];
  private readonly staticUsers: ReadonlyMap<string, StaticUserSpec>;
  private readonly claimNames: string[];
  private readonly compiled = new Map<string, CompiledClass>();

  constructor(loaded: LoadedPolicy) {
    this.version = loaded.version;
    this.source = loaded.source;
    this.document = loaded.document;
    this.tenants = new Set(loaded.document.tenants);
    this.certificates = (loaded.document.identities.certificates?.entries ?? []).map(toCertMatcher);
    this.staticUsers = new Map(loaded.document.identities.staticUsers.map((u) => [u.username, u]));
    this.claimNames = referencedClaims(loaded.document);
  }

  /** Resolves verified JWT claims to a binding, or the reason it cannot be one. */
  resolveJwt(claims: Record<string, unknown>, identity: string): Binding | ReasonCode {
    const spec = this.document.identities.jwt;
    if (!spec) return ReasonCode.UnknownIdentity;
    const tenant = claims[spec.tenantClaim];
    const className = claims[spec.classClaim];
    if (typeof tenant !== 'string' || typeof className !== 'string')
      return ReasonCode.TokenClaimMissing;
    if (!this.tenants.has(tenant) || !spec.classes.includes(className))
      return ReasonCode.UnknownIdentity;
    const vars: Record<string, string | undefined> = { tenant, username: identity };
    for (const name of this.claimNames) {
      const value = claims[name];
      vars[`claim:${name}`] = typeof value === 'string' ? value : undefined;
    }
    const jti = typeof claims.jti === 'string' ? claims.jti : undefined;
    return {
      kind: 'jwt',
      identity,
      tenant,
      className,
      vars,
      ...(jti === undefined ? {} : { jti }),
    };
  }

  /** Resolves an EXTERNAL login's username to a declared certificate identity. */
  resolveCertificate(username: string): Binding | undefined {
    for (const { regex, entry } of this.certificates) {
      const match = regex.exec(username);
      if (!match) continue;
      const tenant = entry.tenant ?? match.groups?.tenant ?? spiffeNamespace(username);
      if (tenant === undefined || !this.tenants.has(tenant)) continue;
      const service = match.groups?.service ?? /\/sa\/([^/]+)$/.exec(username)?.[1];
      return {
        kind: 'certificate',
        identity: username,
        tenant,
        className: entry.class,
        vars: { tenant, username, service },
      };
    }
    return undefined;
  }

  /** The static user with this name, if the policy declares one. */
  staticUser(username: string): StaticUserSpec | undefined {
    return this.staticUsers.get(username);
  }

  /** True when the policy declares any static user. */
  get hasStaticUsers(): boolean {
    return this.staticUsers.size > 0;
  }

  /** Binding for a static user whose password was already verified. */
  bindStatic(user: StaticUserSpec): Binding {
    // No tenant: the empty name is in no tenant list, matches no kill switch and voids every
    // {tenant} pattern, so such a user gets its class's tags and nothing else.
    const tenant = user.tenant ?? '';
    const vars = { tenant, username: user.username };
    return {
      kind: 'static',
      identity: user.username,
      tenant,
      className: user.class,
      vars,
    };
  }

  /** Management tags of the binding's class (an explicit grant; empty by default). */
  tagsFor(binding: Binding): Tag[] {
    return [...(this.classSpec(binding)?.tags ?? [])];
  }

  /** Decides a vhost-path request. */
  decideVhost(binding: Binding, vhost: string): PolicyAnswer {
    const compiled = this.compile(binding);
    if (!compiled || !this.confined(binding, vhost))
      return { verdict: 'deny', reason: ReasonCode.NoMatchingGrant };
    const deny = compiled.denies.find(
      (rule) => rule.resource === undefined && rule.vhost.test(vhost),
    );
    if (deny) return { verdict: 'deny', reason: ReasonCode.ExplicitDeny, rule: deny.where };
    const index = compiled.vhosts.findIndex((m) => m.test(vhost));
    return index < 0
      ? { verdict: 'deny', reason: ReasonCode.NoMatchingGrant }
      : {
          verdict: 'allow',
          reason: ReasonCode.AllowedByGrant,
          rule: `classes.${binding.className}.vhosts[${index}]`,
        };
  }

  /** Decides a resource- or topic-path request (topic when `routingKey` is set). */
  decideAccess(binding: Binding, request: AccessRequest): PolicyAnswer {
    const compiled = this.compile(binding);
    if (!compiled || !this.confined(binding, request.vhost))
      return { verdict: 'deny', reason: ReasonCode.NoMatchingGrant };
    if (!compiled.vhosts.some((m) => m.test(request.vhost)))
      return { verdict: 'deny', reason: ReasonCode.NoMatchingGrant };
    const deny = compiled.denies.find((rule) => ruleMatches(rule, request, true));
    if (deny) return { verdict: 'deny', reason: ReasonCode.ExplicitDeny, rule: deny.where };
    const grant = compiled.grants.find((rule) => ruleMatches(rule, request, false));
    return grant
      ? { verdict: 'allow', reason: ReasonCode.AllowedByGrant, rule: grant.where }
      : { verdict: 'deny', reason: ReasonCode.NoMatchingGrant };
  }

  /** Static users never leave their tenant's vhost, whatever their class grants. */
  private confined(binding: Binding, vhost: string): boolean {
    return binding.kind !== 'static' || vhost === binding.tenant;
  }

  private classSpec(binding: Binding): ClassSpec | undefined {
    return Object.hasOwn(this.document.classes, binding.className)
      ? this.document.classes[binding.className]
      : undefined;
  }

  private compile(binding: Binding): CompiledClass | undefined {
    const spec = this.classSpec(binding);
    if (!spec || !this.tenants.has(binding.tenant)) return undefined;
    const key = `${binding.className}\u0000${JSON.stringify(binding.vars)}`;
    const hit = this.compiled.get(key);
    if (hit) return hit;
    const compiled = compileClass(binding, spec, this.document.deny);
    if (this.compiled.size >= maxCompiledBindings) this.compiled.clear();
    this.compiled.set(key, compiled);
    return compiled;
  }
}

function compileClass(binding: Binding, spec: ClassSpec, globalDenies: DenySpec[]): CompiledClass {
  const base = `classes.${binding.className}`;
  const applies = (rule: DenySpec): boolean =>
    !rule.classes || rule.classes.includes(binding.className);
  return {
    vhosts: spec.vhosts.map((p) => compilePattern(p, binding.vars)),
    grants: spec.grants.map((g, i) => compileRule(g, `${base}.grants[${i}]`, binding.vars)),
    denies: [
      ...globalDenies.map((d, i) => [d, `deny[${i}]`] as const),
      ...spec.deny.map((d, i) => [d, `${base}.deny[${i}]`] as const),
    ]
      .filter(([rule]) => applies(rule))
      .map(([rule, where]) => compileRule(rule, where, binding.vars)),
  };
}

function compileRule(rule: GrantSpec | DenySpec, where: string, vars: PatternVars): CompiledRule {
  return {
    where,
    vhost: compilePattern(rule.vhost, vars),
    ...(rule.resource === undefined ? {} : { resource: rule.resource }),
    name: compilePattern(rule.name, vars),
    permissions: new Set(rule.permissions),
    ...(rule.routingKeys
      ? { routingKeys: rule.routingKeys.map((p) => compilePattern(p, vars)) }
      : {}),
  };
}

/**
 * A grant matches only its own resource kind; a deny rule without `resource` matches all kinds.
 * Topic requests need a routing-key match on grants; a deny rule without routingKeys covers any key.
 */
function ruleMatches(rule: CompiledRule, request: AccessRequest, isDeny: boolean): boolean {
  if (
    request.resource === undefined ||
    request.name === undefined ||
    request.permission === undefined
  )
    return false;
  if (rule.resource === undefined ? !isDeny : rule.resource !== request.resource) return false;
  if (!rule.vhost.test(request.vhost) || !rule.name.test(request.name)) return false;
  if (!rule.permissions.has(request.permission)) return false;
  if (request.routingKey === undefined) return request.resource !== 'topic' || isDeny;
  if (!rule.routingKeys) return isDeny;
  const key = request.routingKey;
  return rule.routingKeys.some((m) => m.test(key));
}

function toCertMatcher(entry: { id: string; class: string; tenant?: string }): CertificateMatcher {
  // Placeholders in a certificate id capture one path segment without '/' and the other
  // SPIFFE separators, so `{tenant}` can never span `ns/x/sa`.
  const source = entry.id
    .split(/(\{tenant\}|\{service\})/)
    .map((part) =>
      part === '{tenant}'
        ? '(?<tenant>[a-z0-9][a-z0-9_-]*)'
        : part === '{service}'
          ? '(?<service>[A-Za-z0-9._-]+)'
          : part.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'),
    )
    .join('');
  return { regex: new RegExp(`^${source}$`), entry };
}

function referencedClaims(policy: PolicyDocument): string[] {
  const patterns = [
    ...Object.values(policy.classes).flatMap((c) => [
      ...c.vhosts,
      ...[...c.grants, ...c.deny].flatMap((g) => [g.vhost, g.name, ...(g.routingKeys ?? [])]),
    ]),
    ...policy.deny.flatMap((g) => [g.vhost, g.name, ...(g.routingKeys ?? [])]),
  ];
  const names = patterns.flatMap(placeholdersOf).filter((p) => p.startsWith('claim:'));
  return [...new Set(names.map((p) => p.slice('claim:'.length)))];
}
