/**
 * Benchmark of the runner itself against wrk (Debian package) on the same trivial local
 * server: highest request rate with the same connection count (both closed-loop), then the
 * runner's open model at a share of wrk's rate (default a quarter: an open model offers its
 * rate on schedule, so it needs headroom). Prints figures; asserts nothing.
 *
 *   npx tsx load/bench/wrk-compare.ts [--duration 10s] [--connections 64] [--workers 2]
 *                                     [--open-share 0.25]
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

import { parseDurationMs } from '../engine/duration.js';
import { runScenario, storeOf } from '../engine/run.js';
import { defineScenario } from '../engine/scenario.js';
import { metricValues } from '../report/summary.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10s' },
    connections: { type: 'string', default: '64' },
    workers: { type: 'string', default: String(availableParallelism()) },
    'open-share': { type: 'string', default: '0.25' },
  },
});
const durationMs = parseDurationMs(values.duration, '--duration');
const connections = Number(values.connections);
const workers = Number(values.workers);

/** The trivial target, in its own process so it does not share the runner's threads. */
async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const code =
    "const s=require('node:http').createServer((q,r)=>r.end('ok'));" +
    "s.listen(0,'127.0.0.1',()=>console.log(s.address().port))";
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) =>
    child.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())),
  );
  return { url: `http://127.0.0.1:${port}/`, child };
}

interface Figures {
  rate: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** wrk's "Latency Distribution" values, converted to ms. */
function wrkMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!match) return NaN;
  const scale = match[2] === 'us' ? 0.001 : match[2] === 's' ? 1000 : 1;
  return Number(match[1]) * scale;
}

function runWrk(url: string): Promise<Figures> {
  const args = [
    '-t',
    String(workers),
    '-c',
    String(connections),
    '-d',
    `${Math.round(durationMs / 1000)}s`,
    '--latency',
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile('wrk', args, (error, stdout) => {
      if (error) return reject(error);
      const pick = (pattern: RegExp): string => pattern.exec(stdout)?.[1] ?? 'NaN';
      resolve({
        rate: Number(pick(/Requests\/sec:\s+([\d.]+)/)),
        p50: wrkMs(pick(/\s50%\s+(\S+)/)),
        p90: wrkMs(pick(/\s90%\s+(\S+)/)),
        p99: wrkMs(pick(/\s99%\s+(\S+)/)),
        max: wrkMs(pick(/Latency\s+\S+\s+\S+\s+(\S+)/)),
      });
    });
  });
}

async function runRunner(
  url: string,
  executor: Record<string, unknown>,
): Promise<Figures & { invalid: string }> {
  const scenario = defineScenario({
    name: 'bench',
    ...executor,
    duration: `${durationMs}ms`,
    workers,
    target: { kind: 'http', url, connections: Math.ceil(connections / workers) },
  });
  const result = await runScenario(scenario);
  const store = storeOf(result);
  const latency = metricValues(store.select('http_req_duration'), result.durationMs / 1000);
  const count = latency['count'] ?? 0;
  const dropped = store.select('dropped_iterations').reduce((sum, s) => sum + s.total.sum, 0);
  return {
    rate: count / (result.durationMs / 1000),
    p50: latency['med'] ?? NaN,
    p90: latency['p(90)'] ?? NaN,
    p99: latency['p(99)'] ?? NaN,
    max: latency['max'] ?? NaN,
    invalid: `cpu ${(result.generator.cpuShare * 100).toFixed(0)}%, dropped ${dropped}`,
  };
}

function row(label: string, f: Figures, note = ''): string {
  const ms = (v: number): string => v.toFixed(2).padStart(8);
  return `${label.padEnd(34)} ${f.rate.toFixed(0).padStart(8)} ${ms(f.p50)} ${ms(f.p90)} ${ms(f.p99)} ${ms(f.max)}  ${note}`;
}

const server = await startServer();
try {
  console.log(
    `target ${server.url}, ${connections} connections, ${workers} threads, ${values.duration} each`,
  );
  const wrk = await runWrk(server.url);
  const closed = await runRunner(server.url, { executor: 'constant-vus', vus: connections });
  const openRate = Math.round(wrk.rate * Number(values['open-share']));
  const open = await runRunner(server.url, {
    executor: 'constant-arrival-rate',
    rate: openRate,
    maxVUs: connections * 4,
  });
  console.log(
    `${'run'.padEnd(34)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p90 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)}`,
  );
  console.log(row('wrk (closed loop)', wrk));
  console.log(row('warren constant-vus (closed loop)', closed, closed.invalid));
  console.log(row(`warren arrival rate ${openRate}/s (open)`, open, open.invalid));
  console.log(`warren/wrk rate ratio (closed loop): ${(closed.rate / wrk.rate).toFixed(2)}`);
} finally {
  server.child.kill();
}
