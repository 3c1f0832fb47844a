/**
 * Benchmark of the reference auth service (prints figures; not a test).
 *
 *   npx tsx reference-auth/bench/run.ts [--seconds 5] [--concurrency 8] [--connections 8]
 *                                       [--identities 256] [--audit] [--log-level info]
 *                                       [--cpu-profile-dir DIR]   (V8 profile of the service)
 *
 * The service runs in a child process (the composed service: guard, metrics, decision log and,
 * with --audit, the audit file); this process is the load generator (undici Pool, keep-alive)
 * and a local JWKS endpoint. Two closed-loop phases, each after a 1 s warm-up:
 *   1. JWT logins: every request carries a distinct ES256 token (no cache can answer it).
 *   2. Cached resource checks: the identities are logged in, then ask the same resource check
 *      repeatedly (decision cache hits).
 * Concurrency 8 stands for a small cluster: each broker node's httpc keeps at most 2 keep-alive
 * sessions per host plus one-off connections under bursts (RABBITMQ.md section 1).
 * Latency is measured per request from send to full body, in µs, into node:perf_hooks
 * histograms. A closed loop under-reports queueing delay (coordinated omission): p99 here is
 * the service's, not a broker's view under an open arrival rate.
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance, createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { Pool } from 'undici';

const ISSUER = 'http://127.0.0.1:8700';

interface Phase {
  name: string;
  targetPerSecond: number;
  targetP99Ms: number;
  /** Returns the path+query of the next request. */
  next: () => string;
  expectBody: RegExp;
}

interface PhaseResult {
  name: string;
  requests: number;
  unexpected: number;
  perSecond: number;
  histogram: RecordableHistogram;
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '8' },
    connections: { type: 'string', default: '8' },
    identities: { type: 'string', default: '256' },
    audit: { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'info' },
    'cpu-profile-dir': { type: 'string' },
  },
});
const seconds = positive('seconds');
const concurrency = positive('concurrency');
const connections = positive('connections');
const identities = positive('identities');

function positive(flag: 'seconds' | 'concurrency' | 'connections' | 'identities'): number {
  const value = Number(values[flag]);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`--${flag} must be a positive integer (got "${values[flag]}")`);
  }
  return value;
}

/** A JWKS endpoint with one ES256 key, plus a minter for distinct tokens. */
async function startIdp() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'ES256', use: 'sig' };
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return { url, privateKey, close: () => new Promise((resolve) => server.close(resolve)) };
}

function username(i: number): string {
  return `bench-${i % 2 === 0 ? 'acme' : 'globex'}-${i}`;
}

async function mintTokens(privateKey: CryptoKey, count: number): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const tenant = i % 2 === 0 ? 'acme' : 'globex';
    tokens.push(
      await new SignJWT({ tenant_id: tenant, workload: 'producer', jti: `bench-${i}` })
        .setProtectedHeader({ alg: 'ES256', kid: 'bench-1', typ: 'JWT' })
        .setIssuer(ISSUER)
        .setAudience('rabbitmq')
        .setSubject(username(i % identities))
        .setIssuedAt(now)
        .setExpirationTime(now + 900)
        .sign(privateKey),
    );
  }
  return tokens;
}

function startService(jwksUrl: string): Promise<{ address: string; stop: () => Promise<void> }> {
  const child = fork(
    fileURLToPath(new URL('./server.ts', import.meta.url)),
    [
      jwksUrl,
      values.audit ? `/tmp/reference-auth-bench-${process.pid}.jsonl` : '-',
      values['log-level'] ?? 'info',
    ],
    {
      execArgv: [
        '--import',
        'tsx',
        ...(values['cpu-profile-dir']
          ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-profile-dir']}`]
          : []),
      ],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    },
  );
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`service exited early (code ${code})`)));
    child.once('message', (message: { address: string }) => {
      resolve({
        address: message.address,
        stop: () =>
          new Promise((done) => {
            child.removeAllListeners('exit');
            child.once('exit', () => done());
            child.send('stop');
          }),
      });
    });
  });
}

/** Runs a closed loop of `concurrency` workers for `durationMs`; records only when `record`. */
async function drive(
  pool: Pool,
  phase: Phase,
  durationMs: number,
  record: boolean,
): Promise<PhaseResult> {
  const histogram = createHistogram();
  const end = performance.now() + durationMs;
  let requests = 0;
  let unexpected = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const path = phase.next();
      const started = performance.now();
      const response = await pool.request({ method: 'GET', path });
      const body = await response.body.text();
      const micros = Math.max(1, Math.round((performance.now() - started) * 1000));
      if (!record) continue;
      histogram.record(micros);
      requests++;
      if (response.statusCode !== 200 || !phase.expectBody.test(body)) unexpected++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedS = (performance.now() - started) / 1000;
  return { name: phase.name, requests, unexpected, perSecond: requests / elapsedS, histogram };
}

async function runPhase(pool: Pool, phase: Phase): Promise<PhaseResult> {
  await drive(pool, phase, 1000, false);
  return drive(pool, phase, seconds * 1000, true);
}

function report(result: PhaseResult, phase: Phase): string {
  const ms = (p: number) => (result.histogram.percentile(p) / 1000).toFixed(2);
  const p99 = result.histogram.percentile(99) / 1000;
  const meets =
    result.unexpected === 0 && result.perSecond >= phase.targetPerSecond && p99 < phase.targetP99Ms;
  return [
    result.name.padEnd(24),
    `${Math.round(result.perSecond)}/s`.padStart(9),
    `p50 ${ms(50)} ms`.padStart(14),
    `p99 ${ms(99)} ms`.padStart(14),
    `p99.9 ${ms(99.9)} ms`.padStart(16),
    `max ${(result.histogram.max / 1000).toFixed(1)} ms`.padStart(14),
    `n=${result.requests}`.padStart(10),
    result.unexpected === 0 ? 'answers ok' : `INVALID: ${result.unexpected} unexpected answers`,
    `target ≥${phase.targetPerSecond}/s p99<${phase.targetP99Ms} ms: ${meets ? 'met' : 'NOT met'}`,
  ].join('  ');
}

async function main(): Promise<void> {
  const idp = await startIdp();
  // Enough distinct tokens for the login phase at well above its target rate.
  const tokens = await mintTokens(idp.privateKey, Math.max(identities, 6000 * (seconds + 1)));
  const service = await startService(idp.url);
  const pool = new Pool(service.address, { connections, pipelining: 1 });
  try {
    let t = 0;
    const loginPhase: Phase = {
      name: 'JWT logins (user path)',
      targetPerSecond: 2000,
      targetP99Ms: 10,
      next: () => {
        const i = t++ % tokens.length;
        return `/user?${new URLSearchParams({ username: username(i % identities), password: tokens[i] ?? '' })}`;
      },
      expectBody: /^allow$/,
    };
    const login = await runPhase(pool, loginPhase);
    if (t > tokens.length) console.warn(`note: ${t} logins reused ${t - tokens.length} tokens`);

    let r = 0;
    const resourcePhase: Phase = {
      name: 'cached resource checks',
      targetPerSecond: 10_000,
      targetP99Ms: 5,
      next: () => {
        const i = r++ % identities;
        const tenant = i % 2 === 0 ? 'acme' : 'globex';
        return `/resource?${new URLSearchParams({
          username: username(i),
          vhost: tenant,
          resource: 'exchange',
          name: `${tenant}.invoices`,
          permission: 'write',
          tags: '',
        })}`;
      },
      expectBody: /^allow$/,
    };
    const resource = await runPhase(pool, resourcePhase);

    console.log(
      `reference-auth benchmark: ${cpus().length} CPU(s) (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}, ` +
        `${seconds} s per phase after 1 s warm-up, concurrency ${concurrency}, ${connections} keep-alive connections, ` +
        `${identities} identities, decision log level ${values['log-level']}, audit ${values.audit ? 'on' : 'off'}`,
    );
    console.log(report(login, loginPhase));
    console.log(report(resource, resourcePhase));
  } finally {
    await pool.close();
    await service.stop();
    await idp.close();
  }
}

await main();
