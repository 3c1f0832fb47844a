/**
 * Service configuration: one defaults object, overridden in one precedence chain
 * (flag → config file `service:` block → `WARREN_AUTH_*` environment → default), validated once,
 * then frozen. The policy (who may do what) lives in the policy file, not here.
 */
import { z } from 'zod';
import { AuthErrorCode, AuthServiceError } from './errors.js';

/** Every option with its default; units are in the names. */
export const defaults = {
  /** Decision listener address. The broker is its only client: keep it on loopback or mTLS. */
  listen: { host: '127.0.0.1', port: 8600 },
  /** Policy YAML file; empty string means the embedded demo policy (policy/demo.yaml). */
  policyFile: '',
  /** Reload the policy file when it changes on disk. */
  watchPolicy: true,
  /** Poll interval for policy file changes, milliseconds (polling survives editors' renames). */
  policyPollIntervalMs: 1000,
  /** `Cache-Control: max-age` on decisions, seconds. Short: it bounds how long a revocation waits. */
  decisionTtlSeconds: 5,
  jwt: {
    /** Accept JWTs as AMQP passwords at all. */
    enabled: true,
    /** Accepted `iss` values. */
    issuers: ['http://127.0.0.1:8700'],
    /** Accepted `aud` values (any one must match). */
    audiences: ['rabbitmq'],
    /** JWKS document URL (http or https). */
    jwksUrl: 'http://127.0.0.1:8700/.well-known/jwks.json',
    /** Asymmetric algorithms only: an HMAC alg here would let a public key act as a secret. */
    algorithms: ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'],
    /** Tolerance for `exp`, `nbf` and `iat`, seconds. */
    clockSkewSeconds: 30,
    /** Largest token accepted, bytes; larger ones are denied before any parsing. */
    maxTokenBytes: 8192,
    /** Claims every token must carry. */
    requiredClaims: ['sub', 'exp', 'iat'],
    /** Claim the AMQP username must equal. */
    usernameClaim: 'sub',
    /** Oldest accepted `iat`, seconds; also refuses an `iat` in the future (beyond the skew). */
    maxTokenAgeSeconds: 86_400,
    /** Required `typ` header (RFC 8725 §3.11 explicit typing); empty string skips the check. */
    requiredType: 'JWT',
    /** JWKS fetch timeout, milliseconds. */
    jwksTimeoutMs: 2000,
    /** Background JWKS refresh interval, seconds; last-good keys stay when a refresh fails. */
    jwksRefreshSeconds: 300,
    /** Least time between refetches triggered by an unknown `kid`, seconds. */
    unknownKidCooldownSeconds: 30,
  },
  limits: {
    /** Longest accepted parameter value, bytes after decoding (tokens have their own limit). */
    maxValueBytes: 1024,
    /** Most parameters in one request; more is malformed. */
    maxParameters: 32,
    /** Largest POST body or query string, bytes; larger ones are answered `deny`. */
    maxRequestBytes: 16384,
    /**
     * Largest request head Node's parser reads before answering 431, bytes. Kept far above
     * maxRequestBytes: an oversized GET must get a `deny`, because any error status makes the
     * broker try the next backend in its chain (RABBITMQ.md section 2).
     */
    maxHeaderBytes: 1048576,
  },
  sessions: {
    /** Lifetime of a certificate (EXTERNAL) login record, seconds; renewed by every login. */
    certificateTtlSeconds: 3600,
    /** Lifetime of a static-user login record, seconds; renewed by every login. */
    staticUserTtlSeconds: 3600,
    /** Live login records kept per username; the oldest is dropped beyond this. */
    maxPerUsername: 32,
    /** How often expired records are swept and reported, milliseconds. */
    sweepIntervalMs: 1000,
  },
  cache: {
    /** Decision cache lifetime for vhost/resource/topic answers, milliseconds; 0 disables it. */
    ttlMs: 5000,
    /** Most cached decisions. */
    maxEntries: 100_000,
  },
  log: {
    /** pino level for the service log (decisions log at `info`). */
    level: 'info',
  },
  // The operations half (reference-auth/ops, reference-auth/admin; see ops/README.md).
  tls: {
    /** PEM certificate chain of the decision listener; with keyFile, the listener serves HTTPS. */
    certFile: '',
    /** PEM private key of the decision listener. */
    keyFile: '',
    /** PEM CA bundle that broker client certificates must chain to (needed unless `none`). */
    caFile: '',
    /** Broker client certificate: `none`, `request` (verified if sent) or `require`. */
    clientCertificate: 'none' as 'none' | 'request' | 'require',
    /** Client certificate names (CN, DNS or URI SAN) accepted; empty: any from caFile. */
    allowedClientNames: [] as string[],
  },
  admin: {
    /** Start the admin API; without credentials it is not started (a warning says why). */
    enabled: true,
    /** Admin listener address: loopback, apart from the broker-facing listener. */
    host: '127.0.0.1',
    port: 8601,
    /** Bearer token (16+ characters); set it through WARREN_AUTH_ADMIN_TOKEN, not a file. */
    token: '',
    /** Basic credentials, as an alternative to the token (password 16+ characters). */
    username: '',
    password: '',
  },
  audit: {
    /** Hash-chained JSON-lines audit file; empty: no audit file. */
    file: '',
    /** Records queued in memory before a gap record replaces the overflow. */
    maxPendingRecords: 10_000,
    /** fdatasync after every written batch. */
    syncEachBatch: true,
  },
  metrics: {
    /** Also export Node process metrics (CPU, heap, event-loop lag) on /metrics. */
    processMetrics: true,
  },
  management: {
    /** RabbitMQ management API base URL for evictions, e.g. http://127.0.0.1:15672; empty: off. */
    url: '',
    /** Management user with the administrator tag (WARREN_AUTH_MANAGEMENT_USERNAME/_PASSWORD). */
    username: '',
    password: '',
    /** Eviction request deadline, milliseconds. */
    timeoutMs: 5000,
  },
  introspection: {
    /** RFC 7662 endpoint for opaque (non-JWT) tokens; empty: opaque tokens are denied. */
    endpoint: '',
    clientId: '',
    clientSecret: '',
    /** Per-call deadline, milliseconds. */
    timeoutMs: 1000,
    /** Longest an active answer is cached (never past the token's exp), seconds. */
    maxCacheSeconds: 60,
    /** How long an inactive answer is cached, seconds. */
    inactiveCacheSeconds: 10,
    /** Consecutive failures that open the circuit breaker. */
    failureThreshold: 5,
    /** Time the breaker stays open before one trial call, milliseconds. */
    openMs: 10_000,
  },
  guard: {
    /** Sustained decisions per second per username; 0 turns the rate limit off. */
    ratePerSecond: 200,
    /** Decisions a username may make at once after being idle. */
    burst: 400,
    /** Usernames tracked by the rate limiter at once. */
    maxTrackedIdentities: 100_000,
    /** Admitted decisions still awaiting a dependency before new ones are shed; 0: off. */
    maxInFlight: 512,
    /** Event-loop lag above which new decisions are shed, milliseconds; 0: off. */
    maxEventLoopDelayMs: 500,
  },
};

/** Fully resolved, validated, frozen configuration. */
export type AuthConfig = DeepReadonly<typeof defaults>;

type DeepReadonly<T> = {
  readonly [K in keyof T]: T[K] extends object ? DeepReadonly<T[K]> : T[K];
};

/** A partial override at any depth. */
export type ConfigOverride = { [K in keyof typeof defaults]?: unknown };

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const positiveInt = z.number().int().positive();

const schema = z.strictObject({
  listen: z.strictObject({ host: z.string().min(1), port: z.number().int().min(0).max(65535) }),
  policyFile: z.string(),
  watchPolicy: z.boolean(),
  policyPollIntervalMs: positiveInt,
  decisionTtlSeconds: z.number().int().min(0),
  jwt: z.strictObject({
    enabled: z.boolean(),
    issuers: z.array(z.string().min(1)).min(1),
    audiences: z.array(z.string().min(1)).min(1),
    jwksUrl: z.url({ protocol: /^https?$/ }),
    algorithms: z
      .array(
        z.enum([
          'RS256',
          'RS384',
          'RS512',
          'PS256',
          'PS384',
          'PS512',
          'ES256',
          'ES384',
          'ES512',
          'EdDSA',
        ]),
      )
      .min(1),
    clockSkewSeconds: z.number().int().min(0).max(300),
    maxTokenBytes: positiveInt,
    requiredClaims: z.array(z.string().min(1)),
    usernameClaim: z.string().min(1),
    maxTokenAgeSeconds: positiveInt,
    requiredType: z.string(),
    jwksTimeoutMs: positiveInt,
    jwksRefreshSeconds: positiveInt,
    unknownKidCooldownSeconds: z.number().int().min(0),
  }),
  limits: z.strictObject({
    maxValueBytes: positiveInt,
    maxParameters: positiveInt,
    maxRequestBytes: positiveInt,
    maxHeaderBytes: positiveInt,
  }),
  sessions: z.strictObject({
    certificateTtlSeconds: positiveInt,
    staticUserTtlSeconds: positiveInt,
    maxPerUsername: positiveInt,
    sweepIntervalMs: positiveInt,
  }),
  cache: z.strictObject({ ttlMs: z.number().int().min(0), maxEntries: positiveInt }),
  log: z.strictObject({ level: z.enum(logLevels) }),
  tls: z.strictObject({
    certFile: z.string(),
    keyFile: z.string(),
    caFile: z.string(),
    clientCertificate: z.enum(['none', 'request', 'require']),
    allowedClientNames: z.array(z.string().min(1)),
  }),
  admin: z.strictObject({
    enabled: z.boolean(),
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    token: z.string(),
    username: z.string(),
    password: z.string(),
  }),
  audit: z.strictObject({
    file: z.string(),
    maxPendingRecords: positiveInt,
    syncEachBatch: z.boolean(),
  }),
  metrics: z.strictObject({ processMetrics: z.boolean() }),
  management: z.strictObject({
    url: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]),
    username: z.string(),
    password: z.string(),
    timeoutMs: positiveInt,
  }),
  introspection: z.strictObject({
    endpoint: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]),
    clientId: z.string(),
    clientSecret: z.string(),
    timeoutMs: positiveInt,
    maxCacheSeconds: z.number().int().min(0),
    inactiveCacheSeconds: z.number().int().min(0),
    failureThreshold: positiveInt,
    openMs: positiveInt,
  }),
  guard: z.strictObject({
    ratePerSecond: z.number().min(0),
    burst: z.number().int().min(1),
    maxTrackedIdentities: positiveInt,
    maxInFlight: z.number().int().min(0),
    maxEventLoopDelayMs: z.number().int().min(0),
  }),
});

/** Environment variable prefix; `jwt.clockSkewSeconds` reads `WARREN_AUTH_JWT_CLOCK_SKEW_SECONDS`. */
export const envPrefix = 'WARREN_AUTH_';

/** Sources of configuration, highest precedence first in `resolveConfig`. */
export interface ConfigSources {
  /** Command-line overrides (already parsed). */
  flags?: ConfigOverride;
  /** The `service:` block of the config/policy file. */
  file?: ConfigOverride;
  /** Environment, normally `process.env`; only `WARREN_AUTH_*` keys are read. */
  env?: Record<string, string | undefined>;
}

/**
 * Merges defaults ← env ← file ← flags, validates and freezes the result.
 * Throws AuthServiceError(BadConfig) naming the offending option and where it came from.
 */
export function resolveConfig(sources: ConfigSources = {}): AuthConfig {
  const fromEnv = readEnv(sources.env ?? {});
  const merged = [fromEnv, sources.file ?? {}, sources.flags ?? {}].reduce<unknown>(
    (acc, layer) => deepMerge(acc, layer),
    structuredClone(defaults),
  );
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '(root)';
    throw new AuthServiceError(
      AuthErrorCode.BadConfig,
      `config option "${field}": ${issue?.message ?? 'invalid'} ` +
        `(set it by flag, the file's service: block or ${envName(field.split('.'))})`,
    );
  }
  return deepFreeze(parsed.data) as AuthConfig;
}

/** Parses `host:port` (the `--listen` flag and WARREN_AUTH_LISTEN). */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(value.trim());
  if (!match) {
    throw new AuthServiceError(
      AuthErrorCode.BadConfig,
      `listen "${value}" is not HOST:PORT (example: 127.0.0.1:8600)`,
    );
  }
  return { host: match[1] as string, port: Number(match[2]) };
}

function envName(path: string[]): string {
  return (
    envPrefix +
    path
      .map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2'))
      .join('_')
      .toUpperCase()
  );
}

/** Walks the defaults tree so each leaf has exactly one env name, typed like its default. */
function readEnv(env: Record<string, string | undefined>): ConfigOverride {
  const out: Record<string, unknown> = {};
  const listen = env[envPrefix + 'LISTEN'];
  if (listen !== undefined) out.listen = parseListen(listen);
  collectEnv(defaults, [], env, out);
  return out as ConfigOverride;
}

function collectEnv(
  node: Record<string, unknown>,
  path: string[],
  env: Record<string, string | undefined>,
  out: Record<string, unknown>,
): void {
  for (const [key, value] of Object.entries(node)) {
    const here = [...path, key];
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const child: Record<string, unknown> = (out[key] as Record<string, unknown>) ?? {};
      collectEnv(value as Record<string, unknown>, here, env, child);
      if (Object.keys(child).length > 0) out[key] = child;
      continue;
    }
    const raw = env[envName(here)];
    if (raw !== undefined) out[key] = coerce(raw, value, envName(here));
  }
}

function coerce(raw: string, example: unknown, name: string): unknown {
  if (Array.isArray(example))
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (typeof example === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) {
      throw new AuthServiceError(AuthErrorCode.BadConfig, `${name}="${raw}" is not a number`);
    }
    return n;
  }
  if (typeof example === 'boolean') {
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new AuthServiceError(AuthErrorCode.BadConfig, `${name}="${raw}" is not true/false`);
  }
  return raw;
}

function deepMerge(base: unknown, layer: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(layer)) return layer === undefined ? base : layer;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(layer)) out[key] = deepMerge(out[key], value);
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
