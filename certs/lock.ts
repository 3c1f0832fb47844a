import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, WarrenError } from '../lib/errors.js';

/** How long to wait for another process's change to the same CA folder, in milliseconds. */
export const lockWaitMs = 30_000;
/** A lock folder without an owner file older than this is left over from a crash, in ms. */
const ownerlessStaleMs = 5_000;
const pollMs = 25;

/**
 * Runs `operation` while holding `<dir>/.lock`, so processes sharing a CA folder (parallel test
 * files, a CLI beside a test run) never interleave writes: mkdir is atomic on POSIX file
 * systems. A lock whose owner process is gone is taken over.
 */
export async function withDirLock<T>(dir: string, operation: () => Promise<T>): Promise<T> {
  const lock = join(dir, '.lock');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const deadline = Date.now() + lockWaitMs;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isStale(lock)) {
      await rm(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new WarrenError(
        ErrorCode.CaState,
        `the CA folder ${dir} stayed locked for ${lockWaitMs} ms by another process ` +
          `(remove ${lock} if no Warren process is running)`,
      );
    }
    await sleep(pollMs);
  }
  try {
    await writeFile(join(lock, 'owner'), String(process.pid));
    return await operation();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

async function isStale(lock: string): Promise<boolean> {
  try {
    const pid = Number(await readFile(join(lock, 'owner'), 'utf8'));
    return Number.isInteger(pid) && pid > 0 && !isAlive(pid);
  } catch {
    // No owner file yet: either its owner is between mkdir and writeFile, or it crashed there.
    try {
      return Date.now() - (await stat(lock)).mtimeMs > ownerlessStaleMs;
    } catch {
      return false;
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
