/**
 * Sends decision requests the way the broker's Erlang `httpc` does (RABBITMQ.md section 1): GET
 * with the parameters as query, or POST with the same string as a form body; headers `host`,
 * `te`, `connection: keep-alive` (plus content type and length on POST), no user agent, no
 * authorization; at most two keep-alive sockets per backend. Replies are kept as raw bytes.
 */
import { Agent, request as httpRequest } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { performance } from 'node:perf_hooks';

import type { HttpMethod } from '../model.js';

/** One exchange with the backend, as sent and as received. */
export interface Exchange {
  method: HttpMethod;
  /** Path and query as sent (`/auth/user?username=…`). */
  target: string;
  /** Form body as sent (POST), else empty. */
  body: string;
  status: number;
  headers: Record<string, string>;
  reply: Buffer;
  latencyMs: number;
}

export interface BackendClientOptions {
  /** Base URL of the backend, e.g. `http://127.0.0.1:8600`. */
  baseUrl: string;
  /** Per-request timeout, ms; default 15000 (the broker's `auth_http.request_timeout`). */
  timeoutMs?: number;
}

/** A broker-like HTTP client for one backend. Call `close()` when done. */
export class BackendClient {
  readonly baseUrl: URL;
  private readonly agent: Agent;
  private readonly timeoutMs: number;

  constructor(options: BackendClientOptions) {
    this.baseUrl = new URL(options.baseUrl);
    this.timeoutMs = options.timeoutMs ?? 15_000;
    const agentOptions = { keepAlive: true, maxSockets: 2 };
    this.agent =
      this.baseUrl.protocol === 'https:' ? new HttpsAgent(agentOptions) : new Agent(agentOptions);
  }

  /** Sends `encoded` to `path` with `method`; never throws on HTTP statuses, only on I/O. */
  send(
    method: HttpMethod,
    path: string,
    encoded: string,
    extraHeaders: Record<string, string> = {},
  ): Promise<Exchange> {
    const prefix = this.baseUrl.pathname.replace(/\/$/, '');
    const target = method === 'GET' ? `${prefix}${path}?${encoded}` : `${prefix}${path}`;
    const body = method === 'POST' ? encoded : '';
    const headers: Record<string, string> = {
      host: this.baseUrl.host,
      te: '',
      connection: 'keep-alive',
      ...(method === 'POST'
        ? {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': String(Buffer.byteLength(body)),
          }
        : {}),
      ...extraHeaders,
    };
    return this.exchangeWithRetry({ method, target, body, headers });
  }

  /**
   * Like httpc, retries (up to 3 times) only when a socket turned out to be closed by the server
   * before any reply; any other failure is the backend's.
   */
  private async exchangeWithRetry(
    sent: Parameters<BackendClient['exchange']>[0],
  ): Promise<Exchange> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.exchange(sent);
      } catch (error) {
        const stale = (error as { staleSocket?: boolean }).staleSocket === true;
        if (!stale || attempt >= 3) throw describeFailure(error);
      }
    }
  }

  private exchange(sent: {
    method: HttpMethod;
    target: string;
    body: string;
    headers: Record<string, string>;
  }): Promise<Exchange> {
    let started = performance.now();
    const send = this.baseUrl.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        {
          host: this.baseUrl.hostname,
          port: this.baseUrl.port,
          method: sent.method,
          path: sent.target,
          headers: sent.headers,
          agent: this.agent,
          setHost: false,
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              method: sent.method,
              target: sent.target,
              body: sent.body,
              status: res.statusCode ?? 0,
              headers: flattenHeaders(res.headers),
              reply: Buffer.concat(chunks),
              latencyMs: performance.now() - started,
            }),
          );
        },
      );
      // Latency counts from the moment the request has a socket: time queued behind the two
      // keep-alive sessions is the client's, not the backend's decision time.
      req.on('socket', () => {
        started = performance.now();
      });
      req.on('timeout', () => req.destroy(new Error(`no reply within ${this.timeoutMs} ms`)));
      req.on('error', (error: NodeJS.ErrnoException) => {
        const reset =
          error.code === 'ECONNRESET' ||
          error.code === 'EPIPE' ||
          error.message === 'socket hang up';
        // Node's agent can hand a queued request the socket of a reply that carried
        // `Connection: close` (e.g. a 431) before it notices the close; httpc retries such
        // requests, so a reset before any reply byte counts as a stale socket here too.
        reject(Object.assign(error, { staleSocket: reset }));
      });
      req.end(sent.body);
    });
  }

  /** Plain GET of an operational path (health, readiness). */
  get(path: string): Promise<Exchange> {
    const prefix = this.baseUrl.pathname.replace(/\/$/, '');
    return this.exchange({
      method: 'GET',
      target: `${prefix}${path}`,
      body: '',
      headers: { host: this.baseUrl.host, connection: 'keep-alive' },
    });
  }

  /** Closes the keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }
}

function describeFailure(error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNRESET' || (error as Error).message === 'socket hang up') {
    return new Error(
      'the backend closed the connection without a reply (the broker refuses the login as an ' +
        'error and tries the next auth backend; later checks fail closed)',
      { cause: error },
    );
  }
  if (code === 'ECONNREFUSED')
    return new Error('the backend refused the connection', { cause: error });
  return error as Error;
}

function flattenHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) flat[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
