/**
 * A loopback fault proxy between the broker and its auth backend (Toxiproxy is not available
 * here). Faults are toggled at run time and apply to the next request (HTTP mode) or the next
 * connection and chunk (TCP mode):
 *
 * - latency + jitter: the broker's `auth_http.request_timeout` (15 s default) and the AMQP
 *   handshake timeout (10 s) decide what clients see (RABBITMQ.md section 1);
 * - hang: accepted, never answered: the broker waits for its timeout;
 * - reset: TCP RST; on the user path the broker falls through to the next backend;
 * - status: a 5xx (or any status) instead of the backend's answer;
 * - garbage: 200 with random bytes: refused on the user path, connection-fatal elsewhere.
 */
import { randomBytes } from 'node:crypto';
import {
  request as httpRequest,
  Agent,
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { once } from 'node:events';

import { ErrorCode, WarrenError } from '../../lib/errors.js';

import type { Fault } from '../model.js';

export interface FaultProxyOptions {
  /** `http` parses requests; `tcp` forwards bytes. */
  mode: 'http' | 'tcp';
  upstream: { host: string; port: number };
  /** Default 0 (ephemeral). Always bound to 127.0.0.1. */
  listenPort?: number;
  /** Random source in [0, 1); injectable so tests can fix jitter and probability. */
  random?: () => number;
}

/** Counters since start, for probes and the journal. */
export interface FaultProxyStats {
  fault: Fault['type'];
  connections: number;
  requests: number;
  faulted: number;
}

/** Parses `host:port` (the `upstream` field of a drill proxy). */
export function parseHostPort(text: string, field: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (!match?.[1] || !(port >= 1 && port <= 65535)) {
    throw new WarrenError(
      ErrorCode.BadInput,
      `${field}: "${text}" is not host:port (e.g. 127.0.0.1:8600)`,
    );
  }
  return { host: match[1], port };
}

export class FaultProxy {
  private fault: Fault = { type: 'none' };
  private probability = 1;
  private readonly sockets = new Set<Socket>();
  private readonly counters = { connections: 0, requests: 0, faulted: 0 };
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });
  private readonly random: () => number;

  private constructor(
    private readonly options: FaultProxyOptions,
    private readonly server: Server | ReturnType<typeof createTcpServer>,
  ) {
    this.random = options.random ?? Math.random;
  }

  /** Starts listening on 127.0.0.1 and resolves once bound. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const server = options.mode === 'http' ? createServer() : createTcpServer();
    const proxy = new FaultProxy(options, server);
    if (options.mode === 'http') {
      server.on('request', (req: IncomingMessage, res: ServerResponse) =>
        proxy.handleRequest(req, res),
      );
    } else {
      server.on('connection', (socket: Socket) => proxy.handleTcp(socket));
    }
    server.on('connection', (socket: Socket) => proxy.track(socket));
    server.listen(options.listenPort ?? 0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** `http://127.0.0.1:PORT` (HTTP mode) or `127.0.0.1:PORT`. */
  get url(): string {
    return this.options.mode === 'http'
      ? `http://127.0.0.1:${this.port}`
      : `127.0.0.1:${this.port}`;
  }

  /** Switches the fault; `probability` (0..1, default 1) is the share of requests hit. */
  setFault(fault: Fault, probability = 1): void {
    this.fault = fault;
    this.probability = probability;
  }

  /** Back to plain forwarding. Hung requests stay hung until their client gives up. */
  clear(): void {
    this.setFault({ type: 'none' });
  }

  stats(): FaultProxyStats {
    return { fault: this.fault.type, ...this.counters };
  }

  /** Closes the listener and every open socket. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.agent.destroy();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: Socket, counted = true): void {
    if (counted) this.counters.connections += 1;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** The fault to apply to this request or connection, after the probability draw. */
  private pick(): Fault {
    if (this.fault.type === 'none' || this.random() >= this.probability) return { type: 'none' };
    this.counters.faulted += 1;
    return this.fault;
  }

  private delayMs(fault: Extract<Fault, { type: 'latency' }>): number {
    const jitterMs = fault.jitterMs ?? 0;
    return Math.max(0, fault.latencyMs + Math.round((this.random() * 2 - 1) * jitterMs));
  }

  private handleRequest(req: IncomingMessage, res: ServerResponse): void {
    this.counters.requests += 1;
    const fault = this.pick();
    switch (fault.type) {
      case 'hang':
        return;
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'status':
        res
          .writeHead(fault.status, { 'content-type': 'text/plain' })
          .end(`chaos: injected ${fault.status}`);
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'text/plain' }).end(randomBytes(fault.bytes ?? 64));
        return;
      case 'latency':
        setTimeout(() => this.forward(req, res), this.delayMs(fault));
        return;
      case 'none':
        this.forward(req, res);
    }
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const { host, port } = this.options.upstream;
    const upstream = httpRequest(
      {
        host,
        port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: `${host}:${port}` },
        agent: this.agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    // A dead backend becomes a 502 from the proxy: what a load balancer in front would answer.
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('chaos proxy: upstream unreachable');
    });
    req.pipe(upstream);
  }

  private handleTcp(client: Socket): void {
    const fault = this.pick();
    if (fault.type === 'reset') {
      client.resetAndDestroy();
      return;
    }
    if (fault.type === 'hang') return;
    const { host, port } = this.options.upstream;
    const server = connect({ host, port });
    this.track(server, false);
    const relay = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => this.relayChunk(from, to, chunk));
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
    };
    relay(client, server);
    relay(server, client);
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
  }

  /** Applies the current fault to one chunk, so toggles reach open connections too. */
  private relayChunk(from: Socket, to: Socket, chunk: Buffer): void {
    const fault = this.fault.type === 'none' ? this.fault : this.pick();
    switch (fault.type) {
      case 'latency': {
        from.pause();
        setTimeout(() => {
          to.write(chunk);
          from.resume();
        }, this.delayMs(fault));
        return;
      }
      case 'reset':
        from.resetAndDestroy();
        to.resetAndDestroy();
        return;
      case 'hang':
        return;
      case 'garbage':
        to.write(randomBytes(fault.bytes ?? 64));
        return;
      default:
        to.write(chunk);
    }
  }
}
