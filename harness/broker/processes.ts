import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { ErrorCode, WarrenError } from '../../lib/errors.js';

/** Result of a finished child process. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runProcess}. */
export interface RunOptions {
  /** Environment of the child; default: inherit. */
  env?: NodeJS.ProcessEnv;
  /** Kill the child (SIGKILL) after this long; default 120000 ms. */
  timeoutMs?: number;
  /** Called with each output line, for progress of long installs. */
  onLine?: (line: string) => void;
}

const outputKeptChars = 64_000;

/** Runs a command to completion and collects its output (the tail of it when it is long). */
export function runProcess(command: string, args: string[], options: RunOptions = {}) {
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const collect = (chunk: Buffer, into: 'out' | 'err') => {
      const text = chunk.toString('utf8');
      if (options.onLine) for (const line of text.split('\n')) if (line) options.onLine(line);
      if (into === 'out') stdout = (stdout + text).slice(-outputKeptChars);
      else stderr = (stderr + text).slice(-outputKeptChars);
    };
    child.stdout.on('data', (chunk: Buffer) => collect(chunk, 'out'));
    child.stderr.on('data', (chunk: Buffer) => collect(chunk, 'err'));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(
        new WarrenError(ErrorCode.MissingDependency, `cannot run ${command}: ${error.message}`, {
          cause: error,
        }),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like {@link runProcess}, but a non-zero exit becomes WARREN_ERR_PROCESS_FAILED with the output tail. */
export async function runChecked(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await runProcess(command, args, options);
  if (result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-8).join('\n');
    throw new WarrenError(
      ErrorCode.ProcessFailed,
      `${command} ${args.slice(0, 3).join(' ')} … exited with ${result.code}:\n${tail}`,
    );
  }
  return result;
}

/**
 * Starts a long-lived process in its own process group, detached from ours, with stdout and
 * stderr appended to `logPath`. Returns its PID; the caller records it and stops it by PID.
 */
export function spawnDetached(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  logPath: string,
): number {
  const fd = openSync(logPath, 'a');
  try {
    const child = spawn(command, args, { env, detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) {
      throw new WarrenError(ErrorCode.ProcessFailed, `could not start ${command}`);
    }
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * True when `pid` runs and its command line contains `marker`. The marker guards against PID
 * reuse: a recorded PID that now belongs to an unrelated process counts as gone.
 */
export function isProcessAlive(pid: number, marker: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    if (cmdline.trim() === '') return false; // a zombie: exited, waiting to be reaped
    return cmdline.includes(marker);
  } catch {
    return false;
  }
}

/** Sends `signal` to `pid` if it is still ours (see {@link isProcessAlive}). */
export function signalProcess(pid: number, marker: string, signal: NodeJS.Signals): void {
  if (!isProcessAlive(pid, marker)) return;
  try {
    process.kill(pid, signal);
  } catch {
    // It exited between the check and the signal: the goal is reached.
  }
}

/** Waits until none of `processes` is alive; returns false when the deadline passed first. */
export async function waitForExit(
  processes: ReadonlyArray<{ pid: number; marker: string }>,
  deadlineMs: number,
): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (processes.some((p) => isProcessAlive(p.pid, p.marker))) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}
