/**
 * AMQP attempts for the local target: principals named in drills, resolved to credentials
 * minted by the test IdP, and sessions (connections held open across steps, to observe what
 * happens to them while faults are active — RABBITMQ.md section 3: they never expire).
 */
import type { ChannelModel } from 'amqplib';

import { connectAmqp, type AmqpOutcome, type PlainLogin } from '../../harness/amqp/index.js';
import type { IdpMinter } from '../../harness/idp/index.js';
import { ErrorCode, WarrenError } from '../../lib/errors.js';

/** Arguments of the `amqp.attempt` operation (the `amqp` provider). */
interface AttemptArgs {
  principal?: string;
  session?: string;
  vhost?: string;
  operation?: 'connect' | 'channel' | 'publish';
  timeoutMs?: number;
}

/**
 * Principals a drill may name:
 * - `jwt:TENANT/WORKLOAD` — a token for user `chaos-TENANT-WORKLOAD`, minted on first use and
 *   reused (so it can expire mid-drill); `jwt:TENANT/WORKLOAD@SECONDS` sets its lifetime;
 * - `fresh:TENANT/WORKLOAD` — a new token on every attempt (signed by the current key);
 * - `intruder` — a user no policy knows, with a random password: must always be refused.
 */
const principalPattern = /^(jwt|fresh):([a-z0-9-]+)\/(producer|consumer|admin)(?:@(\d+))?$/;

export class LocalAmqp {
  private readonly tokens = new Map<string, string>();
  private readonly sessions = new Map<
    string,
    { connection: ChannelModel; vhost: string; closed: boolean; closeReason?: string }
  >();

  constructor(
    private readonly amqpUrl: () => string,
    private readonly idp: IdpMinter,
  ) {}

  /** One attempt; output `{ kind, replyCode?, errorCode?, elapsedMs, ... }`, never credentials. */
  async attempt(args: AttemptArgs): Promise<unknown> {
    if (args.session !== undefined)
      return this.useSession(args.session, args.operation ?? 'channel');
    const principal = required(args.principal, 'principal');
    const { login, vhost } = this.loginFor(principal);
    const outcome = await connectAmqp({
      url: this.amqpUrl(),
      login,
      vhost: args.vhost ?? vhost,
      timeoutMs: args.timeoutMs ?? 5000,
    });
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
    const { login, vhost } = this.loginFor(required(args.principal, 'principal'));
    const chosenVhost = typeof args.vhost === 'string' ? args.vhost : vhost;
    const outcome = await connectAmqp({
      url: this.amqpUrl(),
      login,
      vhost: chosenVhost,
      timeoutMs: 5000,
    });
    if (outcome.kind !== 'connected') {
      throw new WarrenError(
        ErrorCode.ProcessFailed,
        `session "${session}" could not open: ${outcome.kind}`,
      );
    }
    const record = {
      connection: outcome.connection,
      vhost: chosenVhost,
      closed: false,
      closeReason: undefined as string | undefined,
    };
    outcome.connection.on('close', (error?: Error) => {
      record.closed = true;
      record.closeReason = error?.message;
    });
    outcome.connection.on('error', () => undefined);
    this.sessions.set(session, record);
    return { session, kind: 'connected', elapsedMs: outcome.elapsedMs };
  }

  /** Closes every session (teardown). */
  async closeAll(): Promise<void> {
    for (const record of this.sessions.values()) {
      if (!record.closed) await record.connection.close().catch(() => undefined);
    }
    this.sessions.clear();
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

  private loginFor(principal: string): { login: PlainLogin; vhost: string } {
    if (principal === 'intruder') {
      return {
        login: {
          mechanism: 'PLAIN',
          username: 'chaos-intruder',
          password: `not-a-token-${Math.random()}`,
        },
        vhost: 'acme',
      };
    }
    const match = principalPattern.exec(principal);
    if (!match) {
      throw new WarrenError(
        ErrorCode.BadInput,
        `principal "${principal}" is not one of jwt:TENANT/WORKLOAD[@SECONDS], fresh:TENANT/WORKLOAD, intruder`,
      );
    }
    const [, kind, tenant = '', workload = '', lifetime] = match;
    const username = `chaos-${tenant}-${workload}`;
    const mint = () =>
      this.idp.mint(
        { sub: username, tenant_id: tenant, workload },
        lifetime ? { expiresInSeconds: Number(lifetime) } : {},
      );
    let token = kind === 'jwt' ? this.tokens.get(principal) : undefined;
    if (token === undefined) {
      token = mint();
      if (kind === 'jwt') this.tokens.set(principal, token);
    }
    return { login: { mechanism: 'PLAIN', username, password: token }, vhost: tenant };
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

function required(value: unknown, field: string): string {
  if (typeof value === 'string' && value !== '') return value;
  throw new WarrenError(ErrorCode.BadInput, `amqp: "${field}" is required`);
}
