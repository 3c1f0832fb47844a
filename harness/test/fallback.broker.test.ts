import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { closeOutcome, connectAmqp } from '../amqp/index.js';
import type { BrokerVersion, RunningBroker } from '../broker/index.js';
import { startBroker, stopBroker } from '../broker/index.js';
import type { Recorder } from '../recorder/index.js';
import { startRecordingBackend } from '../recorder/index.js';
import { freshCa } from './broker-fixture.js';

const versions: BrokerVersion[] = ['3.10', '4.0'];
const admin = { username: 'warren-admin', password: 'fallback-only-secret' };

// `fallbackInternal` builds the fail-open chain http → internal on purpose (RABBITMQ.md
// section 2): the broker asks the next backend after a refusal. These tests pin that down, and
// that a Warren-only internal admin reaches the management API while the HTTP backend denies.
describe.each(versions)('RabbitMQ %s with the internal backend chained after http', (version) => {
  const instance = `fallback-${version.replace('.', '-')}`;
  // An explicit port override, outside every slot's range: startBroker must keep it.
  const managementPort = version === '3.10' ? 15790 : 15791;
  let backend: Recorder;
  let broker: RunningBroker;

  beforeAll(async () => {
    const ca = await freshCa(`fallback-${instance}`);
    backend = await startRecordingBackend(() => 'deny');
    broker = await startBroker(
      {
        version,
        instance,
        backendUrl: backend.url,
        fallbackInternal: true,
        internalUsers: [{ ...admin, tags: ['administrator'], vhosts: ['/'] }],
        ports: { management: managementPort },
      },
      { ca },
    );
  });

  afterAll(async () => {
    await stopBroker(instance);
    await backend?.close();
  });

  it('lets an internal user in over AMQP although the HTTP backend said deny', async () => {
    backend.clear();
    const outcome = await connectAmqp({
      url: broker.endpoints.amqpUrl,
      login: { mechanism: 'PLAIN', ...admin },
    });
    await closeOutcome(outcome);

    expect(outcome.kind).toBe('connected');
    expect(backend.callsTo('/user').map((call) => call.reply?.body)).toEqual(['deny']);
  });

  it('still refuses a user unknown to both backends', async () => {
    const outcome = await connectAmqp({
      url: broker.endpoints.amqpUrl,
      login: { mechanism: 'PLAIN', username: 'nobody', password: 'x' },
    });

    expect(outcome.kind).toBe('refused');
  });

  it('listens on the management port it was given', () => {
    expect(broker.endpoints.managementUrl).toBe(`http://127.0.0.1:${managementPort}`);
  });

  it('serves the management API to the internal administrator only', async () => {
    const get = (user: string, password: string) =>
      fetch(`${broker.endpoints.managementUrl}/api/whoami`, {
        headers: {
          authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
        },
      });
    const adminResponse = await get(admin.username, admin.password);
    const strangerResponse = await get('nobody', 'x');

    expect(adminResponse.status).toBe(200);
    expect(await adminResponse.json()).toMatchObject({ name: admin.username });
    expect(strangerResponse.status).toBe(401);
  });
});
