/**
 * Setting up what a conformance run talks to, as a list of tasks whose teardowns run in reverse,
 * even after a failure: the test IdP (always: the backend under test trusts its JWKS), and the
 * reference service when no `--backend` is given.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

import { ErrorCode, WarrenError } from '../lib/errors.js';
import { repoRoot } from '../lib/paths.js';
import { waitFor } from '../lib/wait.js';
import { startIdp } from '../harness/idp/index.js';
import type { RunningIdp } from '../harness/idp/index.js';
import { resolveConfig } from '../reference-auth/config.js';
import { buildServer } from '../reference-auth/server.js';

/** The reference service's fixed decision address (COMMON constants). */
export const referenceBackendUrl = 'http://127.0.0.1:8600';

/** What a run has set up; `stop()` tears it down in reverse order. */
export interface RunTarget {
  idp: RunningIdp;
  backendUrl: string;
  /** `reference-auth (embedded)` or the URL given. */
  backendLabel: string;
  stop(): Promise<void>;
}

export interface TargetOptions {
  /** Backend under test; default: start reference-auth on 127.0.0.1:8600 in this process. */
  backendUrl?: string;
  /** Test IdP port; default 8700 (0 = any free port, for tests). */
  idpPort?: number;
  /** Where the IdP keeps its keys; default stateDir('idp'). */
  idpKeysDir?: string;
  /** Reference service port when started here; default 8600 (0 = any free port, in-process only). */
  referencePort?: number;
  /**
   * Run the reference service inside this process (tests) instead of as a child process.
   * Default false: a separate process keeps Warren's own work (forging, RSA keys) out of the
   * service's event loop, so decision latency is the service's own.
   */
  referenceInProcess?: boolean;
}

type Teardown = () => Promise<void>;

async function runTeardowns(teardowns: Teardown[]): Promise<void> {
  for (const teardown of [...teardowns].reverse()) {
    await teardown().catch(() => undefined);
  }
}

/** Starts the IdP (and the reference service without `backendUrl`), then checks the backend answers. */
export async function prepareTarget(options: TargetOptions): Promise<RunTarget> {
  const teardowns: Teardown[] = [];
  try {
    const idp = await startIdp({
      port: options.idpPort ?? 8700,
      ...(options.idpKeysDir === undefined ? {} : { keysDir: options.idpKeysDir }),
    });
    teardowns.push(() => idp.stop());
    let backendUrl = options.backendUrl;
    let backendLabel = backendUrl ?? '';
    if (backendUrl === undefined && options.referenceInProcess !== true) {
      const port = options.referencePort ?? 8600;
      const child = await startReferenceProcess(port, idp);
      teardowns.push(child.stop);
      backendUrl = `http://127.0.0.1:${port}`;
      backendLabel = `reference-auth (child process ${child.pid}, ${backendUrl})`;
    }
    if (backendUrl === undefined) {
      const config = resolveConfig({
        flags: {
          listen: { host: '127.0.0.1', port: options.referencePort ?? 8600 },
          log: { level: 'silent' },
          jwt: { issuers: [idp.issuer], jwksUrl: idp.jwksUrl },
        } as never,
      });
      const service = await buildServer(config);
      teardowns.push(() => service.close());
      const address = await service.listen();
      backendUrl = address.replace('localhost', '127.0.0.1');
      backendLabel = `reference-auth (embedded, ${backendUrl})`;
    }
    await probeBackend(backendUrl);
    return { idp, backendUrl, backendLabel, stop: () => runTeardowns(teardowns) };
  } catch (error) {
    await runTeardowns(teardowns);
    throw error;
  }
}

/**
 * Starts `scripts/reference-auth.ts` on the embedded demo policy, trusting this run's IdP, and
 * waits until it answers /ready. Stopped by PID, SIGTERM then SIGKILL.
 */
async function startReferenceProcess(
  port: number,
  idp: RunningIdp,
): Promise<{ pid: number; stop: Teardown }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'scripts', 'reference-auth.ts'),
      '--listen',
      `127.0.0.1:${port}`,
      '--log-level',
      'silent',
    ],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
      // The service trusts exactly the IdP this run started (its port may differ from 8700).
      env: {
        ...process.env,
        WARREN_AUTH_JWT_ISSUERS: idp.issuer,
        WARREN_AUTH_JWT_JWKS_URL: idp.jwksUrl,
      },
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`reference-auth exited: ${stderr.trim()}`);
        const reply = await fetch(`http://127.0.0.1:${port}/ready`);
        return reply.status === 200 ? true : undefined;
      },
      {
        what: `reference-auth on 127.0.0.1:${port} to be ready`,
        deadlineMs: 20_000,
        intervalMs: 100,
      },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid ?? 0, stop };
}

/** Fails with a clear reason when nothing answers HTTP at the backend URL. */
async function probeBackend(backendUrl: string): Promise<void> {
  try {
    await fetch(new URL('/', backendUrl), { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    throw new WarrenError(
      ErrorCode.Setup,
      `backend ${backendUrl} does not answer HTTP (${(error as Error).cause ?? (error as Error).message}); start it or fix --backend`,
      { cause: error },
    );
  }
}
