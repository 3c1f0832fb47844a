/**
 * The built-in TLS storms through a real broker, end to end as `npm run load -- --scenario …`
 * resolves them (client certificate issued by the Warren CA the harness brokers trust):
 * `connect-storm-tls` (PLAIN + fresh JWT, certificate presented) and `connect-storm-mtls`
 * (EXTERNAL, the certificate's SPIFFE ID), against one broker that asks the reference service
 * and takes the EXTERNAL username from URI SAN #0. Prints each summary and a side-by-side table
 * with ratios to the first. Asserts nothing.
 *
 *   npx tsx load/bench/tls-storms.ts [--version 3.10|4.0] [--rate 30] [--duration 10s]
 */
import { parseArgs } from 'node:util';

import { openCa } from '../../certs/index.js';
import { isBrokerVersion, startBroker, stopBroker } from '../../harness/broker/index.js';
import { execute, resolveScenario } from '../app.js';
import { parseDurationMs } from '../engine/duration.js';
import { compareRows, formatComparison } from '../report/compare.js';
import type { Summary } from '../report/summary.js';
import { startLocalAuthStack } from './local-stack.js';

const { values } = parseArgs({
  options: {
    version: { type: 'string', default: '3.10' },
    rate: { type: 'string', default: '30' },
    duration: { type: 'string', default: '10s' },
  },
});
const version = values.version;
if (!isBrokerVersion(version)) throw new Error(`--version ${version}: give 3.10 or 4.0`);
const rate = Number(values.rate);
if (!(rate > 0)) throw new Error(`--rate ${values.rate}: give connections per second, e.g. 30`);
const durationMs = parseDurationMs(values.duration, '--duration');

const storms = ['connect-storm-tls', 'connect-storm-mtls'];
const instance = `load-tls-${version.replace('.', '-')}`;
const stack = await startLocalAuthStack();
try {
  // The default CA (.warren/ca): the one prepareBuiltinScenario issues the client certificate from.
  const broker = await startBroker(
    {
      version,
      instance,
      backendUrl: stack.referenceUrl,
      httpMethod: 'get',
      certLoginFrom: 'uri_san',
    },
    { ca: await openCa() },
  );
  try {
    const summaries: Summary[] = [];
    for (const name of storms) {
      const scenario = await resolveScenario(name, {
        targetUrl: broker.endpoints.amqpsUrl,
        rate,
        durationMs,
      });
      const outcome = await execute(scenario, {
        noReports: true,
        idp: stack.idp,
        metricsUrl: `${stack.referenceUrl}/metrics`,
      });
      console.log(outcome.text);
      summaries.push(outcome.summary);
    }
    console.log(`\nRabbitMQ ${version}, ${rate} connections/s for ${values.duration}, TLS:`);
    console.log(formatComparison(compareRows(summaries, storms)));
  } finally {
    await stopBroker(instance);
  }
} finally {
  await stack.close();
}
