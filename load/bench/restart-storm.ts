/**
 * Shaped storm through a real broker: warm up (connections fill the broker's auth cache), restart
 * the broker, then every client reconnects at once — spread over `--jitter` as clients with
 * randomised back-off would. Prints the warm-up and the reconnect storm side by side with the
 * backend's view (calls per connection show the cold cache). Asserts nothing.
 *
 *   npx tsx load/bench/restart-storm.ts [--version 3.10|4.0] [--clients 200] [--jitter 2s] [--cache]
 */
import { parseArgs } from 'node:util';

import { openCa } from '../../certs/index.js';
import { isBrokerVersion, startBroker, stopBroker } from '../../harness/broker/index.js';
import { stateDir } from '../../lib/paths.js';
import { execute } from '../app.js';
import { parseDurationMs } from '../engine/duration.js';
import { defineScenario } from '../engine/scenario.js';
import { compareRows, formatComparison } from '../report/compare.js';
import { startLocalAuthStack } from './local-stack.js';

const { values } = parseArgs({
  options: {
    version: { type: 'string', default: '3.10' },
    clients: { type: 'string', default: '200' },
    jitter: { type: 'string', default: '2s' },
    cache: { type: 'boolean', default: false },
  },
});
const version = values.version;
if (!isBrokerVersion(version)) throw new Error(`--version ${version}: give 3.10 or 4.0`);
const clients = Number(values.clients);
const jitterMs = parseDurationMs(values.jitter, '--jitter');

const stack = await startLocalAuthStack();
const ca = await openCa({ dir: stateDir('test', 'load-restart') });
const options = {
  version,
  instance: `restart-${version.replace('.', '-')}`,
  backendUrl: stack.referenceUrl,
  httpMethod: 'get' as const,
  cache: values.cache,
};

/** `clients` connections spread evenly over `spreadMs` (a constant rate for that long). */
function wave(name: string, url: string, spreadMs: number) {
  return defineScenario({
    name,
    executor: 'constant-arrival-rate',
    rate: (clients * 1000) / spreadMs,
    duration: `${spreadMs}ms`,
    maxVUs: clients,
    target: { kind: 'amqp-connect', url, users: clients },
  });
}

try {
  let broker = await startBroker(options, { ca });
  const run = (name: string, spreadMs: number) =>
    execute(wave(name, broker.endpoints.amqpUrl, spreadMs), {
      noReports: true,
      idp: stack.idp,
      metricsUrl: `${stack.referenceUrl}/metrics`,
    });
  const warm = await run('warm-up', 10_000);
  const restartStartedMs = performance.now();
  await stopBroker(options.instance);
  broker = await startBroker(options, { ca });
  const downMs = performance.now() - restartStartedMs;
  const storm = await run('reconnect-all', Math.max(jitterMs, 100));
  console.log(
    `RabbitMQ ${version}${values.cache ? ' with cache' : ''}: ${clients} clients; ` +
      `broker restart took ${(downMs / 1000).toFixed(1)} s; reconnect spread ${values.jitter}`,
  );
  console.log(
    formatComparison(
      compareRows(
        [warm.summary, storm.summary],
        ['warm-up over 10 s', `reconnect-all over ${values.jitter}`],
      ),
    ),
  );
  for (const [label, outcome] of [
    ['warm-up', warm],
    ['reconnect-all', storm],
  ] as const) {
    const side = outcome.summary.serverSide;
    const user = side?.latencyMs['user'];
    console.log(
      `${label}: backend calls/connection ${side?.callsPerConnection?.toFixed(2) ?? '-'}, ` +
        `backend user p95 ${user ? `${user['p(95)']} ms` : '-'}, generator ${outcome.summary.verdict}`,
    );
  }
} finally {
  await stopBroker(options.instance);
  await stack.close();
}
