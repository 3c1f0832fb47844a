import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateAuthority, IssuedCertificate } from '../../certs/index.js';
import { closeOutcome, connectAmqp, type AmqpOutcome } from '../../harness/amqp/index.js';
import {
  startBroker,
  stopBroker,
  type BackendHttpMethod,
  type BrokerVersion,
  type RunningBroker,
} from '../../harness/broker/index.js';
import { startIdp, type RunningIdp } from '../../harness/idp/index.js';
import { freshCa, tlsFor } from '../../harness/test/broker-fixture.js';
import { resolveConfig, type ConfigOverride } from '../config.js';
import { buildServer, type ReferenceAuth } from '../server.js';

// End to end through real brokers: RabbitMQ 3.10 asking by GET (its default) and 4.0 asking by
// POST, both against one reference service with the demo policy; JWTs come from the harness IdP,
// certificates from a fresh CA with SPIFFE URI SANs.
const rows: Array<{ version: BrokerVersion; httpMethod: BackendHttpMethod }> = [
  { version: '3.10', httpMethod: 'get' },
  { version: '4.0', httpMethod: 'post' },
];
let keysDir: string;
let idp: RunningIdp;
let auth: ReferenceAuth;
let address: string;
let ca: CertificateAuthority;
let consumerCert: IssuedCertificate;
let broker: RunningBroker;
const opened: AmqpOutcome[] = [];

beforeAll(async () => {
  keysDir = await mkdtemp(join(tmpdir(), 'warren-ra-e2e-keys-'));
  idp = await startIdp({ port: 0, keysDir });
  const config = resolveConfig({
    flags: {
      listen: { host: '127.0.0.1', port: 0 },
      jwt: { issuers: [idp.issuer], jwksUrl: idp.jwksUrl },
    } as ConfigOverride,
  });
  auth = await buildServer(config, { logger: pino({ level: 'silent' }) });
  address = await auth.listen();
  ca = await freshCa('reference-auth-e2e');
  consumerCert = await ca.issueClientCertificate({
    name: 'acme-invoice-consumer',
    subject: { commonName: 'invoice-consumer' },
    spiffeId: { namespace: 'acme', serviceAccount: 'invoice-consumer' },
  });
});

afterAll(async () => {
  await auth?.close();
  await idp?.stop();
  await rm(keysDir, { recursive: true, force: true });
});

async function loginWithToken(sub: string, workload: string, vhost = 'acme'): Promise<AmqpOutcome> {
  const token = idp.mint({ sub, tenant_id: 'acme', workload });
  const outcome = await connectAmqp({
    url: broker.endpoints.amqpUrl,
    vhost,
    login: { mechanism: 'PLAIN', username: sub, password: token },
  });
  opened.push(outcome);
  return outcome;
}

function connected(outcome: AmqpOutcome): ChannelModel {
  if (outcome.kind !== 'connected') throw new Error(`expected a connection, got ${outcome.kind}`);
  return outcome.connection;
}

/** Publishes with confirms; resolves 'confirmed' or the broker's close reason. */
async function publish(channel: ConfirmChannel, exchange: string, key: string): Promise<string> {
  const closed = new Promise<string>((resolve) =>
    channel.once('error', (e: Error) => resolve(e.message)),
  );
  channel.publish(exchange, key, Buffer.from('invoice'));
  return Promise.race([channel.waitForConfirms().then(() => 'confirmed'), closed]);
}

describe.each(rows)('reference-auth behind a real RabbitMQ $version ($httpMethod)', (row) => {
  const instance = `ra-e2e-${row.version.replace('.', '-')}`;

  beforeAll(async () => {
    broker = await startBroker(
      {
        version: row.version,
        instance,
        backendUrl: address,
        httpMethod: row.httpMethod,
        certLoginFrom: 'uri_san',
      },
      { ca },
    );
  });

  afterAll(async () => {
    while (opened.length > 0) await closeOutcome(opened.pop() as AmqpOutcome);
    await stopBroker(instance);
  });

  it('lets a JWT producer publish under its prefix and a certificate consumer receive it', async () => {
    const consumerConnection = connected(
      await connectAmqp({
        url: broker.endpoints.amqpsUrl,
        vhost: 'acme',
        login: { mechanism: 'EXTERNAL' },
        tls: tlsFor(broker, consumerCert),
      }).then((o) => (opened.push(o), o)),
    );
    const producer = connected(await loginWithToken('acme-producer', 'producer'));

    const producerChannel = await producer.createConfirmChannel();
    await producerChannel.assertExchange('acme.invoices', 'topic', { durable: false });
    const consumerChannel = await consumerConnection.createChannel();
    await consumerChannel.assertQueue('acme.invoices.e2e', { durable: false });
    await consumerChannel.bindQueue('acme.invoices.e2e', 'acme.invoices', 'acme.invoices.#');
    const received = new Promise<string>(
      (resolve) =>
        void consumerChannel.consume('acme.invoices.e2e', (message) =>
          resolve(message?.fields.routingKey ?? ''),
        ),
    );

    expect(await publish(producerChannel, 'acme.invoices', 'acme.invoices.created')).toBe(
      'confirmed',
    );
    expect(await received).toBe('acme.invoices.created');
  });

  it('closes the channel of a producer publishing outside its routing-key prefix', async () => {
    const producer = connected(await loginWithToken('acme-producer-2', 'producer'));
    const channel = await producer.createConfirmChannel();
    expect(await publish(channel, 'acme.invoices', 'globex.invoices.created')).toMatch(
      /403|ACCESS_REFUSED/,
    );
  });

  it('refuses a producer on the other tenant vhost', async () => {
    const outcome = await loginWithToken('acme-producer-3', 'producer', 'globex');
    expect(outcome.kind).not.toBe('connected');
  });

  it('refuses an expired token at login', async () => {
    const token = idp.mint(
      { sub: 'acme-producer-4', tenant_id: 'acme', workload: 'producer' },
      { issuedAt: Math.floor(Date.now() / 1000) - 600, expiresInSeconds: 60 },
    );
    const outcome = await connectAmqp({
      url: broker.endpoints.amqpUrl,
      vhost: 'acme',
      login: { mechanism: 'PLAIN', username: 'acme-producer-4', password: token },
    });
    opened.push(outcome);
    expect(outcome.kind).toBe('refused');
  });

  it('denies a live connection new work once its tenant is killed', async () => {
    const producer = connected(await loginWithToken('acme-producer-5', 'producer'));
    const first = await producer.createConfirmChannel();
    expect(await publish(first, 'acme.invoices', 'acme.invoices.a')).toBe('confirmed');

    const kill = auth.killSwitch.engage({ kind: 'tenant', tenant: 'acme' });
    try {
      const second = await producer.createConfirmChannel();
      expect(await publish(second, 'acme.invoices', 'acme.invoices.b')).toMatch(
        /403|ACCESS_REFUSED/,
      );
    } finally {
      auth.killSwitch.release(kill.id);
    }
  });
});
