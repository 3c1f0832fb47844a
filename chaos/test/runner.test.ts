import { describe, expect, it } from 'vitest';

import { exitCodeFor } from '../journal.js';
import { runDrill } from '../runner.js';

import { counter, drillOf, testTarget } from './support.js';

const target = testTarget();

describe('running a drill', () => {
  it('completes with exit 0 when the hypothesis holds before and after', async () => {
    const fault = counter();
    const rollback = counter();
    const journal = await runDrill(
      drillOf({
        method: [{ type: 'action', name: 'fault', action: { type: 'function', run: fault.run } }],
        rollbacks: [{ name: 'undo', action: { type: 'function', run: rollback.run } }],
      }),
      { target },
    );
    expect(journal).toMatchObject({ status: 'completed', deviated: false });
    expect(journal.steadyStates.before?.met).toBe(true);
    expect(journal.steadyStates.after?.met).toBe(true);
    expect([fault.calls, rollback.calls]).toEqual([1, 1]);
    expect(exitCodeFor(journal)).toBe(0);
  });

  it('reports a deviation (exit 1) when the steady state does not hold after the method', async () => {
    let broken = false;
    const journal = await runDrill(
      drillOf({
        steady: async () => (broken ? 'broken' : 'ok'),
        method: [
          {
            type: 'action',
            name: 'break it',
            action: { type: 'function', run: async () => (broken = true) },
          },
        ],
      }),
      { target },
    );
    expect(journal).toMatchObject({ status: 'completed', deviated: true });
    expect(journal.steadyStates.after?.met).toBe(false);
    expect(journal.deviations[0]).toMatch(/steady state after/);
    expect(exitCodeFor(journal)).toBe(1);
  });

  it('records a mid-method hypothesis check under "during"', async () => {
    const journal = await runDrill(drillOf({ method: [{ type: 'hypothesis', name: 'check' }] }), {
      target,
    });
    expect(journal.steadyStates.during).toHaveLength(1);
    expect(journal.steadyStates.during[0]?.met).toBe(true);
  });

  it('injects nothing when the steady state does not hold before (exit 2)', async () => {
    const fault = counter();
    const rollback = counter();
    const journal = await runDrill(
      drillOf({
        steady: async () => 'not ok',
        method: [{ type: 'action', name: 'fault', action: { type: 'function', run: fault.run } }],
        rollbacks: [{ name: 'undo', action: { type: 'function', run: rollback.run } }],
      }),
      { target },
    );
    expect(journal).toMatchObject({ status: 'failed', deviated: false });
    expect(fault.calls).toBe(0);
    expect(rollback.calls).toBe(1);
    expect(exitCodeFor(journal)).toBe(2);
  });

  it('runs every rollback after a failing step and stops the method there (exit 2)', async () => {
    const after = counter();
    const rollbacks = [counter(), counter()];
    const journal = await runDrill(
      drillOf({
        method: [
          {
            type: 'action',
            name: 'fails',
            action: {
              type: 'function',
              run: async () => {
                throw new Error('boom');
              },
            },
          },
          { type: 'action', name: 'never', action: { type: 'function', run: after.run } },
        ],
        rollbacks: rollbacks.map((item, index) => ({
          name: `undo ${index}`,
          action: { type: 'function' as const, run: item.run },
        })),
      }),
      { target },
    );
    expect(journal.status).toBe('failed');
    expect(journal.run[0]).toMatchObject({ status: 'failed', error: { message: 'boom' } });
    expect(after.calls).toBe(0);
    expect(rollbacks.map((item) => item.calls)).toEqual([1, 1]);
    expect(journal.rollbacks.map((step) => step.status)).toEqual(['succeeded', 'succeeded']);
    expect(exitCodeFor(journal)).toBe(2);
  });

  it('keeps running later rollbacks when one rollback fails', async () => {
    const second = counter();
    const journal = await runDrill(
      drillOf({
        rollbacks: [
          { name: 'bad', action: { type: 'command', argv: ['node', '-e', 'process.exit(3)'] } },
          { name: 'good', action: { type: 'function', run: second.run } },
        ],
      }),
      { target },
    );
    expect(journal.rollbacks.map((step) => step.status)).toEqual(['failed', 'succeeded']);
    expect(second.calls).toBe(1);
  });

  it('aborts at once when a stop condition misses, then rolls back (exit 1)', async () => {
    let intruderIn = false;
    const rollback = counter();
    const started = Date.now();
    const journal = await runDrill(
      drillOf({
        method: [
          {
            type: 'action',
            name: 'let the intruder in',
            action: { type: 'function', run: async () => (intruderIn = true) },
          },
          { type: 'pause', name: 'long pause', durationMs: 20_000 },
        ],
        rollbacks: [{ name: 'undo', action: { type: 'function', run: rollback.run } }],
        stopConditions: {
          intervalMs: 20,
          probes: [
            {
              name: 'denied principal stays out',
              provider: { type: 'function', run: async () => (intruderIn ? 'in' : 'refused') },
              tolerance: { type: 'exact', value: 'refused' },
            },
          ],
        },
      }),
      { target },
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(journal.status).toBe('aborted');
    expect(journal.deviated).toBe(true);
    expect(journal.stopCondition?.probe).toBe('denied principal stays out');
    expect(journal.run[1]?.status).toBe('interrupted');
    expect(journal.steadyStates.after).toBeNull();
    expect(rollback.calls).toBe(1);
    expect(exitCodeFor(journal)).toBe(1);
  });

  it('ends as interrupted when its signal aborts, and still rolls back', async () => {
    const interrupt = new AbortController();
    const rollback = counter();
    const running = runDrill(
      drillOf({
        method: [
          {
            type: 'action',
            name: 'interrupt',
            action: { type: 'function', run: async () => interrupt.abort('SIGINT') },
          },
          { type: 'pause', name: 'long pause', durationMs: 20_000 },
        ],
        rollbacks: [{ name: 'undo', action: { type: 'function', run: rollback.run } }],
      }),
      { target, signal: interrupt.signal },
    );
    const journal = await running;
    expect(journal.status).toBe('interrupted');
    expect(journal.interruption?.signal).toBe('SIGINT');
    expect(rollback.calls).toBe(1);
    expect(exitCodeFor(journal)).toBe(2);
  });

  it('measures time to effect from an earlier step and judges it against the SLO', async () => {
    let flippedAt = 0;
    const journal = await runDrill(
      drillOf({
        method: [
          {
            type: 'action',
            name: 'flip',
            action: { type: 'function', run: async () => (flippedAt = Date.now()) },
          },
          {
            type: 'measure',
            name: 'effect',
            since: 'flip',
            provider: { type: 'function', run: async () => Date.now() - flippedAt >= 60 },
            until: { type: 'exact', value: true },
            deadlineMs: 2000,
            intervalMs: 10,
            sloMs: 30,
          },
        ],
      }),
      { target },
    );
    const figure = journal.measurements['effect'];
    expect(figure?.reached).toBe(true);
    expect(figure?.elapsedMs).toBeGreaterThanOrEqual(55);
    expect(journal.deviated).toBe(true);
    expect(journal.deviations[0]).toMatch(/over the SLO of 30 ms/);
  });

  it('performs no fault, probe or rollback in a dry run', async () => {
    const calls = [counter(), counter(), counter()];
    const journal = await runDrill(
      drillOf({
        steady: calls[0]?.run,
        method: [
          { type: 'action', name: 'fault', action: { type: 'function', run: calls[1]!.run } },
        ],
        rollbacks: [{ name: 'undo', action: { type: 'function', run: calls[2]!.run } }],
      }),
      { target, dryRun: true },
    );
    expect(calls.map((item) => item.calls)).toEqual([0, 0, 0]);
    expect(journal.dryRun).toBe(true);
    expect(journal.run.every((step) => step.status === 'skipped')).toBe(true);
    expect(journal.rollbacks.map((step) => step.name)).toEqual(['undo']);
  });

  it.each([false, undefined])(
    'refuses a target not marked non-production (%s), before anything runs',
    async (mark) => {
      const fault = counter();
      const unsafe = testTarget({ kind: 'staging', name: 'prod?', nonProduction: mark as boolean });
      const drill = drillOf({
        method: [{ type: 'action', name: 'fault', action: { type: 'function', run: fault.run } }],
      });
      await expect(runDrill(drill, { target: unsafe })).rejects.toMatchObject({
        code: 'WARREN_ERR_UNSAFE_TARGET',
      });
      await expect(runDrill(drill, { target: unsafe, dryRun: true })).rejects.toMatchObject({
        code: 'WARREN_ERR_UNSAFE_TARGET',
      });
      expect(fault.calls).toBe(0);
    },
  );

  it('fails a dry run whose target lacks a required capability, still injecting nothing', async () => {
    const fault = counter();
    const journal = await runDrill(
      drillOf({
        requires: ['broker'],
        method: [{ type: 'action', name: 'fault', action: { type: 'function', run: fault.run } }],
      }),
      { target, dryRun: true },
    );
    expect(journal).toMatchObject({
      status: 'failed',
      error: { code: 'WARREN_ERR_MISSING_DEPENDENCY' },
    });
    expect(fault.calls).toBe(0);
  });

  it('names the missing part when the target lacks a required capability', async () => {
    const journal = await runDrill(drillOf({ requires: ['broker'] }), { target });
    expect(journal.status).toBe('failed');
    expect(journal.error?.code).toBe('WARREN_ERR_MISSING_DEPENDENCY');
    expect(journal.error?.message).toMatch(/broker: /);
  });
});
