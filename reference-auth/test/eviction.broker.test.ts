import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { ChannelModel, ConfirmChannel } from 'amqplib';
import pino from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';

import { closeOutcome, connectAmqp, type AmqpOutcome } from '../../harness/amqp/index.js';
import { startBroker, stopBroker, type RunningBroker } from '../../harness/broker/index.js';
import { startIdp, type RunningIdp } from '../../harness/idp/index.js';
import { resolveConfig, type ConfigOverride } from '../config.js';
import {
  createEvictionOperator,
  withEvictionOperator,
  type EvictionOperatorCredentials,
} from '../ops/eviction-operator.js';
import { startReferenceAuth, type RunningReferenceAuth } from '../ops/service.js';
import { demoPolicyPath, parsePolicy } from '../policy/load.js';

// Eviction through a real RabbitMQ 3.10 management API, with HTTP as the broker's only auth
// backend: the management login of reference-auth's operator goes through reference-auth itself.
// One broker; reference-auth is restarted on the same port between the two cases.
const instance = 'ra-evict-3-10';
const cheapScrypt = { N: 1024, r: 8, p: 1 };
let keysDir: string;
let idp: RunningIdp;
let broker: RunningBroker;
let operator: EvictionOperatorCredentials;
let watcher: EvictionOperatorCredentials;
let policyText: string;
let authPort: number;
let auth: RunningReferenceAuth | undefined;
const logLines: string[] = [];
const opened: AmqpOutcome[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** reference-auth on `authPort`, with or without management credentials. */
async function startAuth(withCredentials: boolean): Promise<RunningReferenceAuth> {
  const management = withCredentials
    ? {
        url: broker.endpoints.managementUrl,
        username: operator.username,
        password: operator.password,
      }
    : {};
  const config = resolveConfig({
    flags: {
      listen: { host: '127.0.0.1', port: authPort },
      jwt: { issuers: [idp.issuer], jwksUrl: idp.jwksUrl, clockSkewSeconds: 1 },
      admin: { enabled: false },
      metrics: { processMetrics: false },
      watchPolicy: false,
      management,
    } as ConfigOverride,
  });
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  return startReferenceAuth(config, {
    deps: { policy: parsePolicy(policyText, 'eviction-test.yaml'), logger },
  });
}

beforeAll(async () => {
  keysDir = await mkdtemp(join(tmpdir(), 'warren-ra-evict-keys-'));
  idp = await startIdp({ port: 0, keysDir });
  operator = await createEvictionOperator({ scrypt: cheapScrypt });
  watcher = await createEvictionOperator({ username: 'watcher', scrypt: cheapScrypt });
  // A second operator-like user with `monitoring` instead of `administrator`, to show which tag
  // the DELETE needs.
  const document = parseDocument(
    withEvictionOperator(await readFile(demoPolicyPath, 'utf8'), operator),
  );
  document.setIn(['classes', 'watcher'], { vhosts: [], tags: ['monitoring'], grants: [] });
  document.addIn(['identities', 'staticUsers'], {
    username: watcher.username,
    passwordHash: watcher.passwordHash,
    class: 'watcher',
  });
  policyText = document.toString();
  authPort = await freePort();
  auth = await startAuth(false);
  broker = await startBroker({
    version: '3.10',
    instance,
    backendUrl: `http://127.0.0.1:${authPort}`,
  });
}, 180_000);

afterAll(async () => {
  while (opened.length > 0) await closeOutcome(opened.pop() as AmqpOutcome);
  await stopBroker(instance);
  await auth?.close();
  await idp?.stop();
  await rm(keysDir, { recursive: true, force: true });
}, 60_000);

/** A session: a producer whose token expires in `ttlSeconds`, publishing with confirms. */
interface Session {
  expMs: number;
  connection: ChannelModel;
  channel: ConfirmChannel;
  /** Resolves with the close text and the wall-clock time the client saw the close. */
  closed: Promise<{ text: string; atMs: number }>;
}

async function openSession(sub: string, ttlSeconds: number): Promise<Session> {
  const token = idp.mint(
    { sub, tenant_id: 'acme', workload: 'producer' },
    { expiresInSeconds: ttlSeconds },
  );
  const expSeconds = JSON.parse(
    Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
  ) as { exp: number };
  const outcome = await connectAmqp({
    url: broker.endpoints.amqpUrl,
    vhost: 'acme',
    login: { mechanism: 'PLAIN', username: sub, password: token },
  });
  opened.push(outcome);
  if (outcome.kind !== 'connected') throw new Error(`login refused: ${outcome.kind}`);
  const connection = outcome.connection;
  const closed = new Promise<{ text: string; atMs: number }>((resolve) => {
    connection.once('error', (error: Error) => resolve({ text: error.message, atMs: Date.now() }));
    connection.once('close', (error?: Error) =>
      resolve({ text: error?.message ?? 'closed', atMs: Date.now() }),
    );
  });
  const channel = await connection.createConfirmChannel();
  channel.on('error', () => undefined);
  await channel.assertExchange('acme.invoices', 'topic', { durable: false });
  return { expMs: expSeconds.exp * 1000, connection, channel, closed };
}

/** Publishes every 200 ms (keeping the channel's permission cache warm) until `untilMs`. */
async function publishUntil(session: Session, untilMs: number): Promise<string> {
  let last = 'none';
  let gone = false;
  void session.closed.then(() => (gone = true));
  while (!gone && Date.now() < untilMs) {
    try {
      session.channel.publish('acme.invoices', 'acme.invoices.created', Buffer.from('invoice'));
      await session.channel.waitForConfirms();
      last = 'confirmed';
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return gone ? 'closed' : last;
}

async function management(
  method: 'GET' | 'DELETE',
  path: string,
  who: { username: string; password: string },
) {
  const response = await request(`${broker.endpoints.managementUrl}${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${who.username}:${who.password}`).toString('base64')}`,
    },
  });
  await response.body.dump();
  return response.statusCode;
}

describe('eviction through the real management API (RabbitMQ 3.10, HTTP backend only)', () => {
  it('without management credentials, an expired session keeps publishing (the gap)', async () => {
    const session = await openSession('acme-gap', 3);
    const state = await publishUntil(session, session.expMs + 5000);
    expect(state).toBe('confirmed');
    await session.connection.close();
    opened.pop();
  }, 30_000);

  it('needs the administrator tag: a monitoring user may list but not close connections', async () => {
    const path = `/api/connections/username/${encodeURIComponent('acme-nobody')}`;
    expect(await management('GET', path, watcher)).toBe(200);
    // Refused without `administrator`. 3.10.8 answers 500, not 401: its fallback "your own
    // connections" check reads `user` from the {ok, Name, Connections} tuple and crashes
    // (rabbit_mgmt_wm_connection_user_name:is_authorized → is_authorized_user).
    expect(await management('DELETE', path, watcher)).toBeGreaterThanOrEqual(400);
    expect(await management('DELETE', path, operator)).toBe(204);
    expect(await management('DELETE', path, { ...operator, password: 'wrong' })).toBe(401);
  }, 30_000);

  it('with the operator, the session is closed with 320 CONNECTION_FORCED shortly after exp', async () => {
    await auth?.close();
    auth = await startAuth(true);
    const session = await openSession('acme-evicted', 3);
    const state = await publishUntil(session, session.expMs + 10_000);
    expect(state).toBe('closed');
    const { text, atMs } = await session.closed;
    expect(text).toMatch(/320/);
    expect(text).toMatch(/reference-auth: token expired/);
    const lagMs = atMs - session.expMs;
    const eviction = logLines
      .map((line) => JSON.parse(line) as { msg?: string; username?: string; durationMs?: number })
      .find(
        (line) =>
          line.msg === 'connections closed through the management API' &&
          line.username === 'acme-evicted',
      );
    expect(eviction?.durationMs).toBeDefined();
    // Figures, not a timing assertion: clock skew (1 s) + sweep (1 s) + the DELETE.
    console.log(`eviction: closed ${lagMs} ms after exp; DELETE took ${eviction?.durationMs} ms`);
    expect(lagMs).toBeLessThan(10_000);
  }, 30_000);
});
