/**
 * AMQP connection storms through a real broker, each connection timed by phase: TCP connect,
 * TLS handshake, AMQP handshake (which includes the broker's calls to the auth backend), channel
 * open, first confirmed publish. amqplib opens its own socket, so the phases are observed from
 * outside: plain TCP through the `net.client.socket` diagnostics channel (published
 * synchronously inside amqplib's connect), TLS by handing amqplib an already connected TCP
 * socket and noting when the server certificate is checked (the end of the client's handshake).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { connect as connectTcp, type Socket } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';

import { connect as connectAmqp, type ChannelModel } from 'amqplib';

import {
  amqpSocketOptions,
  classifyFailure,
  clientTlsFromFiles,
  type AmqpConnectRequest,
} from '../../harness/amqp/index.js';
import { credentialKindFor, loadUsername, tokenFor } from './auth-http.js';
import type { AmqpConnectTargetSpec, TargetSecrets } from './spec.js';
import type { IterationContext, Target } from './target.js';

/** Phase end times of one connection, clock ms. */
interface PhaseTimes {
  tcp?: number;
  tls?: number;
}

/** Connections whose amqplib connect call is on the stack right now (one at a time: sync). */
let pendingPlain: PhaseTimes | undefined;
let subscribers = 0;
let now: () => number = () => performance.now();
const onClientSocket = (message: unknown): void => {
  const phases = pendingPlain;
  if (!phases) return;
  const socket = (message as { socket: Socket }).socket;
  socket.once('connect', () => {
    phases.tcp = now();
  });
};

function connectOnce(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host, port, noDelay: true, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.setTimeout(0);
      resolve(socket);
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }));
    });
    socket.once('error', reject);
  });
}

/** Builds the AMQP connection-storm target for one worker. */
export function createAmqpTarget(spec: AmqpConnectTargetSpec, secrets: TargetSecrets): Target {
  const url = new URL(spec.url);
  const secure = url.protocol === 'amqps:';
  const port = Number(url.port || (secure ? 5671 : 5672));
  const tls = spec.tls ? clientTlsFromFiles(spec.tls) : undefined;
  const fill = (text: string): string => text.replaceAll('{tenant}', spec.tenant);
  const vhost = spec.vhost ?? spec.tenant;
  if (subscribers++ === 0) subscribe('net.client.socket', onClientSocket);

  async function open(context: IterationContext, phases: PhaseTimes): Promise<ChannelModel> {
    const n = context.index % spec.users;
    const kind = spec.mechanism === 'PLAIN' ? credentialKindFor(spec, context.index) : 'valid';
    const request: AmqpConnectRequest = {
      url: spec.url,
      vhost,
      timeoutMs: spec.timeoutMs,
      login:
        spec.mechanism === 'PLAIN'
          ? {
              mechanism: 'PLAIN',
              username: loadUsername(spec, n),
              password: tokenFor(secrets, kind, n),
            }
          : { mechanism: 'EXTERNAL' },
      ...(tls ? { tls } : {}),
    };
    const options: Record<string, unknown> = { ...amqpSocketOptions(request) };
    if (secure) {
      options['socket'] = await connectOnce(url.hostname, port, spec.timeoutMs);
      phases.tcp = context.now();
      options['checkServerIdentity'] = (host: string, cert: PeerCertificate) => {
        phases.tls = context.now();
        return checkServerIdentity(host, cert);
      };
    }
    const target = {
      protocol: url.protocol.replace(':', ''),
      hostname: url.hostname,
      port,
      vhost,
      heartbeat: 0,
    };
    now = context.now;
    pendingPlain = secure ? undefined : phases;
    try {
      return connectAmqp(target, options);
    } finally {
      pendingPlain = undefined;
    }
  }

  async function iterate(context: IterationContext): Promise<void> {
    const kind = spec.mechanism === 'PLAIN' ? credentialKindFor(spec, context.index) : 'valid';
    const startedAt = context.now();
    const phases: PhaseTimes = {};
    let connection: ChannelModel | undefined;
    let outcome = 'connected';
    try {
      connection = await open(context, phases);
    } catch (error) {
      outcome = classifyFailure(error, 0).kind;
    }
    const openedAt = context.now();
    const phase = (name: string, ms: number | undefined): void => {
      if (ms !== undefined) context.record.trend('amqp_phase_duration', ms, { phase: name });
    };
    context.record.counter('amqp_connections', 1, { outcome });
    const allowed = context.record.check(
      kind === 'valid' ? 'valid login allowed' : `${kind} login denied`,
      (connection !== undefined) === (kind === 'valid') &&
        (connection !== undefined || outcome === 'refused'),
    );
    phase('tcp', phases.tcp === undefined ? undefined : phases.tcp - startedAt);
    phase(
      'tls',
      phases.tls === undefined || phases.tcp === undefined ? undefined : phases.tls - phases.tcp,
    );
    if (!connection) {
      if (!allowed) throw new Error(`${kind} login ended ${outcome}`);
      return;
    }
    phase('amqp', openedAt - (phases.tls ?? phases.tcp ?? startedAt));
    // The SLO figure: from the intended start to an open connection (no coordinated omission).
    context.record.trend('amqp_connect_duration', openedAt - context.intendedMs);
    try {
      await useConnection(context, connection, phase, openedAt);
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  async function useConnection(
    context: IterationContext,
    connection: ChannelModel,
    phase: (name: string, ms: number) => void,
    openedAt: number,
  ): Promise<void> {
    const channel = await connection.createConfirmChannel();
    const channelAt = context.now();
    phase('channel', channelAt - openedAt);
    if (!spec.publish) return;
    const exchange = fill(spec.publish.exchange);
    if (spec.publish.declare) await channel.assertExchange(exchange, 'topic', { durable: true });
    channel.publish(exchange, fill(spec.publish.routingKey), Buffer.from('warren load'));
    await channel.waitForConfirms();
    phase('publish', context.now() - channelAt);
  }

  return {
    iterate,
    async close(): Promise<void> {
      if (--subscribers === 0) unsubscribe('net.client.socket', onClientSocket);
    },
  };
}
