import { createHash } from 'node:crypto';

import { ErrorCode, WarrenError } from '../../lib/errors.js';
import { defaultBackendPaths } from '../auth-http/paths.js';
import type { BrokerPorts, BrokerVersion } from './versions.js';
import { isBrokerVersion } from './versions.js';

/** Where the EXTERNAL username comes from in the client certificate (`ssl_cert_login_from`). */
export type CertLoginFrom = 'distinguished_name' | 'common_name' | 'uri_san';

/**
 * Which backend decides logins and permissions. `'http'`: the auth service (optionally behind
 * `cache`, optionally followed by `internal` with `fallbackInternal`). `'internal'`: the
 * broker's own user database alone, no HTTP call at all: the baseline a storm's other auth
 * paths are compared with.
 */
export type AuthBackendChoice = 'http' | 'internal';

/** HTTP method the broker's auth backend uses (`auth_http.http_method`). */
export type BackendHttpMethod = 'post' | 'get';

/** The four request paths of the HTTP auth backend, appended to the backend URL. */
export interface BackendPaths {
  user: string;
  vhost: string;
  resource: string;
  topic: string;
}

/** Options of the `cache` auth backend placed in front of `http`. */
export interface CacheOptions {
  /** How long a success stays cached (`auth_cache.cache_ttl`); default 15000 ms. */
  ttlMs?: number;
  /** Cache refusals too (`auth_cache.cache_refusals`); default false. */
  cacheRefusals?: boolean;
}

/**
 * A user of the broker's own `internal` database (consulted only with `fallbackInternal` or
 * `authBackend: 'internal'`).
 */
export interface InternalUser {
  username: string;
  /** Stored only as RabbitMQ's salted SHA-256 hash in definitions.json (0600), never in clear. */
  password: string;
  /** User tags, e.g. ['administrator'] for a Warren-only management user; default none. */
  tags?: string[];
  /** Vhosts granted full configure/write/read; default none. */
  vhosts?: string[];
}

/** What a caller may choose when starting a local broker. Everything but `version` is optional. */
export interface BrokerOptions {
  /** RabbitMQ version: '3.10' (host package) or '4.0' (debootstrap root). */
  version: BrokerVersion;
  /**
   * Instance name, so several brokers (two of one version too) run at once with their own node,
   * ports and folders. Lower-case letters, digits and `-`; default `v3-10` / `v4-0`.
   */
  instance?: string;
  /**
   * `'http'` (default): the HTTP auth backend decides. `'internal'`: only the broker's internal
   * database decides (`auth_backends.1 = internal`, no HTTP backend in the chain): users come from
   * `internalUsers` or `rabbitmqctl add_user` / `import_definitions`. Not combinable with `cache`
   * or `fallbackInternal`, which are about the HTTP chain.
   */
  authBackend?: AuthBackendChoice;
  /** Base URL of the HTTP auth backend; default `http://127.0.0.1:8600` (reference-auth). */
  backendUrl?: string;
  /** Paths under `backendUrl`; default `/auth/user`, `/auth/vhost`, `/auth/resource`, `/auth/topic`. */
  backendPaths?: Partial<BackendPaths>;
  /** HTTP method of the backend calls; default 'post' (RabbitMQ's own default is GET). */
  httpMethod?: BackendHttpMethod;
  /** Put the `cache` backend in front of `http` (true = defaults); default off. */
  cache?: boolean | CacheOptions;
  /** Source of the EXTERNAL username; default 'distinguished_name' ('uri_san' = URI SAN #0). */
  certLoginFrom?: CertLoginFrom;
  /** Check client certificates against the CA's CRLs at handshake; default true. */
  crlCheck?: boolean;
  /** `auth_http.request_timeout` and `connection_timeout`; default 2000 ms (RabbitMQ: 15000). */
  authTimeoutMs?: number;
  /** Append the `internal` backend after http/cache (a fail-open chain, for probes); default false. */
  fallbackInternal?: boolean;
  /**
   * Users created in the internal database at boot; they matter only with `fallbackInternal` or
   * `authBackend: 'internal'`.
   */
  internalUsers?: InternalUser[];
  /** Virtual hosts created at boot; default `/`, `acme`, `globex`. */
  vhosts?: string[];
  /** Port overrides; unset ports come from the version's plan for the instance's slot. */
  ports?: Partial<BrokerPorts>;
  /** Deadline for the node to become ready; default 120000 ms. */
  readyTimeoutMs?: number;
}

/** Options with every default filled in, validated and frozen. */
export interface ResolvedBrokerOptions {
  version: BrokerVersion;
  instance: string;
  /**
   * Present, as 'internal', only when the internal database alone decides; absent means the
   * HTTP chain. Absent rather than 'http' so that state records written before the option
   * existed still equal a fresh resolution and running brokers are reused, not refused.
   */
  authBackend?: 'internal';
  backendUrl: string;
  backendPaths: BackendPaths;
  httpMethod: BackendHttpMethod;
  cache: Required<CacheOptions> | undefined;
  certLoginFrom: CertLoginFrom;
  crlCheck: boolean;
  authTimeoutMs: number;
  fallbackInternal: boolean;
  internalUsers: InternalUser[];
  vhosts: string[];
  portOverrides: Partial<BrokerPorts>;
  readyTimeoutMs: number;
}

/** Defaults, with units, in one place. */
export const brokerDefaults = Object.freeze({
  backendUrl: 'http://127.0.0.1:8600',
  backendPaths: defaultBackendPaths,
  httpMethod: 'post' as BackendHttpMethod,
  cacheTtlMs: 15_000,
  certLoginFrom: 'distinguished_name' as CertLoginFrom,
  authTimeoutMs: 2_000,
  vhosts: Object.freeze(['/', 'acme', 'globex']),
  readyTimeoutMs: 120_000,
});

const certLoginSources: readonly CertLoginFrom[] = ['distinguished_name', 'common_name', 'uri_san'];
const authBackendChoices: readonly AuthBackendChoice[] = ['http', 'internal'];
const instancePattern = /^[a-z][a-z0-9-]{0,30}$/;

/** The default instance name of a version: `v3-10`, `v4-0`. */
export function defaultInstance(version: BrokerVersion): string {
  return `v${version.replace('.', '-')}`;
}

/** Fills in defaults and validates; errors name the offending option and the fix. */
export function resolveBrokerOptions(options: BrokerOptions): ResolvedBrokerOptions {
  if (!isBrokerVersion(String(options.version))) {
    throw badOption('version', `"${String(options.version)}" is not supported; use 3.10 or 4.0`);
  }
  const instance = options.instance ?? defaultInstance(options.version);
  if (!instancePattern.test(instance)) {
    throw badOption('instance', `"${instance}" must match ${instancePattern} (e.g. tls-3-10)`);
  }
  const resolved: ResolvedBrokerOptions = {
    version: options.version,
    instance,
    ...(checkOneOf('authBackend', options.authBackend ?? 'http', authBackendChoices) === 'internal'
      ? { authBackend: 'internal' as const }
      : {}),
    backendUrl: checkBackendUrl(options.backendUrl ?? brokerDefaults.backendUrl),
    backendPaths: { ...brokerDefaults.backendPaths, ...options.backendPaths },
    httpMethod: checkOneOf('httpMethod', options.httpMethod ?? brokerDefaults.httpMethod, [
      'post',
      'get',
    ]),
    cache: resolveCache(options.cache),
    certLoginFrom: checkOneOf(
      'certLoginFrom',
      options.certLoginFrom ?? brokerDefaults.certLoginFrom,
      certLoginSources,
    ),
    crlCheck: options.crlCheck ?? true,
    authTimeoutMs: checkPositive(
      'authTimeoutMs',
      options.authTimeoutMs,
      brokerDefaults.authTimeoutMs,
    ),
    fallbackInternal: options.fallbackInternal ?? false,
    internalUsers: checkInternalUsers(options.internalUsers ?? []),
    vhosts: checkVhosts(options.vhosts ?? [...brokerDefaults.vhosts]),
    portOverrides: checkPorts(options.ports ?? {}),
    readyTimeoutMs: checkPositive(
      'readyTimeoutMs',
      options.readyTimeoutMs,
      brokerDefaults.readyTimeoutMs,
    ),
  };
  for (const [key, path] of Object.entries(resolved.backendPaths)) {
    if (!path.startsWith('/')) throw badOption(`backendPaths.${key}`, 'must start with "/"');
  }
  checkInternalOnly(resolved);
  return Object.freeze(resolved);
}

// cache and the internal fallback shape the HTTP chain; with internal alone they would either be
// ignored silently or build a different chain than the caller asked for.
function checkInternalOnly(resolved: ResolvedBrokerOptions): void {
  if (resolved.authBackend !== 'internal') return;
  if (resolved.cache) {
    throw badOption(
      'cache',
      "applies to the HTTP backend; leave it off with authBackend 'internal'",
    );
  }
  if (resolved.fallbackInternal) {
    throw badOption(
      'fallbackInternal',
      "chains internal after http; authBackend 'internal' already uses internal alone",
    );
  }
}

function resolveCache(cache: BrokerOptions['cache']): Required<CacheOptions> | undefined {
  if (cache === undefined || cache === false) return undefined;
  const given = cache === true ? {} : cache;
  return {
    ttlMs: checkPositive('cache.ttlMs', given.ttlMs, brokerDefaults.cacheTtlMs),
    cacheRefusals: given.cacheRefusals ?? false,
  };
}

function checkBackendUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badOption('backendUrl', `"${value}" is not a URL; e.g. http://127.0.0.1:8600`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badOption('backendUrl', 'must be an http:// or https:// URL');
  }
  if (url.username !== '' || url.password !== '') {
    throw badOption('backendUrl', 'must not carry credentials');
  }
  return value.replace(/\/+$/, '');
}

function checkOneOf<T extends string>(field: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) {
    throw badOption(field, `"${value}" is not one of ${allowed.join(', ')}`);
  }
  return value;
}

function checkPositive(field: string, value: number | undefined, fallback: number): number {
  const chosen = value ?? fallback;
  if (!Number.isInteger(chosen) || chosen <= 0) {
    throw badOption(field, `must be a positive whole number of milliseconds, got ${chosen}`);
  }
  return chosen;
}

function checkVhosts(vhosts: string[]): string[] {
  for (const vhost of vhosts) {
    const hasControl = [...vhost].some((char) => char.charCodeAt(0) < 0x20);
    if (vhost.length === 0 || vhost.length > 255 || hasControl || /["\\]/.test(vhost)) {
      throw badOption('vhosts', `"${vhost}" is not a usable vhost name`);
    }
  }
  return [...new Set(vhosts)];
}

function checkInternalUsers(users: InternalUser[]): InternalUser[] {
  for (const [index, user] of users.entries()) {
    if (!user.username || !user.password) {
      throw badOption(`internalUsers[${index}]`, 'needs a username and a password');
    }
    if (user.username.startsWith('guest')) {
      // loopback_users matches names starting with guest (RABBITMQ.md section 6).
      throw badOption(`internalUsers[${index}].username`, 'must not start with "guest"');
    }
  }
  return users.map((user) => ({ ...user, tags: user.tags ?? [], vhosts: user.vhosts ?? [] }));
}

function checkPorts(ports: Partial<BrokerPorts>): Partial<BrokerPorts> {
  for (const [key, port] of Object.entries(ports)) {
    if (port === undefined) continue;
    if (!Number.isInteger(port) || port < 1024 || port > 65535) {
      throw badOption(`ports.${key}`, `must be a port between 1024 and 65535, got ${port}`);
    }
    if (port >= 35672 && port <= 35682) {
      throw badOption(`ports.${key}`, `${port} is in rabbitmqctl's own range 35672-35682`);
    }
  }
  return { ...ports };
}

function badOption(field: string, problem: string): WarrenError {
  return new WarrenError(ErrorCode.BadOption, `broker option ${field}: ${problem}`);
}

/**
 * The options with internal users' passwords replaced by a short SHA-256 prefix: what state.json
 * records and what "already running with the same options?" compares. Secrets never reach disk
 * outside the hashed definitions.
 */
export function redactOptions(options: ResolvedBrokerOptions): ResolvedBrokerOptions {
  return {
    ...options,
    internalUsers: options.internalUsers.map((user) => ({
      ...user,
      password: `sha256:${createHash('sha256').update(user.password).digest('hex').slice(0, 12)}`,
    })),
  };
}
