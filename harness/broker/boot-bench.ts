import type { ConfigureContext } from './configure.js';
import { purgeBroker, startBroker, stopBroker } from './lifecycle.js';
import type { BrokerVersion } from './versions.js';

/** Boot and stop times of one version, in milliseconds. */
export interface BootTimes {
  version: BrokerVersion;
  /** Spawn to ready (await_startup + TLS port) with an empty data folder. */
  firstBootMs: number;
  /** The same with the data folder of the previous run. */
  warmBootMs: number[];
  /** stopBroker until every recorded process is gone. */
  stopMs: number[];
}

/**
 * Measures first and warm boots of a throw-away instance (`bench-<version>`): purge, start,
 * stop, then `warmRuns` more start/stop pairs. The instance is purged again at the end.
 */
export async function measureBootTimes(
  version: BrokerVersion,
  warmRuns: number,
  context: ConfigureContext = {},
): Promise<BootTimes> {
  const instance = `bench-${version.replace('.', '-')}`;
  await stopBroker(instance);
  await purgeBroker(instance);
  const boots: number[] = [];
  const stops: number[] = [];
  try {
    for (let run = 0; run <= warmRuns; run += 1) {
      const broker = await startBroker({ version, instance }, context);
      boots.push(broker.bootMs);
      const stopStarted = Date.now();
      await stopBroker(instance);
      stops.push(Date.now() - stopStarted);
    }
  } finally {
    await stopBroker(instance);
    await purgeBroker(instance);
  }
  return { version, firstBootMs: boots[0] ?? 0, warmBootMs: boots.slice(1), stopMs: stops };
}
