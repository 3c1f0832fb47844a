/**
 * The broker's side of an HTTP auth backend, replayed: each iteration is one AMQP connection
 * as RabbitMQ's `rabbit_auth_backend_http` would ask about it — user, then vhost, then each
 * resource check, then one topic check per distinct routing key (RABBITMQ.md sections 1, 3) —
 * over a pool shaped like the broker's httpc: a few keep-alive sessions with requests queued
 * behind them, and one-off `Connection: close` connections when the queue runs deep.
 */
import { Pool } from 'undici';

import { encodeForm } from '../../harness/auth-http/encoding.js';
import type { AuthHttpTargetSpec, TargetSecrets } from './spec.js';
import { recordError, type IterationContext, type Recorder, type Target } from './target.js';

type Endpoint = 'user' | 'vhost' | 'resource' | 'topic';
export type CredentialKind = 'valid' | 'invalid' | 'expired';

/** The answer of one decision request. */
interface Answer {
  /** true: allow; false: deny; undefined: error or an answer the broker cannot read. */
  allowed?: boolean;
  tags: string[];
}

/** Username of simulated connection `n`: the token's `sub` must equal it. */
export function loadUsername(
  spec: Pick<AuthHttpTargetSpec, 'tenant' | 'workload'>,
  n: number,
): string {
  return `load-${spec.tenant}-${spec.workload}-${n}`;
}

/** SPIFFE service names of the demo policy's certificate identities, per workload class. */
export const certificateServices = {
  producer: 'invoice-producer',
  consumer: 'invoice-consumer',
  admin: 'tenant-admin',
} as const;

/**
 * Username an EXTERNAL login sends for user `n`: the spec's `identities` in turn, else the
 * workload's SPIFFE ID in the tenant's namespace (replicas of one workload share it).
 */
export function loadCertificateIdentity(spec: AuthHttpTargetSpec, n: number): string {
  const listed = spec.identities[n % Math.max(1, spec.identities.length)];
  return (
    listed ?? `spiffe://warren.test/ns/${spec.tenant}/sa/${certificateServices[spec.workload]}`
  );
}

/** Picks the credential kind of iteration `index` from the mix, deterministically. */
export function credentialKindFor(
  spec: Pick<AuthHttpTargetSpec, 'credentials'>,
  index: number,
): CredentialKind {
  const { valid, invalid, expired } = spec.credentials;
  const total = valid + invalid + expired;
  if (total <= 0) return 'valid';
  // A golden-ratio sequence spreads the kinds evenly over any stretch of iterations.
  const point = ((index * 0.6180339887498949) % 1) * total;
  if (point < valid) return 'valid';
  return point < valid + invalid ? 'invalid' : 'expired';
}

/** Parses a reply body as the broker does: lower-cased, spaces stripped at the ends only. */
export function readAnswer(status: number, body: string): Answer {
  if (status !== 200 && status !== 201) return { tags: [] };
  const words = body
    .toLowerCase()
    .split(' ')
    .filter((word) => word !== '');
  if (words[0] === 'allow') return { allowed: true, tags: words.slice(1) };
  if (words[0] === 'deny' && words.length === 1) return { allowed: false, tags: [] };
  return { tags: [] };
}

/** Builds the auth backend target for one worker. */
export function createAuthHttpTarget(spec: AuthHttpTargetSpec, secrets: TargetSecrets): Target {
  const origin = new URL(spec.url).origin;
  const sessions = new Pool(origin, { connections: spec.keepAliveSessions, pipelining: 1 });
  const oneOff = new Pool(origin, { pipelining: 1 });
  const burstAt = spec.keepAliveSessions * (1 + spec.queuePerSession);
  let onSessions = 0;
  const fill = (text: string): string => text.replaceAll('{tenant}', spec.tenant);

  async function ask(
    context: IterationContext,
    endpoint: Endpoint,
    fields: Array<[string, string]>,
    sentAtMs: number,
  ): Promise<Answer> {
    const tags = { endpoint, method: spec.method };
    const form = encodeForm(fields);
    const burst = onSessions >= burstAt;
    const request = {
      method: spec.method,
      path: spec.method === 'GET' ? `${spec.paths[endpoint]}?${form}` : spec.paths[endpoint],
      headers:
        spec.method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
      body: spec.method === 'POST' ? form : null,
      // httpc opens extra connections under bursts and closes them after one request.
      reset: burst,
      signal: AbortSignal.timeout(spec.timeoutMs),
    };
    if (burst) context.record.counter('auth_http_one_off_requests', 1, tags);
    else onSessions++;
    let answer: Answer = { tags: [] };
    let status = 'error';
    try {
      const response = await (burst ? oneOff : sessions).request(request);
      const body = await response.body.text();
      status = String(response.statusCode);
      answer = readAnswer(response.statusCode, body);
    } catch (error) {
      recordError(context.record, error, tags);
    } finally {
      if (!burst) onSessions--;
    }
    context.record.trend('http_req_duration', context.now() - sentAtMs, { ...tags, status });
    context.record.counter('http_reqs', 1, tags);
    context.record.rate('http_req_failed', answer.allowed === undefined, tags);
    return answer;
  }

  async function iterate(context: IterationContext): Promise<void> {
    const n = context.index % spec.users;
    const kind = spec.mechanism === 'PLAIN' ? credentialKindFor(spec, context.index) : 'valid';
    const username =
      spec.mechanism === 'PLAIN' ? loadUsername(spec, n) : loadCertificateIdentity(spec, n);
    const userFields: Array<[string, string]> = [['username', username]];
    if (spec.mechanism === 'PLAIN') userFields.push(['password', tokenFor(secrets, kind, n)]);
    // The first request is timed from the intended start (no coordinated omission); the
    // later ones from their own send, as the broker sends each only after the previous answer.
    const login = await ask(context, 'user', userFields, context.intendedMs);
    const loginOk = context.record.check(
      kind === 'valid' ? 'valid login allowed' : `${kind} login denied`,
      login.allowed === (kind === 'valid'),
    );
    if (login.allowed !== true) {
      if (!loginOk) throw new Error(`${kind} login answered ${String(login.allowed)}`);
      return;
    }
    await askAuthorisations(context, username, login.tags.join(' '));
  }

  async function askAuthorisations(
    context: IterationContext,
    username: string,
    tags: string,
  ): Promise<void> {
    const vhost = spec.tenant;
    const checks: Array<[Endpoint, Array<[string, string]>]> = [
      [
        'vhost',
        [
          ['username', username],
          ['vhost', vhost],
          ['ip', '127.0.0.1'],
          ['tags', tags],
        ],
      ],
      ...spec.resources.map((r): [Endpoint, Array<[string, string]>] => [
        'resource',
        [
          ['username', username],
          ['vhost', vhost],
          ['resource', r.resource],
          ['name', fill(r.name)],
          ['permission', r.permission],
          ['tags', tags],
        ],
      ]),
      ...[...new Set(spec.topics.routingKeys)].map((key): [Endpoint, Array<[string, string]>] => [
        'topic',
        [
          ['username', username],
          ['vhost', vhost],
          ['resource', 'topic'],
          ['name', fill(spec.topics.exchange)],
          ['permission', spec.topics.permission],
          ['routing_key', fill(key)],
          ['variable_map.username', username],
          ['variable_map.vhost', vhost],
          ['tags', tags],
        ],
      ]),
    ];
    for (const [endpoint, fields] of checks) {
      const answer = await ask(context, endpoint, fields, context.now());
      if (!checkAllowed(context.record, endpoint, answer)) {
        throw new Error(`${endpoint} check was not allowed`);
      }
    }
  }

  return {
    iterate,
    async close(force?: boolean): Promise<void> {
      const pools = [sessions, oneOff];
      await Promise.all(pools.map((pool) => (force ? pool.destroy() : pool.close())));
    },
  };
}

function checkAllowed(record: Recorder, endpoint: Endpoint, answer: Answer): boolean {
  return record.check(`${endpoint} check allowed`, answer.allowed === true);
}

export function tokenFor(secrets: TargetSecrets, kind: CredentialKind, n: number): string {
  const tokens = secrets.tokens?.[kind] ?? [];
  // Without minted tokens the password is a placeholder the backend must refuse.
  return tokens.length === 0 ? 'no-token-minted' : (tokens[n % tokens.length] ?? '');
}
