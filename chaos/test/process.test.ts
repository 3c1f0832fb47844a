import { afterAll, describe, expect, it } from 'vitest';

import { ManagedProcess } from '../faults/process.js';
import { freePort } from '../resources.js';

const port = await freePort();
const server = new ManagedProcess('backend', {
  command: [
    process.execPath,
    '-e',
    `require('http').createServer((q, s) => s.end(String(process.pid))).listen(${port}, '127.0.0.1')`,
  ],
  ready: { http: `http://127.0.0.1:${port}/` },
  readyTimeoutMs: 5000,
});

afterAll(() => server.stop());

async function ask(timeoutMs = 300): Promise<string> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    return await response.text();
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
  }
}

describe('process faults on a child the drill controls', () => {
  it('starts and waits for readiness', async () => {
    await server.start();
    expect(server.state).toBe('running');
    expect(await ask()).toBe(String(server.pid));
  });

  it('pauses with SIGSTOP: the port stays open but nothing answers', async () => {
    server.pause();
    expect(server.state).toBe('paused');
    expect(await ask()).toBe('TimeoutError');
  });

  it('resumes with SIGCONT', async () => {
    server.resume();
    expect(await ask(2000)).toBe(String(server.pid));
  });

  it('kills: connections are refused', async () => {
    await server.kill();
    expect(server.state).toBe('exited');
    expect(await ask()).toBe('ECONNREFUSED');
  });

  it('restarts with a new pid and counts the restart', async () => {
    await server.restart();
    expect(server.restarts).toBe(1);
    expect(await ask()).toBe(String(server.pid));
  });

  it('refuses to pause a process that is not running, with a stable code', async () => {
    await server.kill();
    expect(() => server.pause()).toThrowError(
      expect.objectContaining({ code: 'WARREN_ERR_PROCESS_FAILED' }) as Error,
    );
  });

  it('keeps the child output for failure reports', async () => {
    const chatty = new ManagedProcess('chatty', {
      command: [
        process.execPath,
        '-e',
        "console.log('hello'); console.error('oops'); setInterval(() => {}, 1000)",
      ],
      ready: { logLine: 'oops' },
    });
    await chatty.start();
    expect(chatty.recentLines().sort()).toEqual(['hello', 'oops']);
    await chatty.stop();
    expect(chatty.state).toBe('exited');
  });
});
