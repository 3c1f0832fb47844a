import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';

import { ErrorCode, WarrenError } from '../../lib/errors.js';
import { waitFor } from '../../lib/wait.js';
import type { CertificateAuthority } from '../../certs/index.js';
import type { ConfigureContext, ConfiguredBroker } from './configure.js';
import { configureBroker, endpointsFor } from './configure.js';
import { nodeCommand, runCtl } from './ctl.js';
import { hostRabbitmqBin } from './install.js';
import { hostPath, instanceHostDir, releaseSlot } from './layout.js';
import { copyCrls } from './tls-material.js';
import type { BrokerOptions } from './options.js';
import { defaultInstance, redactOptions, resolveBrokerOptions } from './options.js';
import { isProcessAlive, signalProcess, spawnDetached, waitForExit } from './processes.js';
import type { BrokerStateRecord, RecordedProcess } from './state.js';
import {
  liveProcesses,
  readBrokerState,
  recordedInstances,
  removeBrokerState,
  writeBrokerState,
} from './state.js';
import type { BrokerVersion } from './versions.js';

/** A started, ready broker: the configured one plus its processes and boot time. */
export interface RunningBroker extends Omit<ConfiguredBroker, 'status'> {
  readonly status: 'running';
  processes: RecordedProcess[];
  startedAt: Date;
  /** From spawning the node to await_startup success and an open TLS port. */
  bootMs: number;
  /** True when `startBroker` found the instance already running and reused it. */
  reused: boolean;
}

const epmdDeadlineMs = 10_000;
const stopGraceMs = 30_000;

/**
 * Starts a broker and waits until it is ready (`rabbitmqctl await_startup`, then the TLS port
 * accepts). Starting an instance that already runs returns it unchanged (`reused: true`) when
 * its options match, and fails with WARREN_ERR_BROKER when they differ. On a failed start the
 * processes started so far are stopped and the error carries the log tail.
 */
export async function startBroker(
  options: BrokerOptions,
  context: ConfigureContext = {},
): Promise<RunningBroker> {
  const resolved = resolveBrokerOptions(options);
  const existing = readBrokerState(resolved.instance);
  const healthy =
    existing?.readyAt !== undefined && liveProcesses(existing).length === existing.processes.length;
  if (existing && healthy) {
    return reuseRunning(existing, JSON.stringify(redactOptions(resolved)));
  }
  // Leftovers of a crashed or half-started node: stop what still runs, then start afresh.
  if (existing) await stopBroker(resolved.instance);
  const configured = await configureBroker(options, context);
  return launchBroker(configured);
}

/** Starts the processes of a configured broker and waits for readiness. */
export async function launchBroker(configured: ConfiguredBroker): Promise<RunningBroker> {
  const { options, node } = configured;
  const started = Date.now();
  const record: BrokerStateRecord = {
    format: 1,
    instance: options.instance,
    version: options.version,
    nodeName: configured.nodeName,
    rootDir: configured.layout.rootDir,
    brokerDir: configured.layout.brokerDir,
    nodeEnv: configured.node.env,
    ports: configured.ports,
    options: redactOptions(options),
    processes: [],
    startedAt: new Date(started).toISOString(),
  };
  try {
    record.processes.push(await startEpmd(configured));
    await writeBrokerState(record);
    const launcher = nodeCommand(node, join(hostRabbitmqBin, 'rabbitmq-server'), []);
    const pid = spawnDetached(
      launcher.command,
      launcher.args,
      launcher.env,
      configured.files.consoleLog,
    );
    record.processes.push({ role: 'launcher', pid, marker: 'rabbitmq-server' });
    await writeBrokerState(record);
    await awaitStartup(configured, pid, started);
    record.processes.push(readNodePid(configured));
    await waitForPort(configured.ports.amqps, 'TLS listener', 10_000);
    record.readyAt = new Date().toISOString();
    await writeBrokerState(record);
  } catch (error) {
    await stopBroker(options.instance);
    throw startFailure(configured, error);
  }
  return {
    ...configured,
    status: 'running',
    processes: record.processes,
    startedAt: new Date(started),
    bootMs: Date.now() - started,
    reused: false,
  };
}

async function startEpmd(configured: ConfiguredBroker): Promise<RecordedProcess> {
  const { ports, node } = configured;
  // Our own epmd, in the foreground (no -daemon) so its PID is ours to stop; loopback only.
  const call = nodeCommand(node, 'epmd', ['-port', String(ports.epmd), '-address', '127.0.0.1']);
  const pid = spawnDetached(call.command, call.args, call.env, configured.files.consoleLog);
  const processRecord: RecordedProcess = { role: 'epmd', pid, marker: 'epmd' };
  await waitFor(
    async () => {
      if (!isProcessAlive(pid, 'epmd')) throw brokerError(`epmd on port ${ports.epmd} exited`);
      return (await canConnect(ports.epmd)) ? true : undefined;
    },
    { what: `epmd on 127.0.0.1:${ports.epmd}`, deadlineMs: epmdDeadlineMs, intervalMs: 50 },
  );
  return processRecord;
}

async function awaitStartup(configured: ConfiguredBroker, launcherPid: number, started: number) {
  const deadline = started + configured.options.readyTimeoutMs;
  for (;;) {
    const remainingSeconds = Math.ceil((deadline - Date.now()) / 1000);
    if (remainingSeconds <= 0) {
      throw new WarrenError(ErrorCode.Timeout, `${configured.nodeName} did not become ready`);
    }
    const result = await runCtl(
      configured.node,
      ['await_startup', '--timeout', String(remainingSeconds)],
      (remainingSeconds + 10) * 1000,
    );
    if (result.code === 0) return;
    if (!isProcessAlive(launcherPid, 'rabbitmq-server')) {
      throw brokerError(`${configured.nodeName} exited during boot`);
    }
  }
}

function readNodePid(configured: ConfiguredBroker): RecordedProcess {
  const pidFile = hostPath(configured.layout, 'rabbit.pid');
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || !isProcessAlive(pid, 'beam')) {
    throw brokerError(`no running node behind ${pidFile}`);
  }
  return { role: 'node', pid, marker: 'beam' };
}

function reuseRunning(record: BrokerStateRecord, wantedOptions: string): RunningBroker {
  if (JSON.stringify(record.options) !== wantedOptions) {
    throw brokerError(
      `instance ${record.instance} already runs with other options; ` +
        `stop it first (npm run broker -- down --instance ${record.instance})`,
    );
  }
  const running = runningFromRecord(record);
  return { ...running, reused: true };
}

/** Rebuilds the RunningBroker view of a recorded instance (for status and reuse). */
function runningFromRecord(record: BrokerStateRecord): RunningBroker {
  const hostDir = instanceHostDir(record.instance);
  const layout = {
    instance: record.instance,
    rootDir: record.rootDir,
    hostDir,
    brokerDir: record.brokerDir,
  };
  const at = (relative: string) => join(hostDir, relative);
  return {
    status: 'running',
    options: record.options,
    nodeName: record.nodeName,
    ports: record.ports,
    layout,
    files: {
      rabbitmqConf: at('rabbitmq.conf'),
      advancedConfig: at('advanced.config'),
      enabledPlugins: at('enabled_plugins'),
      definitions: at('definitions.json'),
      log: at('log/rabbit.log'),
      consoleLog: at('console.log'),
    },
    tls: {
      caBundlePath: at('tls/ca-bundle.pem'),
      serverChainPath: at('tls/server-chain.pem'),
      serverKeyPath: at('tls/server-key.pem'),
      crlDir: at('crl'),
    },
    endpoints: endpointsFor(record.ports),
    node: { rootDir: record.rootDir, nodeName: record.nodeName, env: record.nodeEnv },
    processes: record.processes,
    startedAt: new Date(record.startedAt),
    bootMs: record.readyAt ? Date.parse(record.readyAt) - Date.parse(record.startedAt) : 0,
    reused: false,
  };
}

/** What {@link stopBroker} did. */
export interface StopResult {
  instance: string;
  /** False when nothing was recorded for the instance (stopping it again is harmless). */
  wasRecorded: boolean;
  /** PIDs that were still running and were stopped. */
  stoppedPids: number[];
}

/**
 * Stops exactly the processes recorded for an instance: the node (SIGTERM, which OTP turns into
 * a clean `init:stop`), then its launcher, then its epmd; SIGKILL for any that outlive the grace
 * period. Removes the state file and frees the port slot. Harmless when nothing runs.
 */
export async function stopBroker(instanceOrBroker: string | RunningBroker): Promise<StopResult> {
  const instance =
    typeof instanceOrBroker === 'string' ? instanceOrBroker : instanceOrBroker.options.instance;
  const record = readBrokerState(instance);
  if (!record) return { instance, wasRecorded: false, stoppedPids: [] };
  const live = liveProcesses(record);
  const byRole = (role: RecordedProcess['role']) => live.filter((p) => p.role === role);

  await terminate([...byRole('node'), ...byRole('launcher')], stopGraceMs);
  await terminate(byRole('epmd'), 5_000);
  const survivors = liveProcesses(record);
  if (survivors.length > 0) {
    throw brokerError(
      `instance ${instance}: PIDs ${survivors.map((p) => p.pid).join(', ')} survived SIGKILL`,
    );
  }
  await removeBrokerState(instance);
  await releaseSlot(record.version, instance);
  return { instance, wasRecorded: true, stoppedPids: live.map((p) => p.pid) };
}

async function terminate(processes: RecordedProcess[], graceMs: number): Promise<void> {
  if (processes.length === 0) return;
  for (const p of processes) signalProcess(p.pid, p.marker, 'SIGTERM');
  if (await waitForExit(processes, graceMs)) return;
  for (const p of processes) signalProcess(p.pid, p.marker, 'SIGKILL');
  await waitForExit(processes, 5_000);
}

/** One recorded broker instance, for `status`. */
export interface BrokerListing {
  instance: string;
  version: BrokerVersion;
  nodeName: string;
  /** 'running': every recorded process is alive; 'partial': some died; 'stopped': none alive. */
  health: 'running' | 'partial' | 'stopped';
  ready: boolean;
  endpoints: ReturnType<typeof endpointsFor>;
  pids: number[];
  rabbitmqConf: string;
  log: string;
}

/** Every instance with recorded state, with whether its processes still run. */
export function listBrokers(): BrokerListing[] {
  return recordedInstances().flatMap((instance) => {
    const record = readBrokerState(instance);
    if (!record) return [];
    const live = liveProcesses(record).length;
    const health =
      live === 0 ? 'stopped' : live === record.processes.length ? 'running' : 'partial';
    return [
      {
        instance,
        version: record.version,
        nodeName: record.nodeName,
        health,
        ready: record.readyAt !== undefined && health === 'running',
        endpoints: endpointsFor(record.ports),
        pids: record.processes.map((p) => p.pid),
        rabbitmqConf: join(instanceHostDir(instance), 'rabbitmq.conf'),
        log: join(instanceHostDir(instance), 'log/rabbit.log'),
      },
    ];
  });
}

/** The default instance name of each version, for scripts. */
export function defaultInstanceOf(version: BrokerVersion): string {
  return defaultInstance(version);
}

/** The last `lines` lines of an instance's node log (and console log when the node log is empty). */
export function brokerLogTail(instance: string, lines = 40): string {
  const dir = instanceHostDir(instance);
  for (const file of ['log/rabbit.log', 'console.log']) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'utf8').trimEnd();
    if (text) return text.split('\n').slice(-lines).join('\n');
  }
  return '';
}

function startFailure(configured: ConfiguredBroker, error: unknown): WarrenError {
  const tail = brokerLogTail(configured.options.instance, 25);
  const reason = error instanceof Error ? error.message : String(error);
  const code = error instanceof WarrenError ? error.code : ErrorCode.Broker;
  return new WarrenError(
    code,
    `broker ${configured.options.instance} (RabbitMQ ${configured.options.version}) failed to ` +
      `start: ${reason}\nconfig: ${configured.files.rabbitmqConf}\nlog tail:\n${tail}`,
    { cause: error },
  );
}

function brokerError(message: string): WarrenError {
  return new WarrenError(ErrorCode.Broker, message);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForPort(port: number, what: string, deadlineMs: number): Promise<void> {
  await waitFor(async () => ((await canConnect(port)) ? true : undefined), {
    what: `${what} on 127.0.0.1:${port}`,
    deadlineMs,
    intervalMs: 100,
  });
}

/**
 * Copies `ca`'s current CRLs into a running broker's CRL folder, so that handshakes from now on
 * see revocations made after the start. Open connections stay open: RabbitMQ checks CRLs at
 * handshake only (RABBITMQ.md section 4); evict them separately.
 */
export async function refreshBrokerCrls(
  broker: RunningBroker,
  ca: CertificateAuthority,
): Promise<void> {
  await copyCrls(ca, broker.layout);
}

/**
 * Deletes an instance's folder (data, logs, generated config, TLS copies), so the next start is
 * a first boot. Refuses while the instance runs; a missing folder is fine.
 */
export async function purgeBroker(instance: string): Promise<void> {
  const record = readBrokerState(instance);
  if (record && liveProcesses(record).length > 0) {
    throw brokerError(`instance ${instance} is running; stop it before purging`);
  }
  const hostDir = instanceHostDir(instance);
  if (!existsSync(hostDir)) {
    await rm(hostDir, { force: true }); // a dangling symlink to a removed root
    return;
  }
  const realDir = realpathSync(hostDir);
  await rm(realDir, { recursive: true, force: true });
  await rm(hostDir, { recursive: true, force: true });
}
