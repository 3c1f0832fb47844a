import { join } from 'node:path';

import { hostRabbitmqBin } from './install.js';
import type { RunResult } from './processes.js';
import { runProcess } from './processes.js';
import { chrootBaseEnv } from './rootfs.js';

/** How to reach one node's scripts: its root, environment and node name. */
export interface NodeHandle {
  rootDir: string;
  nodeName: string;
  /** `NAME=value` pairs the node and its CLI share (HOME with the cookie, epmd port, files). */
  env: string[];
}

/**
 * A command line that runs `program` (a RabbitMQ or Erlang script) for the node: directly with a
 * clean environment on the host, or through `chroot ROOT env -i …` for a node inside a root.
 */
export function nodeCommand(
  node: NodeHandle,
  program: string,
  args: string[],
): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const envPairs = [...chrootBaseEnv(), ...node.env];
  if (node.rootDir === '/') {
    return { command: program, args, env: Object.fromEntries(envPairs.map(splitPair)) };
  }
  return {
    command: '/usr/sbin/chroot',
    args: [node.rootDir, 'env', '-i', ...envPairs, program, ...args],
    env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
  };
}

/**
 * Runs `rabbitmqctl -n NODE …` against the node. rabbitmqctl speaks Erlang distribution with the
 * node's cookie, so it works whatever the auth backends answer (the management API does not).
 */
export function runCtl(node: NodeHandle, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  // Without -start_epmd false, a CLI call while the node's epmd is down would daemonise a new
  // epmd that nobody records or stops.
  const cliNode = { ...node, env: [...node.env, 'ERL_FLAGS=-start_epmd false'] };
  const call = nodeCommand(cliNode, join(hostRabbitmqBin, 'rabbitmqctl'), [
    '-n',
    node.nodeName,
    ...args,
  ]);
  return runProcess(call.command, call.args, { env: call.env, timeoutMs });
}

function splitPair(pair: string): [string, string] {
  const at = pair.indexOf('=');
  return [pair.slice(0, at), pair.slice(at + 1)];
}
