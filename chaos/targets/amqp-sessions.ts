/**
 * AMQP attempts for targets: principals named in drills, resolved to credentials by the target
 * (local: minted by the test IdP; staging: from the environment), and sessions (connections
 * held open across steps, to observe what happens to them while faults are active —
 * RABBITMQ.md section 3: they never expire).
 */
import { randomBytes } from 'node:crypto';

import type { ChannelModel, ConfirmChannel } from 'amqplib';

import {
  connectAmqp,
  type AmqpOutcome,
  type ClientTls,
  type ExternalLogin,
  type PlainLogin,
} from '../../harness/amqp/index.js';
import type { IdpMinter } from '../../harness/idp/index.js';
import { ErrorCode, WarrenError } from '../../lib/errors.js';

/** A connection held open across steps. */
interface Session {
  connection: ChannelModel;
  vhost: string;
  closed: boolean;
  closeReason?: string;
  /** Confirm channel kept for `publishConfirmed`, so its permission cache behaves as a client's. */
  publishChannel?: ConfirmChannel;
}

/** Arguments of the `amqp.attempt` operation (the `amqp` provider). */
interface AttemptArgs {
  principal?: string;
  session?: string;
  vhost?: string;
  operation?: 'connect' | 'channel' | 'publish';
  timeoutMs?: number;
}

/** How a principal logs in: credentials, default vhost, and for certificates TLS + the amqps URL. */
export interface ResolvedPrincipal {
  login: PlainLogin | ExternalLogin;
  vhost: string;
  tls?: ClientTls;
  /** Overrides the target's AMQP URL (certificate logins go to the TLS listener). */
  url?: string;
}

/** Resolves a principal name; throws WARREN_ERR_BAD_INPUT when the name is unknown. */
export type PrincipalResolver = (
  principal: string,
) => ResolvedPrincipal | Promise<ResolvedPrincipal>;

/**
 * Principals a drill may name on the local target:
 * - `jwt:TENANT/WORKLOAD` — a token for user `chaos-TENANT-WORKLOAD`, minted on first use and
 *   reused (so it can expire mid-drill); `jwt:TENANT/WORKLOAD@SECONDS` sets its lifetime;
 * - `fresh:TENANT/WORKLOAD` — a new token on every attempt (signed by the current key);
 * - a `~+SECONDS` / `~-SECONDS` suffix on either — the IdP's clock is skewed by that much:
 *   `iat` and `nbf` (and so `exp`) are shifted;
 * - `intruder` — a user no policy knows, with a random password: must always be refused.
 */
const principalPattern =
  /^(jwt|fresh):([a-z0-9-]+)\/(producer|consumer|admin)(?:@(\d+))?(?:~([+-]\d+))?$/;

/**
 * The local target's principals, with tokens from `idp`; `jwt:` tokens are kept per name.
 * `signingKid()` names the key that signs (during an overlapped rotation: the previous one).
 */
export function idpPrincipals(
  idp: IdpMinter,
  signingKid: () => string | undefined = () => undefined,
): PrincipalResolver {
  const tokens = new Map<string, string>();
  return (principal) => {
    if (principal === 'intruder') return intruderLogin();
    const match = principalPattern.exec(principal);
    if (!match) {
      throw new WarrenError(
        ErrorCode.BadInput,
        `principal "${principal}" is not one of jwt:TENANT/WORKLOAD[@SECONDS][~±SKEW], fresh:TENANT/WORKLOAD[~±SKEW], intruder`,
      );
    }
    const [, kind, tenant = '', workload = '', lifetime, skew] = match;
    const username = `chaos-${tenant}-${workload}`;
    let token = kind === 'jwt' ? tokens.get(principal) : undefined;
    if (token === undefined) {
      const kid = signingKid();
      const issuedAt = Math.floor(Date.now() / 1000) + Number(skew ?? 0);
      const options = {
        ...(skew ? { issuedAt, notBefore: issuedAt } : {}),
        ...(lifetime ? { expiresInSeconds: Number(lifetime) } : {}),
        ...(kid ? { kid } : {}),
      };
      token = idp.mint({ sub: username, tenant_id: tenant, workload }, options);
      if (kind === 'jwt') tokens.set(principal, token);
    }
    return { login: { mechanism: 'PLAIN', username, password: token }, vhost: tenant };
  };
}

/** A user no policy knows, with a fresh random password: every target must refuse it. */
export function intruderLogin(): ResolvedPrincipal {
  const password = `not-a-token-${randomBytes(9).toString('hex')}`;
  return { login: { mechanism: 'PLAIN', username: 'chaos-intruder', password }, vhost: 'acme' };
}

export class AmqpSessions {
  /** Messages the broker confirmed, per queue, for `checkDelivery`. */
  private readonly confirmed = new Map<string, number>();
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly amqpUrl: () => string,
    private readonly loginFor: PrincipalResolver,
    private readonly tls?: ClientTls,
  ) {}

  /** One attempt; output `{ kind, replyCode?, errorCode?, elapsedMs, ... }`, never credentials. */
  async attempt(args: AttemptArgs): Promise<unknown> {
    if (args.session !== undefined)
      return this.useSession(args.session, args.operation ?? 'channel');
    const principal = required(args.principal, 'principal');
    const resolved = await this.loginFor(principal);
    const vhost = resolved.vhost;
    const outcome = await this.connect(resolved, args.vhost ?? vhost, args.timeoutMs ?? 5000);
    if (outcome.kind !== 'connected') return describeOutcome(outcome);
    try {
      const extra =
        args.operation === 'publish' || args.operation === 'channel'
          ? await exercise(outcome.connection, args.operation, args.vhost ?? vhost)
          : {};
      return { ...describeOutcome(outcome), ...extra };
    } finally {
      await outcome.connection.close().catch(() => undefined);
    }
  }

  /** Opens a connection kept under `session` for later attempts. Fails if refused. */
  async open(args: { principal?: unknown; session?: unknown; vhost?: unknown }): Promise<unknown> {
    const session = required(args.session, 'session');
    const resolved = await this.loginFor(required(args.principal, 'principal'));
    const chosenVhost = typeof args.vhost === 'string' ? args.vhost : resolved.vhost;
    const outcome = await this.connect(resolved, chosenVhost, 5000);
    if (outcome.kind !== 'connected') {
      throw new WarrenError(
        ErrorCode.ProcessFailed,
        `session "${session}" could not open: ${outcome.kind}`,
      );
    }
    const record: Session = { connection: outcome.connection, vhost: chosenVhost, closed: false };
    outcome.connection.on('close', (error?: Error) => {
      record.closed = true;
      record.closeReason = error?.message;
    });
    outcome.connection.on('error', () => undefined);
    this.sessions.set(session, record);
    return { session, kind: 'connected', elapsedMs: outcome.elapsedMs };
  }

  /**
   * `count` login attempts, `concurrency` at a time (default 1), `intervalMs` between starts of
   * sequential attempts (default 0): a reconnect storm in miniature. Output: counts per outcome
   * kind, latency percentiles of successful logins, and the first failure.
   */
  async burst(args: Readonly<Record<string, unknown>>): Promise<unknown> {
    const count = positive(args['count'], 10, 'count');
    const concurrency = positive(args['concurrency'], 1, 'concurrency');
    const intervalMs = Number(args['intervalMs'] ?? 0);
    const principal = required(args['principal'], 'principal');
    const kinds: Record<string, number> = {};
    const latencies: number[] = [];
    let firstFailure: unknown;
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next += 1;
        const outcome = (await this.attempt({ principal, timeoutMs: 10_000 })) as {
          kind: string;
          elapsedMs: number;
        };
        kinds[outcome.kind] = (kinds[outcome.kind] ?? 0) + 1;
        if (outcome.kind === 'connected') latencies.push(outcome.elapsedMs);
        else firstFailure ??= outcome;
        if (intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    latencies.sort((a, b) => a - b);
    const at = (share: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(share * latencies.length))] ?? null;
    return {
      attempts: count,
      connected: kinds['connected'] ?? 0,
      failed: count - (kinds['connected'] ?? 0),
      kinds,
      p50Ms: at(0.5),
      p95Ms: at(0.95),
      maxMs: latencies.at(-1) ?? null,
      firstFailure: firstFailure ?? null,
    };
  }

  private connect(resolved: ResolvedPrincipal, vhost: string, timeoutMs: number) {
    const tls = resolved.tls ?? this.tls;
    return connectAmqp({
      url: resolved.url ?? this.amqpUrl(),
      login: resolved.login,
      vhost,
      timeoutMs,
      ...(tls ? { tls } : {}),
    });
  }

  /** Closes every session (teardown). */
  async closeAll(): Promise<void> {
    for (const record of this.sessions.values()) {
      if (!record.closed) await record.connection.close().catch(() => undefined);
    }
    this.sessions.clear();
  }

  /**
   * Declares `queue` (consumer session) bound to the tenant's invoices exchange (declared by the
   * producer session) and empties it: the ledger for "no confirmed message is lost".
   */
  async prepareQueue(args: Readonly<Record<string, unknown>>): Promise<unknown> {
    const producer = this.liveSession(required(args['producer'], 'producer'));
    const consumer = this.liveSession(required(args['consumer'], 'consumer'));
    const queue = required(args['queue'], 'queue');
    const exchange = `${producer.vhost}.invoices`;
    const declare = await producer.connection.createChannel();
    await declare.assertExchange(exchange, 'topic', { durable: false });
    await declare.close();
    const channel = await consumer.connection.createChannel();
    await channel.assertQueue(queue, { durable: false, autoDelete: false });
    await channel.bindQueue(queue, exchange, `${producer.vhost}.invoices.#`);
    await channel.purgeQueue(queue);
    await channel.close();
    this.confirmed.set(queue, 0);
    return { queue, exchange };
  }

  /** Publishes `count` messages with confirms on a session; counts what the broker confirmed. */
  async publishConfirmed(args: Readonly<Record<string, unknown>>): Promise<unknown> {
    const session = this.liveSession(required(args['session'], 'session'));
    const queue = required(args['queue'], 'queue');
    const count = positive(args['count'], 10, 'count');
    let confirmed = 0;
    try {
      session.publishChannel ??= await session.connection.createConfirmChannel();
      session.publishChannel.on('error', () => undefined);
      session.publishChannel.on('close', () => (session.publishChannel = undefined));
      for (let index = 0; index < count; index += 1) {
        session.publishChannel.publish(
          `${session.vhost}.invoices`,
          `${session.vhost}.invoices.chaos`,
          Buffer.from(String(index)),
        );
        await session.publishChannel.waitForConfirms();
        confirmed += 1;
      }
    } catch (error) {
      session.publishChannel = undefined;
      this.confirmed.set(queue, (this.confirmed.get(queue) ?? 0) + confirmed);
      return {
        confirmed,
        failed: count - confirmed,
        error: error instanceof Error ? error.message.slice(0, 200) : String(error),
      };
    }
    this.confirmed.set(queue, (this.confirmed.get(queue) ?? 0) + confirmed);
    return { confirmed, failed: 0 };
  }

  /** Messages in `queue` against those confirmed into it: `lost` must be 0. */
  async checkDelivery(args: Readonly<Record<string, unknown>>): Promise<unknown> {
    const session = this.liveSession(required(args['session'], 'session'));
    const queue = required(args['queue'], 'queue');
    const channel = await session.connection.createChannel();
    const { messageCount } = await channel.checkQueue(queue);
    await channel.close();
    const confirmed = this.confirmed.get(queue) ?? 0;
    return {
      queue,
      confirmed,
      messages: messageCount,
      lost: Math.max(0, confirmed - messageCount),
    };
  }

  private liveSession(name: string) {
    const record = this.sessions.get(name);
    if (record === undefined || record.closed) {
      throw new WarrenError(
        ErrorCode.BadInput,
        `AMQP session "${name}" is not open (open it with amqp.open)`,
      );
    }
    return record;
  }

  private async useSession(
    name: string,
    operation: 'connect' | 'channel' | 'publish',
  ): Promise<unknown> {
    const record = this.sessions.get(name);
    if (record === undefined)
      throw new WarrenError(
        ErrorCode.BadInput,
        `no AMQP session "${name}" (open it with amqp.open)`,
      );
    if (record.closed)
      return { kind: 'closed', session: name, reason: record.closeReason ?? 'closed' };
    if (operation === 'connect') return { kind: 'connected', session: name };
    return { session: name, ...(await exercise(record.connection, operation, record.vhost)) };
  }
}

/**
 * Opens a channel and, for `publish`, declares the tenant's exchange and publishes one message
 * with publisher confirms: each step asks the backend's resource/topic paths (RABBITMQ.md 1).
 */
async function exercise(
  connection: ChannelModel,
  operation: 'channel' | 'publish',
  vhost: string,
): Promise<Record<string, unknown>> {
  try {
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    if (operation === 'publish') {
      const exchange = `${vhost}.invoices`;
      await channel.assertExchange(exchange, 'topic', { durable: false });
      channel.publish(exchange, `${vhost}.invoices.chaos`, Buffer.from('chaos'));
      await channel.waitForConfirms();
    }
    await channel.close().catch(() => undefined);
    return { [operation]: 'ok' };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      [operation]: 'failed',
      replyCode: typeof code === 'number' ? code : null,
      message: error instanceof Error ? error.message.slice(0, 200) : String(error),
    };
  }
}

/** The outcome without its live connection object (not JSON, not for the journal). */
function describeOutcome(outcome: AmqpOutcome): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outcome).filter(([key]) => key !== 'connection'));
}

function positive(value: unknown, fallback: number, field: string): number {
  const chosen = value === undefined ? fallback : Number(value);
  if (Number.isInteger(chosen) && chosen > 0 && chosen <= 1000) return chosen;
  throw new WarrenError(
    ErrorCode.BadInput,
    `amqp.burst: "${field}" must be a whole number 1..1000`,
  );
}

function required(value: unknown, field: string): string {
  if (typeof value === 'string' && value !== '') return value;
  throw new WarrenError(ErrorCode.BadInput, `amqp: "${field}" is required`);
}
