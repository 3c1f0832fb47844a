import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { stateDir } from '../../lib/paths.js';
import type { ResolvedBrokerOptions } from './options.js';
import { isProcessAlive } from './processes.js';
import type { BrokerPorts, BrokerVersion } from './versions.js';

/** A process Warren started for a broker, with the marker that proves a PID is still ours. */
export interface RecordedProcess {
  role: 'epmd' | 'launcher' | 'node';
  pid: number;
  /** Substring of /proc/<pid>/cmdline; a PID without it was reused by someone else. */
  marker: string;
}

/** What `state.json` of a started instance records (written before readiness is awaited). */
export interface BrokerStateRecord {
  format: 1;
  instance: string;
  version: BrokerVersion;
  nodeName: string;
  rootDir: string;
  brokerDir: string;
  /** Environment the node and rabbitmqctl share (paths and ports; no secrets). */
  nodeEnv: string[];
  ports: BrokerPorts;
  options: ResolvedBrokerOptions;
  processes: RecordedProcess[];
  startedAt: string;
  /** Set once the node answered await_startup and the TLS port accepted a connection. */
  readyAt?: string;
}

const stateFileName = 'state.json';

/** Path of an instance's state file. */
export function stateFilePath(instance: string): string {
  return stateDir('brokers', instance, stateFileName);
}

/** The recorded state of `instance`, or undefined when it has none (never started or stopped). */
export function readBrokerState(instance: string): BrokerStateRecord | undefined {
  const path = stateFilePath(instance);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as BrokerStateRecord;
}

/** Writes the state file of an instance. */
export async function writeBrokerState(record: BrokerStateRecord): Promise<void> {
  await writeFile(stateFilePath(record.instance), `${JSON.stringify(record, null, 2)}\n`);
}

/** Removes the state file of an instance (after everything it records has stopped). */
export async function removeBrokerState(instance: string): Promise<void> {
  await rm(stateFilePath(instance), { force: true });
}

/** Names of every instance with a state file. */
export function recordedInstances(): string[] {
  const dir = stateDir('brokers');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.'))
    .filter((name) => existsSync(join(dir, name, stateFileName)));
}

/** The recorded processes that still run. */
export function liveProcesses(record: BrokerStateRecord): RecordedProcess[] {
  return record.processes.filter((p) => isProcessAlive(p.pid, p.marker));
}
