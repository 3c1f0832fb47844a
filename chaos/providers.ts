/**
 * Probe providers: read-only observations. An unreachable endpoint is an output (`{ error }`),
 * not a failure, because "the service does not answer" is exactly what drills look at.
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';

import { ErrorCode, WarrenError } from '../lib/errors.js';

import type { RunContext } from './context.js';
import { tcpOpen } from './faults/process.js';
import type { Provider } from './model.js';

/** Runs one provider and returns its output. Throws only when it cannot run at all. */
export async function runProvider(provider: Provider, ctx: RunContext): Promise<unknown> {
  switch (provider.type) {
    case 'http':
      return probeHttp(provider, ctx.signal);
    case 'tcp':
      return probeTcp(provider.host, Number(provider.port), provider.timeoutMs ?? 2000);
    case 'command':
      return runCommand(provider.argv, provider.timeoutMs ?? 30_000, ctx.signal);
    case 'process': {
      const child = lookup(ctx.processes, provider.process, 'process');
      return { state: child.state, pid: child.pid ?? null, restarts: child.restarts };
    }
    case 'proxy':
      return lookup(ctx.proxies, provider.proxy, 'proxy').stats();
    case 'amqp': {
      const args = { ...provider, timeoutMs: provider.timeoutMs ?? 5000 };
      return callTarget(ctx, 'amqp.attempt', args);
    }
    case 'target':
      return callTarget(ctx, provider.op, provider.args ?? {});
    case 'function':
      return provider.run(ctx);
  }
}

/** The named drill resource, or WARREN_ERR_BAD_INPUT naming what exists. */
export function lookup<T>(map: ReadonlyMap<string, T>, name: string, kind: string): T {
  const found = map.get(name);
  if (found !== undefined) return found;
  const known = [...map.keys()].join(', ') || 'none';
  throw new WarrenError(
    ErrorCode.BadInput,
    `no ${kind} named "${name}" in this drill (known: ${known})`,
  );
}

async function probeHttp(
  provider: Extract<Provider, { type: 'http' }>,
  signal: AbortSignal,
): Promise<unknown> {
  const started = performance.now();
  try {
    const response = await fetch(provider.url, {
      method: provider.method ?? 'GET',
      headers: provider.headers,
      body: provider.body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(provider.timeoutMs ?? 5000)]),
    });
    const body = await response.text();
    const elapsedMs = Math.round(performance.now() - started);
    return { status: response.status, body: body.slice(0, 2000), json: parseJson(body), elapsedMs };
  } catch (error) {
    if (signal.aborted) throw error;
    return {
      status: 0,
      error: describe(error),
      elapsedMs: Math.round(performance.now() - started),
    };
  }
}

async function probeTcp(host: string, port: number, timeoutMs: number): Promise<unknown> {
  const started = performance.now();
  const open = await tcpOpen(host, port, timeoutMs);
  return { connected: open === true, elapsedMs: Math.round(performance.now() - started) };
}

/** Calls a target operation; WARREN_ERR_MISSING_DEPENDENCY lists what the target offers. */
export function callTarget(
  ctx: RunContext,
  op: string,
  args: Readonly<Record<string, unknown>>,
): Promise<unknown> {
  const operation = ctx.target.operations[op];
  if (operation === undefined) {
    const { kind, name } = ctx.target.description;
    const offered = Object.keys(ctx.target.operations).sort().join(', ') || 'none';
    throw new WarrenError(
      ErrorCode.MissingDependency,
      `target "${name}" (${kind}) offers no operation "${op}" (it offers: ${offered})`,
    );
  }
  return operation(args, ctx.signal);
}

/** Output of a program run without a shell; never throws on a non-zero exit. */
export function runCommand(
  argv: readonly string[],
  timeoutMs: number,
  signal: AbortSignal,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const [program, ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(
      program ?? '',
      args,
      { timeout: timeoutMs, signal, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code;
        if (error && typeof code !== 'number') {
          reject(
            new WarrenError(ErrorCode.ProcessFailed, `${program}: ${error.message}`, {
              cause: error,
            }),
          );
          return;
        }
        resolve({
          exitCode: typeof code === 'number' ? code : 0,
          stdout: tail(stdout),
          stderr: tail(stderr),
        });
      },
    );
  });
}

function tail(text: string): string {
  return text.length > 4000 ? text.slice(-4000) : text;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** One line for an error, with the cause that fetch hides (ECONNREFUSED, ECONNRESET). */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  const detail = cause?.code ?? cause?.message;
  return detail ? `${error.message} (${detail})` : error.message;
}
