/**
 * Time for the scheduler, injectable so tests run hours of schedule in milliseconds.
 * All values are milliseconds on one monotonic timeline.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Clock {
  /** Monotonic milliseconds (fractional). */
  now(): number;
  /** Resolves at `atMs` on this clock (the real clock: up to 0.5 ms early or a timer tick late). */
  sleepUntil(atMs: number): Promise<void>;
}

/**
 * The real clock: performance.now(). Timers fire in whole milliseconds, so a wake-up due
 * within half a millisecond starts now rather than spinning the CPU (spinning would inflate the
 * generator's own CPU figure); the scheduler then times the iteration from the earlier of
 * intended and actual start, so an early start never flatters a latency.
 */
export const realClock: Clock = {
  now: () => performance.now(),
  async sleepUntil(atMs: number): Promise<void> {
    for (;;) {
      const remainingMs = atMs - performance.now();
      if (remainingMs <= 0.5) return;
      await sleep(Math.max(1, Math.floor(remainingMs)));
    }
  },
};

/**
 * A simulated clock for tests: time moves only when every pending task is asleep, and then
 * jumps to the earliest wake-up. Call `run(task)` to drive a task to completion.
 */
export class VirtualClock implements Clock {
  private current = 0;
  private readonly sleepers: Array<{ atMs: number; seq: number; wake: () => void }> = [];
  private seq = 0;

  now(): number {
    return this.current;
  }

  sleepUntil(atMs: number): Promise<void> {
    return new Promise((wake) => {
      this.sleepers.push({ atMs: Math.max(atMs, this.current), seq: this.seq++, wake });
    });
  }

  /** Runs `task`, advancing time whenever all work is waiting on the clock. */
  async run<T>(task: Promise<T>): Promise<T> {
    let done = false;
    const result = task.finally(() => {
      done = true;
    });
    while (!done) {
      // Let every ready promise chain settle before deciding that time must move.
      await new Promise((resolve) => setImmediate(resolve));
      if (done) break;
      this.sleepers.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
      const next = this.sleepers.shift();
      if (!next) continue;
      this.current = next.atMs;
      next.wake();
    }
    return result;
  }
}
