import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { repoRoot } from '../../lib/paths.js';

const tsxCli = join(repoRoot, 'node_modules/tsx/dist/cli.mjs');
let server: Server;
let baseUrl: string;
let dir: string;

/** Runs `npm run load` without npm (no setup step): returns the exit code and output. */
function load(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [tsxCli, join(repoRoot, 'scripts/load.ts'), ...args],
      { env: { ...process.env, WARREN_REPORTS_DIR: join(dir, 'reports') }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A tiny scenario file; the generator limits are loose because CI machines are noisy. */
function scenarioFile(name: string, path: string, maxVUs: number): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}
executor: constant-arrival-rate
rate: 20
duration: 1s
maxVUs: ${maxVUs}
workers: 1
target: { kind: http, url: "${baseUrl}${path}" }
thresholds:
  http_req_duration: ['p(95)<2000']
  http_req_failed: ['rate<0.01']
selfCheck: { maxEventLoopLagMs: 2000, maxStartLagP95Ms: 2000, maxCpuShare: 2 }
`,
  );
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warren-load-cli-'));
  server = createServer((request, response) => {
    const delayMs = request.url === '/slow' ? 300 : 0;
    setTimeout(() => response.end('ok'), delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run load exit codes', () => {
  it('exits 0 when every threshold holds, writing summary.json, JUnit and HTML', async () => {
    const run = await load([
      '--scenario',
      scenarioFile('tiny', '/', 50),
      '--out',
      join(dir, 'a.json'),
    ]);
    expect(run.stdout).toContain('RESULT: PASSED');
    expect(run.code).toBe(0);
    const latest = join(dir, 'reports/load/latest');
    const summary = JSON.parse(readFileSync(join(latest, 'summary.json'), 'utf8'));
    expect(summary.metrics.http_req_duration.values).toHaveProperty('p(95)');
    expect(summary.metrics.iterations.values.count).toBe(20);
    expect(readFileSync(join(latest, 'junit.xml'), 'utf8')).toContain('failures="0"');
    expect(existsSync(join(latest, 'report.html'))).toBe(true);
  });

  it('exits 99 when a threshold given on the command line fails', async () => {
    const run = await load([
      '--scenario',
      scenarioFile('tiny', '/', 50),
      '--threshold',
      'http_reqs{endpoint:/}:count<1',
      '--workers',
      '2',
      '--out',
      join(dir, 'b.json'),
    ]);
    expect(run.stdout).toMatch(/✗ http_reqs\{endpoint:\/\}: count<1 {2}observed 20/);
    expect(run.code).toBe(99);
  });

  it('exits 2 (invalid) when the generator could not offer the load', async () => {
    // One VU against a 300 ms endpoint at 20/s: most iterations are dropped.
    const run = await load(['--scenario', scenarioFile('starved', '/slow', 1), '--no-reports']);
    expect(run.stdout).toContain('✗ dropped');
    expect(run.stdout).toContain('RESULT: INVALID');
    expect(run.code).toBe(2);
  });

  it('merges result files from several runs into one summary', async () => {
    const run = await load(['merge', join(dir, 'a.json'), join(dir, 'b.json'), '--no-reports']);
    expect(run.stdout).toMatch(/iterations\.+: count=40 /);
    expect(run.stdout).toContain('sources: 2');
    expect(run.code).toBe(99);
  });

  it('compares results as ratios to the first', async () => {
    const run = await load(['compare', join(dir, 'a.json'), join(dir, 'b.json')]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toContain('p50/p95/p99 vs first');
    expect(lines[1]).toContain('1.00× / 1.00× / 1.00×');
    expect(lines).toHaveLength(3);
  });

  it('exits 2 with a message naming the problem on bad input', async () => {
    const run = await load(['--scenario', 'no-such-scenario']);
    expect(run.stderr).toContain('WARREN_ERR_BAD_OPTION');
    expect(run.stderr).toContain('decision-storm');
    expect(run.code).toBe(2);
  });
});
