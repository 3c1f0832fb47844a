import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { mergeTotals } from '../engine/metrics.js';
import { runScenario, storeOf } from '../engine/run.js';
import { defineScenario } from '../engine/scenario.js';

let server: Server;
let baseUrl: string;
let stallUntilMs = 0;

beforeAll(async () => {
  // Answers at once, except while a stall is on: then every answer waits for its end.
  server = createServer((_request, response) => {
    const waitMs = Math.max(0, stallUntilMs - Date.now());
    setTimeout(() => response.end('ok'), waitMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function scenario(extra: Record<string, unknown>) {
  return defineScenario({
    name: 'run',
    executor: 'constant-arrival-rate',
    rate: 50,
    duration: '2s',
    maxVUs: 100,
    target: { kind: 'http', url: baseUrl },
    ...extra,
  });
}

describe('a run against a real local server', () => {
  it('stops early when an abortOnFail threshold fails', async () => {
    const result = await runScenario(
      scenario({
        duration: '10s',
        thresholds: { http_reqs: [{ threshold: 'count<20', abortOnFail: true }] },
      }),
      { inThread: true, workers: 1 },
    );
    expect(result.aborted?.reason).toContain('http_reqs: count<20');
    expect(result.durationMs).toBeLessThan(5000);
  });

  it('shows a 400 ms stall of the target in latencies timed from the intended start', async () => {
    const run = runScenario(scenario({}), { inThread: true, workers: 1 });
    setTimeout(() => {
      stallUntilMs = Date.now() + 400;
    }, 700);
    const store = storeOf(await run);
    const latency = mergeTotals(store.select('http_req_duration'))?.histogram;
    // About 20 iterations were due during the stall; each waited for its end.
    const slowUs = 150_000;
    const slow = [...(latency?.buckets.entries() ?? [])]
      .filter(([bucket]) => bucket >= slowUs)
      .reduce((sum, [, count]) => sum + count, 0);
    expect(latency?.hdr.max).toBeGreaterThan(350_000);
    expect(slow).toBeGreaterThanOrEqual(8);
  });
});
