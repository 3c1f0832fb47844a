import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type RunningIdp } from '../../harness/idp/index.js';
import { createForgeKit, forgeCatalogue, type ForgeKit } from '../../harness/idp/forge.js';
import { ManualClock, startService, type TestService } from './support.js';

// The harness IdP's catalogue of forged tokens (alg none, key confusion, psychic signatures,
// kid injection, embedded and remote keys, tampering, validity edges...) against the real
// verifier of the service: every attack denied, every control allowed.
const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
let keysDir: string;
let idp: RunningIdp;
let kit: ForgeKit;
let service: TestService;

beforeAll(async () => {
  keysDir = await mkdtemp(join(tmpdir(), 'warren-forge-keys-'));
  idp = await startIdp({ port: 0, keysDir, nowMs: () => clock.ms });
  kit = await createForgeKit({ idp, nowSeconds: clock.seconds, clockSkewSeconds: 30 });
  service = await startService({ idp, clock });
});

afterAll(async () => {
  await service?.auth.close();
  await idp?.stop();
  await rm(keysDir, { recursive: true, force: true });
});

describe('the forged-token catalogue', () => {
  it.each(forgeCatalogue.map((c) => [c.id, c] as const))('%s', async (_id, recipe) => {
    const { token, username } = recipe.build(kit);
    const body = await service.post('user', { username, password: token });
    if (recipe.expected === 'reject') {
      expect(body, recipe.title).toBe('deny');
    } else {
      expect(body, recipe.title).toMatch(/^allow/);
    }
  });
});
