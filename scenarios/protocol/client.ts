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
    return this.exchange({ method, target, body, headers });
  }

  private exchange(sent: {
    method: HttpMethod;
    target: string;
    body: string;
    headers: Record<string, string>;
  }): Promise<Exchange> {
    const started = performance.now();
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
      req.on('timeout', () => req.destroy(new Error(`no reply within ${this.timeoutMs} ms`)));
      req.on('error', reject);
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

function flattenHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) flat[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
