import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

import { ErrorCode, WarrenError } from '../../lib/errors.js';

/**
 * How the JWKS endpoint behaves:
 * - `ok`: the published keys;
 * - `broken`: a reply no JWKS client can use (see `BrokenKind`);
 * - `unreachable`: the socket is destroyed without a reply, or the whole listener is closed;
 * - `slow`: the published keys after a delay;
 * - `empty`: a valid JWKS with no keys (`{"keys":[]}`).
 */
export type JwksMode = 'ok' | 'broken' | 'unreachable' | 'slow' | 'empty';

/** Kinds of broken JWKS replies. */
export type BrokenKind = 'invalid-json' | 'html' | 'not-a-jwks' | 'http-500';

/** Options of `setJwksMode`. */
export interface JwksModeOptions {
  /** `slow`: delay before the reply; default 5000 ms. */
  delayMs?: number;
  /** `broken`: what goes wrong; default `invalid-json` (200, JSON content type, truncated JSON). */
  broken?: BrokenKind;
  /**
   * `unreachable`: `destroy` (default) drops each JWKS connection without a reply; `close` stops
   * listening on the port altogether (discovery too) until the mode changes.
   */
  unreachable?: 'destroy' | 'close';
}

/** Requests seen since start or the last reset. */
export interface IdpCounters {
  /** JWKS requests, whatever the mode answered (not counted while the listener is closed). */
  jwks: number;
  /** Discovery document requests. */
  discovery: number;
  /** Requests to hosted files (attacker JWKS, x5u certificates), by path. */
  hosted: Record<string, number>;
  /** Requests to any other path (answered 404). */
  notFound: number;
  /** When each JWKS request arrived (IdP clock, ms), the last 1000. */
  jwksAtMs: number[];
}

/** A file the IdP serves besides its own endpoints (e.g. an attacker JWKS for `jku` cases). */
export interface HostedFile {
  contentType: string;
  body: string;
}

/** What the HTTP layer asks the IdP for. */
export interface IdpContent {
  discovery(): object;
  jwks(): object;
  nowMs(): number;
}

export const jwksPath = '/.well-known/jwks.json';
export const discoveryPath = '/.well-known/openid-configuration';
const jwksLogLimit = 1000;
const defaultSlowDelayMs = 5000;

function freshCounters(): IdpCounters {
  return { jwks: 0, discovery: 0, hosted: {}, notFound: 0, jwksAtMs: [] };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    // A JWKS may be cached briefly (RFC 7517 says nothing; common IdPs send minutes).
    'cache-control': 'public, max-age=300',
  });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const brokenReplies: Record<BrokenKind, (res: ServerResponse) => void> = {
  'invalid-json': (res) => sendText(res, 200, 'application/json', '{"keys":[{"kty":"EC",'),
  html: (res) => sendText(res, 200, 'text/html', '<html><body>Sign in</body></html>'),
  'not-a-jwks': (res) => sendJson(res, 200, { keys: 'none', error: 'maintenance' }),
  'http-500': (res) => sendJson(res, 500, { error: 'internal_error' }),
};

/**
 * The IdP's HTTP listener (loopback only): discovery, JWKS with switchable failure modes,
 * hosted files, request counters.
 */
export class IdpHttpServer {
  private server: Server;
  private mode: JwksMode = 'ok';
  private modeOptions: JwksModeOptions = {};
  private counts = freshCounters();
  private readonly hosted = new Map<string, HostedFile>();
  private readonly pendingTimers = new Set<NodeJS.Timeout>();
  private boundPort = 0;
  private listening = false;

  constructor(
    private readonly content: IdpContent,
    private readonly host: string,
  ) {
    this.server = this.createListener();
  }

  /** The port actually bound (after `listen`). */
  get port(): number {
    return this.boundPort;
  }

  /** Binds `port` (0 = ephemeral); fails with WARREN_ERR_PORT_IN_USE when taken. */
  async listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        if (error.code !== 'EADDRINUSE') return reject(error);
        reject(
          new WarrenError(
            ErrorCode.PortInUse,
            `test IdP cannot listen on ${this.host}:${port}: the port is taken; ` +
              'stop the other IdP (`npm run idp -- serve` elsewhere?) or pass another port',
          ),
        );
      };
      this.server.once('error', onError);
      this.server.listen(port, this.host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const address = this.server.address();
    this.boundPort = typeof address === 'object' && address !== null ? address.port : port;
    this.listening = true;
    return this.boundPort;
  }

  /** Switches the JWKS behaviour; leaving `unreachable`/`close` listens on the same port again. */
  async setMode(mode: JwksMode, options: JwksModeOptions = {}): Promise<void> {
    const closeListener = mode === 'unreachable' && options.unreachable === 'close';
    this.mode = mode;
    this.modeOptions = options;
    if (closeListener && this.listening) await this.closeListener();
    if (!closeListener && !this.listening) {
      this.server = this.createListener();
      await this.listen(this.boundPort);
    }
  }

  /** The current mode and its options. */
  currentMode(): { mode: JwksMode; options: JwksModeOptions } {
    return { mode: this.mode, options: { ...this.modeOptions } };
  }

  /** Serves `body` at `path` (which must start with `/`) and counts requests to it. */
  hostFile(path: string, file: HostedFile): void {
    this.hosted.set(path, file);
  }

  counters(): IdpCounters {
    return structuredClone(this.counts);
  }

  resetCounters(): void {
    this.counts = freshCounters();
  }

  /** Stops listening, drops open connections and pending slow replies. */
  async close(): Promise<void> {
    for (const timer of this.pendingTimers) clearTimeout(timer);
    this.pendingTimers.clear();
    if (this.listening) await this.closeListener();
  }

  private createListener(): Server {
    return createServer((req, res) => this.route(req, res));
  }

  private async closeListener(): Promise<void> {
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://idp.invalid').pathname;
    if (path === jwksPath) return this.serveJwks(req, res);
    if (path === discoveryPath) {
      this.counts.discovery += 1;
      return sendJson(res, 200, this.content.discovery());
    }
    const file = this.hosted.get(path);
    if (file !== undefined) {
      this.counts.hosted[path] = (this.counts.hosted[path] ?? 0) + 1;
      return sendText(res, 200, file.contentType, file.body);
    }
    this.counts.notFound += 1;
    sendJson(res, 404, { error: 'not_found' });
  }

  private serveJwks(req: IncomingMessage, res: ServerResponse): void {
    this.countJwks();
    switch (this.mode) {
      case 'ok':
        return sendJson(res, 200, this.content.jwks());
      case 'empty':
        return sendJson(res, 200, { keys: [] });
      case 'broken':
        return brokenReplies[this.modeOptions.broken ?? 'invalid-json'](res);
      case 'unreachable':
        req.socket.destroy();
        return;
      case 'slow':
        return this.serveLater(res, this.modeOptions.delayMs ?? defaultSlowDelayMs);
    }
  }

  private serveLater(res: ServerResponse, delayMs: number): void {
    const timer = setTimeout(() => {
      this.pendingTimers.delete(timer);
      if (!res.destroyed) sendJson(res, 200, this.content.jwks());
    }, delayMs);
    this.pendingTimers.add(timer);
  }

  private countJwks(): void {
    this.counts.jwks += 1;
    this.counts.jwksAtMs.push(this.content.nowMs());
    if (this.counts.jwksAtMs.length > jwksLogLimit) this.counts.jwksAtMs.shift();
  }
}
