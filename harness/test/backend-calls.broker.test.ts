import { setTimeout as sleep } from 'node:timers/promises';

import type { Channel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CertificateAuthority } from '../../certs/index.js';
import type { AmqpOutcome } from '../amqp/index.js';
import { closeOutcome, connectAmqp } from '../amqp/index.js';
import type { BackendHttpMethod, BrokerVersion, RunningBroker } from '../broker/index.js';
import {
  closeConnections,
  isPortFree,
  listBrokers,
  listConnections,
  startBroker,
  stopBroker,
} from '../broker/index.js';
import type { RecordedCall, Recorder } from '../recorder/index.js';
import { startRecordingBackend } from '../recorder/index.js';
import { freshCa, testRule, tlsFor } from './broker-fixture.js';

// One broker per version; 3.10 asks by POST (Warren's default), 4.0 by GET (RabbitMQ's default),
// so both encodings are covered. Both take the EXTERNAL username from the URI SAN (SPIFFE ID).
const rows: Array<{ version: BrokerVersion; httpMethod: BackendHttpMethod }> = [
  { version: '3.10', httpMethod: 'post' },
  { version: '4.0', httpMethod: 'get' },
];

const user = 'app-user';
const token = 'tok 123/é'; // a space, a slash and a non-ASCII byte exercise the encoding
const vhost = 'acme';
const common = { username: user, vhost, tags: '' };
const topicVariables = { 'variable_map.username': user, 'variable_map.vhost': vhost };

/** What the broker asked, without headers and timing. */
function asked(calls: readonly RecordedCall[]) {
  return calls.map((call) => ({ method: call.method, path: call.path, params: call.params }));
}

describe.each(rows)('the calls RabbitMQ $version makes to its HTTP backend', (row) => {
  const instance = `calls-${row.version.replace('.', '-')}`;
  const method = row.httpMethod.toUpperCase();
  let ca: CertificateAuthority;
  let backend: Recorder;
  let broker: RunningBroker;
  let login: AmqpOutcome;
  let channel: Channel;

  beforeAll(async () => {
    ca = await freshCa(`backend-calls-${instance}`);
    backend = await startRecordingBackend(testRule('orders.'));
    broker = await startBroker(
      {
        version: row.version,
        instance,
        backendUrl: backend.url,
        httpMethod: row.httpMethod,
        certLoginFrom: 'uri_san',
      },
      { ca },
    );
  });

  afterAll(async () => {
    await closeOutcome(login);
    await stopBroker(instance);
    await backend?.close();
  });

  it('asks the user path with username and password, then the vhost path, for a PLAIN login', async () => {
    backend.clear();
    login = await connectAmqp({
      url: broker.endpoints.amqpUrl,
      vhost,
      login: { mechanism: 'PLAIN', username: user, password: token },
    });
    if (login.kind !== 'connected') throw new Error(`login failed: ${login.kind}`);
    channel = await login.connection.createChannel();

    expect(asked(backend.calls)).toEqual([
      { method, path: '/auth/user', params: { username: user, password: token } },
      { method, path: '/auth/vhost', params: { ...common, ip: '127.0.0.1' } },
    ]);
    expect(backend.calls[0]?.rawParams).toBe('username=app-user&password=tok+123%2F%C3%A9');
  });

  it('asks configure on the queue for a queue declare', async () => {
    backend.clear();
    await channel.assertQueue('orders.q', { durable: false, autoDelete: true });

    expect(asked(backend.calls)).toEqual([
      {
        method,
        path: '/auth/resource',
        params: { ...common, resource: 'queue', name: 'orders.q', permission: 'configure' },
      },
    ]);
  });

  it('asks write on the queue, read on the exchange and topic read on the key for a bind', async () => {
    backend.clear();
    await channel.bindQueue('orders.q', 'amq.topic', 'orders.*');

    expect(asked(backend.calls)).toEqual([
      {
        method,
        path: '/auth/resource',
        params: { ...common, resource: 'queue', name: 'orders.q', permission: 'write' },
      },
      {
        method,
        path: '/auth/resource',
        params: { ...common, resource: 'exchange', name: 'amq.topic', permission: 'read' },
      },
      {
        method,
        path: '/auth/topic',
        params: {
          ...common,
          ...topicVariables,
          resource: 'topic',
          name: 'amq.topic',
          permission: 'read',
          routing_key: 'orders.*',
        },
      },
    ]);
  });

  it('asks write on the exchange and topic write on the routing key for a topic publish', async () => {
    backend.clear();
    channel.publish('amq.topic', 'orders.created', Buffer.from('{}'));
    await backend.waitForCalls((calls) => calls.length >= 2);
    await sleep(200); // any unexpected extra call would arrive now

    expect(asked(backend.calls)).toEqual([
      {
        method,
        path: '/auth/resource',
        params: { ...common, resource: 'exchange', name: 'amq.topic', permission: 'write' },
      },
      {
        method,
        path: '/auth/topic',
        params: {
          ...common,
          ...topicVariables,
          resource: 'topic',
          name: 'amq.topic',
          permission: 'write',
          routing_key: 'orders.created',
        },
      },
    ]);
    const contentType = row.httpMethod === 'post' ? 'application/x-www-form-urlencoded' : undefined;
    expect(backend.calls[0]?.headers['content-type']).toBe(contentType);
  });

  it('sends the SPIFFE ID as the EXTERNAL username, without a password key', async () => {
    const cert = await ca.issueClientCertificate({
      name: 'orders-workload',
      subject: { commonName: 'orders' },
      spiffeId: { namespace: 'acme', serviceAccount: 'orders' },
    });
    backend.clear();
    const outcome = await connectAmqp({
      url: broker.endpoints.amqpsUrl,
      vhost,
      login: { mechanism: 'EXTERNAL' },
      tls: tlsFor(broker, cert),
    });
    await closeOutcome(outcome);

    expect(outcome.kind).toBe('connected');
    expect(asked(backend.callsTo('/user'))).toEqual([
      {
        method,
        path: '/auth/user',
        params: { username: 'spiffe://warren.test/ns/acme/sa/orders' },
      },
    ]);
  });

  it('lists the open PLAIN connection and evicts it with 320 CONNECTION_FORCED', async () => {
    const open = login;
    if (open.kind !== 'connected') throw new Error('no open connection from the first test');
    const { connection } = open;
    const closed = new Promise<Error | undefined>((resolve) => connection.once('close', resolve));
    connection.on('error', () => {}); // the forced close is also emitted as an error

    const listed = await listConnections(broker.node);
    const evicted = await closeConnections(broker.node, { user, reason: 'revoked by test' });

    expect(listed).toMatchObject([{ user, vhost, authMechanism: 'PLAIN', sslProtocol: '' }]);
    expect(evicted).toBe(1);
    expect(String(await closed)).toContain('320 (CONNECTION-FORCED)');
  });

  it('reuses the running broker when started again with the same options', async () => {
    const again = await startBroker(
      {
        version: row.version,
        instance,
        backendUrl: backend.url,
        httpMethod: row.httpMethod,
        certLoginFrom: 'uri_san',
      },
      { ca },
    );

    expect(again.reused).toBe(true);
    expect(again.processes.map((p) => p.pid)).toEqual(broker.processes.map((p) => p.pid));
    expect(listBrokers().find((b) => b.instance === instance)).toMatchObject({
      version: row.version,
      health: 'running',
      ready: true,
    });
  });

  it('stops the node, its launcher and its epmd, leaving no recorded PID or port behind', async () => {
    await closeOutcome(login);
    const pids = broker.processes.map((p) => p.pid);
    expect(broker.processes.map((p) => p.role).sort()).toEqual(['epmd', 'launcher', 'node']);

    const stopped = await stopBroker(instance);
    const again = await stopBroker(instance);

    expect(stopped.stoppedPids.sort()).toEqual([...pids].sort());
    expect(pids.filter(isRunning)).toEqual([]);
    for (const port of Object.values(broker.ports)) expect(await isPortFree(port)).toBe(true);
    expect(again).toEqual({ instance, wasRecorded: false, stoppedPids: [] });
    expect(listBrokers().map((b) => b.instance)).not.toContain(instance);
  });
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
