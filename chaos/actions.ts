/** Actions: faults and their undoing. Each returns an output for the journal. */
import { ErrorCode, WarrenError } from '../lib/errors.js';

import type { RunContext } from './context.js';
import type { Action } from './model.js';
import { callTarget, describe, lookup, runCommand } from './providers.js';

/** Runs one action; throws (with a stable code) when it did not take effect. */
export async function runAction(action: Action, ctx: RunContext): Promise<unknown> {
  switch (action.type) {
    case 'process.kill':
    case 'process.pause':
    case 'process.resume':
    case 'process.restart':
      return runProcessAction(action, ctx);
    case 'proxy.fault': {
      const proxy = lookup(ctx.proxies, action.proxy, 'proxy');
      proxy.setFault(action.fault, action.probability ?? 1);
      return { proxy: action.proxy, fault: action.fault, probability: action.probability ?? 1 };
    }
    case 'proxy.clear':
      lookup(ctx.proxies, action.proxy, 'proxy').clear();
      return { proxy: action.proxy, fault: 'none' };
    case 'auth.stop':
    case 'auth.pause':
    case 'auth.restore':
    case 'broker.restart':
      return callTarget(ctx, action.type, {});
    case 'target':
      return callTarget(ctx, action.op, action.args ?? {});
    case 'command': {
      const result = await runCommand(action.argv, action.timeoutMs ?? 30_000, ctx.signal);
      if (result.exitCode !== 0) {
        throw new WarrenError(
          ErrorCode.ProcessFailed,
          `${action.argv[0]} exited with ${result.exitCode}: ${result.stderr.trim().slice(-300)}`,
        );
      }
      return result;
    }
    case 'http':
      return runHttpAction(action, ctx.signal);
    case 'function':
      return action.run(ctx);
  }
}

async function runProcessAction(
  action: Extract<Action, { process: string }>,
  ctx: RunContext,
): Promise<unknown> {
  const child = lookup(ctx.processes, action.process, 'process');
  if (action.type === 'process.kill') await child.kill();
  if (action.type === 'process.pause') child.pause();
  if (action.type === 'process.resume') child.resume();
  if (action.type === 'process.restart') await child.restart();
  return { process: action.process, state: child.state, pid: child.pid ?? null };
}

async function runHttpAction(
  action: Extract<Action, { type: 'http' }>,
  signal: AbortSignal,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(action.url, {
      method: action.method ?? 'POST',
      headers: action.headers,
      body: action.body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(action.timeoutMs ?? 10_000)]),
    });
  } catch (error) {
    throw new WarrenError(
      ErrorCode.ProcessFailed,
      `${action.method ?? 'POST'} ${action.url} failed: ${describe(error)}`,
    );
  }
  const body = (await response.text()).slice(0, 2000);
  const expected = action.expectStatus;
  const ok = expected ? expected.includes(response.status) : response.ok;
  if (!ok) {
    throw new WarrenError(
      ErrorCode.ProcessFailed,
      `${action.url} answered ${response.status}: ${body.slice(0, 200)}`,
    );
  }
  return { status: response.status, body };
}
