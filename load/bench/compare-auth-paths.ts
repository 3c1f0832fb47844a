/**
 * `compare` across auth paths: the same AMQP connect storm through one broker version configured
 * four ways — the broker's internal database alone (no HTTP at all: the baseline), the HTTP
 * backend with an allow-all server (the floor of any HTTP path), the reference service, the
 * reference service behind the broker's `cache` backend — printed as ratios to the first row.
 * The internal row's users are created for the run through rabbitmqctl with random passwords
 * that only this process holds. Result files land in reports/load/compare/. Prints figures;
 * asserts nothing.
 *
 *   npx tsx load/bench/compare-auth-paths.ts [--version 3.10|4.0] [--rate 30] [--duration 10s]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { openCa } from '../../certs/index.js';
import { isBrokerVersion, startBroker, stopBroker } from '../../harness/broker/index.js';
import { reportsDir, stateDir } from '../../lib/paths.js';
import { execute } from '../app.js';
import { defineScenario } from '../engine/scenario.js';
import { compareRows, formatComparison } from '../report/compare.js';
import type { Summary } from '../report/summary.js';
import type { TargetSecrets } from '../targets/spec.js';
import { createInternalLoadUsers } from './internal-users.js';
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

const outDir = reportsDir('load', 'compare');
mkdirSync(outDir, { recursive: true });
const stack = await startLocalAuthStack();
const { referenceUrl, allowAllUrl } = stack;
const ca = await openCa({ dir: stateDir('test', 'load-compare') });

const paths = [
  { label: 'internal (no HTTP, baseline)', internal: true, backendUrl: allowAllUrl, cache: false },
  { label: 'http → allow-all server', internal: false, backendUrl: allowAllUrl, cache: false },
  { label: 'http → reference service', internal: false, backendUrl: referenceUrl, cache: false },
  {
    label: 'cache + http → reference service',
    internal: false,
    backendUrl: referenceUrl,
    cache: true,
  },
];
const summaries: Summary[] = [];
try {
  for (const [i, path] of paths.entries()) {
    const instance = `cmp-${i}-${version.replace('.', '-')}`;
    const broker = await startBroker(
      path.internal
        ? { version, instance, authBackend: 'internal' }
        : { version, instance, backendUrl: path.backendUrl, httpMethod: 'get', cache: path.cache },
      { ca },
    );
    try {
      const scenario = defineScenario({
        name: 'connect-storm',
        executor: 'constant-arrival-rate',
        rate: Number(values.rate),
        duration: values.duration,
        maxVUs: 500,
        target: { kind: 'amqp-connect', url: broker.endpoints.amqpUrl, users: 50 },
      });
      if (scenario.target.kind !== 'amqp-connect') throw new Error('not an amqp-connect storm');
      // Internal users get per-run passwords; the HTTP paths get fresh JWTs from the stack's IdP.
      const secrets: TargetSecrets | undefined = path.internal
        ? await createInternalLoadUsers(broker, scenario.target)
        : undefined;
      const outcome = await execute(scenario, {
        noReports: true,
        idp: stack.idp,
        ...(secrets ? { secrets } : {}),
        ...(path.backendUrl === referenceUrl ? { metricsUrl: `${referenceUrl}/metrics` } : {}),
      });
      const file = join(outDir, `${instance}.json`);
      writeFileSync(file, `${JSON.stringify(outcome.result)}\n`);
      summaries.push(outcome.summary);
      const side = outcome.summary.serverSide;
      console.log(
        `${path.label}: ${outcome.summary.verdict}, result ${file}` +
          (side ? `, backend calls per connection ${side.callsPerConnection?.toFixed(2)}` : ''),
      );
    } finally {
      await stopBroker(instance);
    }
  }
  console.log(`\nRabbitMQ ${version}, ${values.rate} connections/s for ${values.duration}:`);
  console.log(
    formatComparison(
      compareRows(
        summaries,
        paths.map((p) => p.label),
      ),
    ),
  );
} finally {
  await stack.close();
}
