/**
 * What a drill owns for the length of one run: loopback ports, fault proxies and child
 * processes. Started in that order (a proxy's upstream may name a port, a process may name a
 * proxy), stopped in reverse, always.
 */
import { open } from 'node:fs/promises';
import { createServer } from 'node:net';
import { once } from 'node:events';

import { ManagedProcess, type ReadyCheck } from './faults/process.js';
import { FaultProxy, parseHostPort } from './faults/proxy.js';
import type { Drill, ProcessSpec } from './model.js';
import { fillDeep, fillString, type Vars } from './template.js';

export class DrillResources {
  /** Placeholder values, filled as things start; the same object for the whole run. */
  readonly vars: Record<string, string | number> = {};
  readonly processes = new Map<string, ManagedProcess>();
  readonly proxies = new Map<string, FaultProxy>();

  constructor(private readonly drill: Drill) {}

  /** Starts everything the drill declares; on failure, what started is stopped by `stop`. */
  async start(targetVars: Vars, userVars: Vars): Promise<void> {
    Object.assign(this.vars, userVars);
    for (const [name, value] of Object.entries(targetVars)) this.vars[`target.${name}`] = value;
    for (const name of this.drill.ports ?? []) this.vars[`ports.${name}`] = await freePort();
    for (const [name, spec] of Object.entries(this.drill.proxies ?? {})) {
      const upstream = parseHostPort(
        fillString(spec.upstream, this.vars, `proxies.${name}.upstream`),
        `proxies.${name}.upstream`,
      );
      const proxy = await FaultProxy.start({
        mode: spec.mode,
        upstream,
        listenPort: spec.listenPort,
      });
      this.proxies.set(name, proxy);
      this.vars[`proxies.${name}.port`] = proxy.port;
      this.vars[`proxies.${name}.url`] = proxy.url;
    }
    for (const [name, spec] of Object.entries(this.drill.processes ?? {})) {
      const child = new ManagedProcess(
        name,
        toProcessOptions(fillDeep(spec, this.vars, `processes.${name}`)),
      );
      this.processes.set(name, child);
      await child.start();
    }
  }

  /** Stops processes then proxies, newest first; returns the errors instead of throwing. */
  async stop(): Promise<string[]> {
    const errors: string[] = [];
    for (const child of [...this.processes.values()].reverse()) {
      await child
        .stop()
        .catch((error: unknown) => errors.push(`process ${child.name}: ${String(error)}`));
    }
    for (const [name, proxy] of [...this.proxies.entries()].reverse()) {
      await proxy.close().catch((error: unknown) => errors.push(`proxy ${name}: ${String(error)}`));
    }
    return errors;
  }

  /** The last lines of each drill-owned process. */
  recentLogs(count: number): Record<string, string[]> {
    const logs: Record<string, string[]> = {};
    for (const [name, child] of this.processes) logs[`process:${name}`] = child.recentLines(count);
    return logs;
  }
}

function toProcessOptions(spec: ProcessSpec) {
  let ready: ReadyCheck | undefined;
  if (spec.ready && 'tcp' in spec.ready) {
    ready = { tcp: { host: spec.ready.tcp.host, port: Number(spec.ready.tcp.port) } };
  } else {
    ready = spec.ready;
  }
  return {
    command: spec.command,
    env: spec.env,
    cwd: spec.cwd,
    ready,
    readyTimeoutMs: spec.readyTimeoutMs,
  };
}

/** An unused loopback port (bound then released; another program could take it meanwhile). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The last `count` lines of each named file; unreadable files are reported as such. */
export async function readLogTails(
  files: Readonly<Record<string, string>>,
  count: number,
): Promise<Record<string, string[]>> {
  const tails: Record<string, string[]> = {};
  for (const [name, path] of Object.entries(files)) {
    tails[name] = await tailFile(path, count).catch((error: unknown) => [
      `(unreadable: ${String(error)})`,
    ]);
  }
  return tails;
}

/** Reads at most the last 64 KiB: enough for 20 log lines, bounded for huge broker logs. */
export async function tailFile(path: string, count: number): Promise<string[]> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '')
      .slice(-count);
  } finally {
    await handle.close();
  }
}
