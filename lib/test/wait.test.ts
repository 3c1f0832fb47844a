import { describe, expect, it } from 'vitest';

import { ErrorCode, isWarrenError } from '../errors.js';
import { waitFor } from '../wait.js';

describe('waitFor', () => {
  it('returns the first defined value the probe yields', async () => {
    let calls = 0;
    const value = await waitFor(async () => (++calls >= 3 ? 'ready' : undefined), {
      what: 'a counter',
      deadlineMs: 1_000,
      intervalMs: 1,
    });
    expect(value).toBe('ready');
    expect(calls).toBe(3);
  });

  it('fails with WARREN_ERR_TIMEOUT naming what it waited for, keeping the last probe error', async () => {
    const failure = await waitFor(
      async () => {
        throw new Error('refused');
      },
      { what: 'the moon', deadlineMs: 20, intervalMs: 5 },
    ).catch((error: unknown) => error);

    expect(isWarrenError(failure, ErrorCode.Timeout)).toBe(true);
    expect((failure as Error).message).toContain('the moon');
    expect(((failure as Error).cause as Error).message).toBe('refused');
  });
});
