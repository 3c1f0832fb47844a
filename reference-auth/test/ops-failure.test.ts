import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { resolveConfig, type ConfigOverride } from '../config.js';
import { MemoryKillSwitch } from '../controls.js';
import type { ServerDeps } from '../server.js';
import { startReferenceAuth, type RunningReferenceAuth } from '../ops/service.js';
import { demoClaims, ManualClock, recordingSink, TestIdp } from './support.js';

let idp: TestIdp;
/** An introspection endpoint that never answers; counts the calls it swallows. */
let silent: Server;
let silentCalls = 0;
let silentUrl: string;

beforeAll(async () => {
  idp = await TestIdp.start();
  silent = createServer(() => void silentCalls++);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/introspect`;
});
afterAll(async () => {
  await idp.close();
  silent.closeAllConnections();
  await new Promise((resolve) => silent.close(resolve));
});

interface Harness {
  running: RunningReferenceAuth;
  sink: ReturnType<typeof recordingSink>;
  lines: string[];
  clock: ManualClock;
  ask(
    path: string,
    fields: Record<string, string>,
  ): Promise<{ body: string; cacheControl: string }>;
}

async function build(config: Record<string, unknown>, deps: ServerDeps = {}): Promise<Harness> {
  const lines: string[] = [];
  const sink = recordingSink();
  const clock = new ManualClock(Date.now());
  const running = await startReferenceAuth(
    resolveConfig({
      flags: {
        watchPolicy: false,
        jwt: { jwksUrl: idp.url },
        metrics: { processMetrics: false },
        admin: { enabled: false },
        ...config,
        // Lag shedding has its own tests; a loaded test machine must not shed these requests.
        guard: { maxEventLoopDelayMs: 0, ...(config.guard as object | undefined) },
      } as ConfigOverride,
    }),
    {
      listen: false,
      deps: {
        clock,
        sinks: [sink],
        logger: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }),
        ...deps,
      },
    },
  );
  const ask = async (path: string, fields: Record<string, string>) => {
    const response = await running.service.app.inject({
      method: 'GET',
      url: `/${path}?${new URLSearchParams(fields)}`,
    });
    expect(response.statusCode).toBe(200);
    return { body: response.body, cacheControl: String(response.headers['cache-control']) };
  };
  return { running, sink, lines, clock, ask };
}

describe('failure behaviour', () => {
  it('answers deny with internal_error and logs an error when a component throws', async () => {
    const broken = new MemoryKillSwitch();
    broken.matches = () => {
      throw new Error('kill switch storage unreachable');
    };
    const h = await build({}, { killSwitch: broken });
    try {
      const token = await idp.mint(h.clock, demoClaims('acme-admin', 'acme', 'admin'));
      expect((await h.ask('user', { username: 'acme-admin', password: token })).body).toBe('deny');
      expect(h.sink.records.at(-1)).toMatchObject({ verdict: 'deny', reason: 'internal_error' });
      expect(h.lines.some((l) => l.includes('"level":50'))).toBe(true);
      expect(h.lines.join('')).not.toContain(token);
    } finally {
      await h.running.close();
    }
  });

  it('bounds a hanging JWKS endpoint by its timeout and denies as dependency_unavailable', async () => {
    // A fetch that only ends when the caller's timeout aborts it.
    const hangingFetch: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    const h = await build(
      { jwt: { jwksUrl: idp.url, jwksTimeoutMs: 200 } },
      { fetch: hangingFetch },
    );
    try {
      const token = await idp.mint(h.clock, demoClaims('acme-producer', 'acme', 'producer'));
      const started = performance.now();
      const answer = await h.ask('user', { username: 'acme-producer', password: token });
      expect(answer.body).toBe('deny');
      expect(performance.now() - started).toBeLessThan(5000);
      expect(h.sink.records.at(-1)?.reason).toBe('dependency_unavailable');
      expect(answer.cacheControl).toBe('no-store');
      expect(await h.running.metrics.render()).toMatch(
        /reference_auth_jwks_fetches_total\{outcome="error"\} [1-9]/,
      );
    } finally {
      await h.running.close();
    }
  });

  it('bounds a hanging introspection endpoint, then fails fast once the circuit opens', async () => {
    const h = await build({
      introspection: {
        endpoint: silentUrl,
        clientId: 'reference-auth',
        clientSecret: 'introspection-secret',
        timeoutMs: 150,
        failureThreshold: 2,
        openMs: 60_000,
      },
    });
    try {
      const opaque = { username: 'acme-producer', password: 'opaque-token-value-not-a-jwt' };
      const callsBefore = silentCalls;
      // Each call is cut off by the 150 ms timeout (the endpoint would hang forever).
      for (let i = 0; i < 2; i++) expect((await h.ask('user', opaque)).body).toBe('deny');
      expect(silentCalls - callsBefore).toBe(2);
      // The circuit is now open: the third login is denied without calling the endpoint.
      expect((await h.ask('user', opaque)).body).toBe('deny');
      expect(silentCalls - callsBefore).toBe(2);
      expect(h.sink.records.map((r) => r.reason)).toEqual([
        'dependency_unavailable',
        'dependency_unavailable',
        'dependency_unavailable',
      ]);
      expect(h.running.introspection?.breaker.state).toBe('open');
    } finally {
      await h.running.close();
    }
  });

  it('answers rate_limited per identity with status 200, deny and no-store', async () => {
    const h = await build({ guard: { ratePerSecond: 1, burst: 2 } });
    try {
      const ask = (username: string) => h.ask('vhost', { username, vhost: 'acme', ip: '' });
      await ask('acme-consumer');
      await ask('acme-consumer');
      const limited = await ask('acme-consumer');
      expect(limited).toEqual({ body: 'deny', cacheControl: 'no-store' });
      expect(h.sink.records.at(-1)?.reason).toBe('rate_limited');
      // Another identity behind the same broker address is not affected.
      await ask('globex-consumer');
      expect(h.sink.records.at(-1)?.reason).not.toBe('rate_limited');
    } finally {
      await h.running.close();
    }
  });

  it('sheds with overloaded while the in-flight limit is taken by a slow login', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    // The first fetch (start-up preload) succeeds; the refetch for an unknown key waits.
    const slowFetch: typeof fetch = async (input, init) => {
      calls++;
      if (calls > 1) await gate;
      return fetch(input, init);
    };
    const h = await build(
      { guard: { maxInFlight: 1 }, jwt: { jwksUrl: idp.url, unknownKidCooldownSeconds: 0 } },
      { fetch: slowFetch },
    );
    try {
      const key = await idp.addKey('rs-late', 'RS256');
      const token = await idp.mint(h.clock, demoClaims('acme-producer', 'acme', 'producer'), {
        key,
      });
      const slow = h.ask('user', { username: 'acme-producer', password: token });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const shed = await h.ask('vhost', { username: 'globex-consumer', vhost: 'globex', ip: '' });
      expect(shed).toEqual({ body: 'deny', cacheControl: 'no-store' });
      expect(h.sink.records.at(-1)?.reason).toBe('overloaded');
      release();
      expect((await slow).body).toBe('allow');
    } finally {
      release();
      await h.running.close();
    }
  });
});
