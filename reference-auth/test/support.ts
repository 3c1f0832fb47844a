/**
 * Test support: a manual clock, a local JWKS server with signing keys (standing in for the
 * harness test IdP), a recording sink, and a service built on them, driven through `inject`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import pino from 'pino';
import { resolveConfig, type ConfigOverride } from '../config.js';
import type { Clock } from '../controls.js';
import type { DecisionRecord, DecisionSink } from '../decision.js';
import { demoPolicyPath, parsePolicy, readPolicyFile } from '../policy/load.js';
import { buildServer, type ReferenceAuth, type ServerDeps } from '../server.js';

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(public ms = 1_800_000_000_000) {}
  nowMs(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  get seconds(): number {
    return Math.floor(this.ms / 1000);
  }
}

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** A JWKS endpoint on an ephemeral loopback port with keys the tests sign with. */
export class TestIdp {
  readonly issuer = 'http://127.0.0.1:8700';
  readonly keys: SigningKey[] = [];
  online = true;
  fetchCount = 0;
  private server: Server | undefined;
  url = '';

  static async start(): Promise<TestIdp> {
    const idp = new TestIdp();
    await idp.addKey('rs-1', 'RS256');
    await idp.addKey('es-1', 'ES256');
    await idp.listen();
    return idp;
  }

  /** Adds a key to the published set (published = visible on the next fetch). */
  async addKey(kid: string, alg: string, publish = true): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const key = {
      kid,
      alg,
      privateKey,
      publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
    };
    if (publish) this.keys.push(key);
    return key;
  }

  /** Signs claims with the named key (default rs-1), filling the demo defaults around them. */
  async mint(
    clock: ManualClock,
    claims: Record<string, unknown>,
    options: { kid?: string; key?: SigningKey; expiresInSeconds?: number } = {},
  ): Promise<string> {
    const key = options.key ?? this.keys.find((k) => k.kid === (options.kid ?? 'rs-1'));
    if (!key) throw new Error(`no key ${options.kid}`);
    const now = clock.seconds;
    const body = {
      iss: this.issuer,
      aud: 'rabbitmq',
      iat: now,
      exp: now + (options.expiresInSeconds ?? 300),
      jti: `jti-${Math.random().toString(36).slice(2)}`,
      ...claims,
    };
    for (const [name, value] of Object.entries(body))
      if (value === undefined) delete (body as Record<string, unknown>)[name];
    return new SignJWT(body)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .sign(key.privateKey);
  }

  private async listen(): Promise<void> {
    this.server = createServer((request, response) => {
      this.fetchCount += 1;
      if (!this.online) {
        response.writeHead(503).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: this.keys.map((k) => k.publicJwk) }));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/.well-known/jwks.json`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** A sink that keeps every record. */
export function recordingSink(): DecisionSink & { records: DecisionRecord[] } {
  const records: DecisionRecord[] = [];
  return { records, record: (decision) => void records.push(decision) };
}

/** Options for `startService`. */
export interface ServiceOptions {
  /** The JWKS to trust (a TestIdp or the harness IdP). */
  idp: { url?: string; jwksUrl?: string; issuer: string };
  clock?: ManualClock;
  /** Policy YAML text; default: the demo policy. */
  policyText?: string;
  config?: Record<string, unknown>;
  deps?: Partial<ServerDeps>;
  /** Where pino writes (collect lines to check what is logged). */
  logLines?: string[];
}

/** A built (not listening) service plus its clock and sink. */
export interface TestService {
  auth: ReferenceAuth;
  clock: ManualClock;
  sink: ReturnType<typeof recordingSink>;
  /** GET `/<path>?<fields>` through inject; resolves to the body. */
  get(path: string, fields: Record<string, string>): Promise<string>;
  /** POST a form body through inject; resolves to the body. */
  post(path: string, fields: Record<string, string>): Promise<string>;
}

export async function startService(options: ServiceOptions): Promise<TestService> {
  const clock = options.clock ?? new ManualClock();
  const sink = recordingSink();
  const config = resolveConfig({
    flags: {
      jwt: {
        jwksUrl: options.idp.jwksUrl ?? options.idp.url,
        issuers: [options.idp.issuer],
        unknownKidCooldownSeconds: 30,
      },
      watchPolicy: false,
      ...options.config,
    } as ConfigOverride,
  });
  const policy = options.policyText
    ? parsePolicy(options.policyText, 'test-policy.yaml')
    : await readPolicyFile(config.policyFile || demoPolicyPath);
  const logger = options.logLines
    ? pino({ level: 'info' }, { write: (line: string) => void options.logLines?.push(line) })
    : pino({ level: 'silent' });
  const auth = await buildServer(config, { clock, sinks: [sink], logger, policy, ...options.deps });
  const send = async (method: 'GET' | 'POST', path: string, fields: Record<string, string>) => {
    const body = new URLSearchParams(fields).toString();
    const response = await auth.app.inject(
      method === 'GET'
        ? { method, url: `/${path}?${body}` }
        : {
            method,
            url: `/${path}`,
            payload: body,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          },
    );
    if (response.statusCode !== 200) throw new Error(`status ${response.statusCode} on ${path}`);
    return response.body;
  };
  return {
    auth,
    clock,
    sink,
    get: (path, fields) => send('GET', path, fields),
    post: (path, fields) => send('POST', path, fields),
  };
}

/** Demo JWT claims for a workload. */
export function demoClaims(sub: string, tenant: string, workload: string): Record<string, unknown> {
  return { sub, tenant_id: tenant, workload };
}

/** The SPIFFE ID of a demo service. */
export function spiffe(tenant: string, service: string): string {
  return `spiffe://warren.test/ns/${tenant}/sa/${service}`;
}
