/**
 * Process faults on a child the drill controls: start, kill (SIGKILL), pause (SIGSTOP), resume
 * (SIGCONT), restart. The child runs in its own process group so wrappers such as `npx tsx`
 * are signalled together with the real server underneath, and so a Ctrl-C in the terminal
 * reaches Warren (which then rolls back) rather than the child directly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { ErrorCode, WarrenError } from '../../lib/errors.js';
import { waitFor } from '../../lib/wait.js';

/** How readiness is judged after a start. */
export type ReadyCheck =
  { tcp: { host: string; port: number } } | { http: string } | { logLine: string };

export interface ManagedProcessOptions {
  /** Program and arguments, no shell. */
  command: readonly string[];
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  ready?: ReadyCheck;
  /** Deadline for readiness after each start; default 15000 ms. */
  readyTimeoutMs?: number;
  /** Output lines kept for failure reports; default 200. */
  keepLines?: number;
}

export type ProcessState = 'stopped' | 'running' | 'paused' | 'exited';

/** A child process that a drill starts, faults and always stops. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private paused = false;
  private lines: string[] = [];
  private lineWaiters: ((line: string) => void)[] = [];
  /** How many times the child was started after the first time. */
  restarts = 0;
  private starts = 0;

  constructor(
    readonly name: string,
    private readonly options: ManagedProcessOptions,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get state(): ProcessState {
    if (this.child === undefined) return 'stopped';
    if (this.child.exitCode !== null || this.child.signalCode !== null) return 'exited';
    return this.paused ? 'paused' : 'running';
  }

  /** The last `count` lines the child wrote to stdout or stderr. */
  recentLines(count = 20): string[] {
    return this.lines.slice(-count);
  }

  /** Starts the child and waits until it is ready; fails with WARREN_ERR_PROCESS_FAILED. */
  async start(): Promise<void> {
    if (this.state === 'running' || this.state === 'paused') return;
    const [program, ...args] = this.options.command;
    const child = spawn(program ?? '', args, {
      cwd: this.options.cwd,
      env: { ...process.env, ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    this.paused = false;
    if (this.starts++ > 0) this.restarts += 1;
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    this.collectLines(child);
    await this.awaitReady(child);
  }

  /** SIGKILL to the whole group, then waits for the exit. No-op when not running. */
  async kill(): Promise<void> {
    if (!this.isAlive()) return;
    this.signalGroup('SIGKILL');
    await this.exited;
    this.paused = false;
  }

  /** SIGSTOP: the process keeps its sockets open but answers nothing. */
  pause(): void {
    this.requireAlive('pause');
    this.signalGroup('SIGSTOP');
    this.paused = true;
  }

  /** SIGCONT after a pause. */
  resume(): void {
    if (!this.isAlive()) return;
    this.signalGroup('SIGCONT');
    this.paused = false;
  }

  /** Kill then start again; the caller's readiness check applies. */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /**
   * Stops for good: SIGCONT first (a stopped process cannot act on SIGTERM), SIGTERM, then
   * SIGKILL once `graceMs` (default 3000) passes.
   */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.isAlive()) return;
    this.resume();
    this.signalGroup('SIGTERM');
    const exitedInTime = await Promise.race([
      this.exited.then(() => true),
      sleep(graceMs).then(() => false),
    ]);
    if (!exitedInTime) await this.kill();
  }

  private isAlive(): boolean {
    return this.state === 'running' || this.state === 'paused';
  }

  private requireAlive(what: string): void {
    if (!this.isAlive()) {
      throw new WarrenError(
        ErrorCode.ProcessFailed,
        `cannot ${what} process "${this.name}": it is ${this.state}`,
      );
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group may already be gone (exited between the check and the signal).
      this.child?.kill(signal);
    }
  }

  private collectLines(child: ChildProcess): void {
    const keep = this.options.keepLines ?? 200;
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const parts = (pending + chunk).split('\n');
        pending = parts.pop() ?? '';
        for (const line of parts) this.pushLine(line, keep);
      });
    }
  }

  private pushLine(line: string, keep: number): void {
    this.lines.push(line);
    if (this.lines.length > keep) this.lines.splice(0, this.lines.length - keep);
    for (const waiter of this.lineWaiters) waiter(line);
  }

  private async awaitReady(child: ChildProcess): Promise<void> {
    const ready = this.options.ready;
    const deadlineMs = this.options.readyTimeoutMs ?? 15_000;
    const spawnError = new Promise<never>((_resolve, reject) => {
      child.once('error', (error) => reject(this.failure(`could not start: ${error.message}`)));
      child.once('exit', (code, signal) =>
        reject(this.failure(`exited before ready (code ${code}, signal ${signal})`)),
      );
    });
    spawnError.catch(() => undefined);
    if (ready === undefined) {
      await Promise.race([sleep(50), spawnError]);
      return;
    }
    await Promise.race([this.readyProbe(ready, deadlineMs), spawnError]);
  }

  private readyProbe(ready: ReadyCheck, deadlineMs: number): Promise<unknown> {
    const what = `process "${this.name}" to become ready`;
    if ('tcp' in ready) {
      return waitFor(() => tcpOpen(ready.tcp.host, ready.tcp.port), {
        what,
        deadlineMs,
        intervalMs: 50,
      });
    }
    if ('http' in ready) {
      return waitFor(() => httpAnswers(ready.http), { what, deadlineMs, intervalMs: 50 });
    }
    const pattern = new RegExp(ready.logLine);
    if (this.lines.some((line) => pattern.test(line))) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new WarrenError(
              ErrorCode.Timeout,
              `gave up waiting for ${what} after ${deadlineMs} ms`,
            ),
          ),
        deadlineMs,
      );
      this.lineWaiters.push((line) => {
        if (!pattern.test(line)) return;
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private failure(message: string): WarrenError {
    const tail = this.recentLines(5).join(' | ');
    return new WarrenError(
      ErrorCode.ProcessFailed,
      `process "${this.name}" ${message}${tail ? `; last output: ${tail}` : ''}`,
    );
  }
}

/** True when a TCP connection to host:port opens; `undefined` otherwise (for waitFor). */
export function tcpOpen(host: string, port: number, timeoutMs = 1000): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open ? true : undefined);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function httpAnswers(url: string): Promise<true | undefined> {
  const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await response.body?.cancel();
  return true;
}
