import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { performance } from 'node:perf_hooks';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FaultProxy } from '../faults/proxy.js';

let backend: Server;
let backendPort = 0;
let proxy: FaultProxy;

/** One GET through the proxy: status and body, or the error that ended it. */
async function get(timeoutMs = 1000): Promise<{ status?: number; body?: string; error?: string }> {
  try {
    const response = await fetch(`${proxy.url}/auth/user?username=alice`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { error: cause?.code ?? (error as Error).name };
  }
}

beforeAll(async () => {
  backend = createServer((req, res) => res.end(`allow ${req.url}`));
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  backendPort = (backend.address() as { port: number }).port;
  // Jitter draws fixed at 0.5 (zero offset) so the added latency is exact.
  proxy = await FaultProxy.start({
    mode: 'http',
    upstream: { host: '127.0.0.1', port: backendPort },
    random: () => 0.5,
  });
});

afterAll(async () => {
  await proxy.close();
  backend.close();
});

describe('the HTTP fault proxy', () => {
  it('forwards requests untouched without a fault', async () => {
    proxy.clear();
    expect(await get()).toEqual({ status: 200, body: 'allow /auth/user?username=alice' });
  });

  it('adds latency to each request', async () => {
    proxy.setFault({ type: 'latency', latencyMs: 150, jitterMs: 100 });
    const started = performance.now();
    const answer = await get();
    expect(answer.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });

  it('hangs: the client gives up first', async () => {
    proxy.setFault({ type: 'hang' });
    expect(await get(300)).toEqual({ error: 'TimeoutError' });
  });

  it('resets the connection', async () => {
    proxy.setFault({ type: 'reset' });
    const answer = await get();
    expect(answer.status).toBeUndefined();
    expect(answer.error).toMatch(/ECONNRESET|UND_ERR_SOCKET/);
  });

  it.each([500, 503])('answers %i instead of the backend', async (status) => {
    proxy.setFault({ type: 'status', status });
    expect(await get()).toEqual({ status, body: `chaos: injected ${status}` });
  });

  it('answers 200 with a garbage body', async () => {
    proxy.setFault({ type: 'garbage', bytes: 32 });
    const answer = await get();
    expect(answer.status).toBe(200);
    expect(answer.body).not.toMatch(/^allow/);
  });

  it('hits only the configured share of requests', async () => {
    proxy.setFault({ type: 'status', status: 503 }, 0.4);
    expect((await get()).status).toBe(200);
    proxy.setFault({ type: 'status', status: 503 }, 0.6);
    expect((await get()).status).toBe(503);
  });

  it('returns to plain forwarding when cleared, and counts what it did', async () => {
    proxy.clear();
    expect((await get()).status).toBe(200);
    const stats = proxy.stats();
    expect(stats.fault).toBe('none');
    expect(stats.requests).toBeGreaterThanOrEqual(9);
    expect(stats.faulted).toBeGreaterThanOrEqual(6);
  });

  it('answers 502 when the backend is gone', async () => {
    const lonely = await FaultProxy.start({
      mode: 'http',
      upstream: { host: '127.0.0.1', port: 1 },
    });
    const response = await fetch(`${lonely.url}/`);
    expect(response.status).toBe(502);
    await response.text();
    await lonely.close();
  });
});

describe('the TCP fault proxy', () => {
  let echo: TcpServer;
  let tcp: FaultProxy;

  beforeAll(async () => {
    echo = createTcpServer((socket) => socket.pipe(socket));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    const port = (echo.address() as { port: number }).port;
    tcp = await FaultProxy.start({
      mode: 'tcp',
      upstream: { host: '127.0.0.1', port },
      random: () => 0.5,
    });
  });

  afterAll(async () => {
    await tcp.close();
    echo.close();
  });

  /** Sends "ping", resolves with what came back or how the connection ended. */
  function ping(timeoutMs = 500): Promise<string> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: tcp.port });
      socket.setTimeout(timeoutMs, () => {
        socket.destroy();
        resolve('timeout');
      });
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString());
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      socket.write('ping');
    });
  }

  it.each([
    ['forwards bytes', { type: 'none' }, 'ping'],
    ['resets new connections', { type: 'reset' }, 'ECONNRESET'],
    ['hangs new connections', { type: 'hang' }, 'timeout'],
    ['delays bytes', { type: 'latency', latencyMs: 50 }, 'ping'],
  ] as const)('%s', async (_title, fault, expected) => {
    tcp.setFault(fault);
    expect(await ping()).toBe(expected);
  });
});
