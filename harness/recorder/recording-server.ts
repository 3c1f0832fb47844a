import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { waitFor } from '../../lib/wait.js';

/** One HTTP request the broker (or anyone) sent, as received. */
export interface RecordedCall {
  /** 1, 2, 3… in arrival order. */
  seq: number;
  method: string;
  /** URL path without the query string, e.g. `/auth/user`. */
  path: string;
  /**
   * Decoded parameters from the query string (GET) or the form body (POST); for a repeated key
   * the last value. Holds the password of user-path calls: keep recordings in memory and print
   * them with {@link describeCall}, which redacts it.
   */
  params: Record<string, string>;
  /** The undecoded query string or body, for asserting the exact encoding. */
  rawParams: string;
  /** Request headers, lower-case names. */
  headers: Record<string, string | string[] | undefined>;
  /** Arrival time (ms since epoch). */
  receivedAt: number;
  /** What was answered, once answered. */
  reply?: { status: number; body: string };
}

/** An answer to send; status defaults to 200. */
export interface BackendReply {
  status?: number;
  body: string;
  /** Wait this long before answering (a slow backend); default 0 ms. */
  delayMs?: number;
}

/** Decides the answer to a call: a body string (status 200) or a full reply. */
export type ReplyRule = (
  call: RecordedCall,
) => string | BackendReply | Promise<string | BackendReply>;

/** A running recorder. Stop it with `close()` (tests: in afterAll). */
export interface Recorder {
  /** Base URL, e.g. `http://127.0.0.1:41234`: the broker's `backendUrl`. */
  url: string;
  port: number;
  /** Every call so far, in arrival order. */
  readonly calls: readonly RecordedCall[];
  /** Calls whose path ends with `suffix` (e.g. '/user'). */
  callsTo(suffix: string): RecordedCall[];
  /** Forgets the calls recorded so far. */
  clear(): void;
  /** Resolves once `predicate` holds for the calls, or fails after `deadlineMs` (default 5000). */
  waitForCalls(
    predicate: (calls: readonly RecordedCall[]) => boolean,
    deadlineMs?: number,
  ): Promise<void>;
  close(): Promise<void>;
}

/** Options shared by the recording backend and the recording proxy. */
export interface ListenOptions {
  /** Port on 127.0.0.1; default 0 (an ephemeral port). */
  port?: number;
}

type Answer = (call: RecordedCall, request: IncomingMessage) => Promise<BackendReply>;

/** Starts an HTTP server on 127.0.0.1 that records each request and answers through `answer`. */
export async function startRecorder(
  answer: Answer,
  options: ListenOptions = {},
): Promise<Recorder> {
  const calls: RecordedCall[] = [];
  let seq = 0;
  const server = createServer((request, response) => {
    void handle(request, response);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const call = await readCall(request, (seq += 1));
    calls.push(call);
    let reply: BackendReply;
    try {
      reply = await answer(call, request);
    } catch (error) {
      reply = { status: 500, body: `recorder rule failed: ${(error as Error).message}` };
    }
    if (reply.delayMs) await sleep(reply.delayMs);
    const status = reply.status ?? 200;
    call.reply = { status, body: reply.body };
    response.writeHead(status, { 'content-type': 'text/plain' });
    response.end(reply.body);
  }

  const port = await listen(server, options.port ?? 0);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    callsTo: (suffix) => calls.filter((call) => call.path.endsWith(suffix)),
    clear: () => {
      calls.length = 0;
    },
    waitForCalls: (predicate, deadlineMs = 5_000) =>
      waitFor(async () => (predicate(calls) ? true : undefined), {
        what: 'the expected backend calls',
        deadlineMs,
        intervalMs: 20,
      }).then(() => undefined),
    close: () => closeServer(server),
  };
}

/**
 * A recording auth backend: answers each call by `rule` and records it. Deny by default is the
 * rule's job; a rule that throws answers 500 (which the broker treats as an error, not a deny).
 */
export function startRecordingBackend(
  rule: ReplyRule,
  options: ListenOptions = {},
): Promise<Recorder> {
  return startRecorder(async (call) => {
    const reply = await rule(call);
    return typeof reply === 'string' ? { body: reply } : reply;
  }, options);
}

async function readCall(request: IncomingMessage, seq: number): Promise<RecordedCall> {
  const url = new URL(request.url ?? '/', 'http://recorder');
  const body = await readBody(request);
  const rawParams = request.method === 'GET' ? url.search.replace(/^\?/, '') : body;
  return {
    seq,
    method: request.method ?? '',
    path: url.pathname,
    params: Object.fromEntries(new URLSearchParams(rawParams)),
    rawParams,
    headers: { ...request.headers },
    receivedAt: Date.now(),
  };
}

/** Reads a request body (the broker's bodies are small form posts). */
export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A one-line description of a call with the password redacted, for logs and failure messages. */
export function describeCall(call: RecordedCall): string {
  const shown = Object.entries(call.params)
    .map(([key, value]) => `${key}=${key === 'password' ? '<redacted>' : value}`)
    .join('&');
  return `${call.method} ${call.path} ${shown} -> ${call.reply?.status ?? '…'} ${call.reply?.body ?? ''}`;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1' }, () => {
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    // The broker's httpc keeps sessions alive; drop them or close() waits for their timeout.
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
