/**
 * The built-in kill-auth drill on the real local stack: test IdP, reference-auth child,
 * fault proxy and a RabbitMQ 3.10 broker (instance chaos-3-10). Slow (a broker boot), so one
 * drill only; the others are run by `npm run chaos -- --all`.
 */
import { describe, expect, it } from 'vitest';

import { resolveDrillFile } from '../catalog.js';
import { exitCodeFor } from '../journal.js';
import { loadDrill } from '../load.js';
import { runDrill } from '../runner.js';
import { localTarget } from '../targets/local.js';

describe('kill-auth on the local stack', () => {
  it('fails closed while the service is down, recovers, and loses no confirmed message', async () => {
    const journal = await runDrill(await loadDrill(resolveDrillFile('kill-auth')), {
      target: localTarget(),
    });
    expect(journal.error).toBeUndefined();
    expect(journal).toMatchObject({ status: 'completed', deviated: false });
    expect(journal.measurements['time until new logins are refused']?.reached).toBe(true);
    expect(journal.measurements['time until logins recover']?.reached).toBe(true);
    const ledger = journal.run.find((step) => step.name === 'no confirmed message is lost');
    expect(ledger?.output).toMatchObject({ lost: 0, confirmed: 25 });
    expect(journal.rollbacks.map((step) => step.status)).toEqual(['succeeded']);
    expect(journal.setup.at(-1)).toMatchObject({ phase: 'teardown', status: 'succeeded' });
    expect(exitCodeFor(journal)).toBe(0);
  }, 240_000);
});
