import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { IdpControl } from '../identity.js';
import { idpControl } from '../idp.js';
import { loadCatalogue, loadProfile } from '../load.js';
import type { Profile } from '../profile.js';
import type { ScenarioResult } from '../results.js';
import { runConformance, selectScenarios } from '../runner.js';
import { prepareTarget } from '../setup.js';
import type { RunTarget } from '../setup.js';
import { startBrokenBackend } from './fixtures/broken-backends.js';
import type { DefectName } from './fixtures/broken-backends.js';

/** Each defect and the scenarios whose ids name it: all of them must fail. */
const DEFECT_TABLE: Array<[DefectName, string[]]> = [
  [
    'accepts-expired-tokens',
    ['tv.exp.expired-hour', 'tv.exp.just-outside-skew', 'exp.relogin-with-expired-token'],
  ],
  [
    'allow-newline',
    ['tv.baseline.producer-login', 'az.producer.exchange-write', 'cert.spiffe.producer-login'],
  ],
  [
    'allows-every-vhost',
    ['az.vhost.other-tenant', 'az.vhost.default-slash', 'cert.spiffe.other-tenant-vhost'],
  ],
  ['post-allows-every-vhost', ['az.vhost.other-tenant', 'proto.parity.get-post']],
  ['allows-every-topic', ['az.topic.key-other-tenant', 'az.consumer.bind-everything']],
  ['deny-with-reason', ['tv.exp.expired-hour', 'forge.alg-none.none', 'az.vhost.other-tenant']],
  ['deny-as-403', ['tv.exp.expired-hour', 'az.vhost.other-tenant']],
  ['administrator-for-all', ['tv.baseline.producer-login', 'az.tags.claim-escalation']],
  [
    'first-duplicate-wins',
    ['proto.vhost.duplicate-vhost-allowed-first', 'proto.resource.duplicate-permission'],
  ],
  ['unknown-paths-allow', ['proto.path.unknown', 'proto.path.root']],
];

/** Controls that a single defect elsewhere must not break (they keep the run honest). */
const CONTROLS = ['az.consumer.queue-read'];

let target: RunTarget;
let idp: IdpControl;
let profile: Profile;
let keysDir: string;
const catalogue = loadCatalogue();

beforeAll(async () => {
  keysDir = mkdtempSync(join(tmpdir(), 'warren-idp-'));
  target = await prepareTarget({
    idpPort: 0,
    idpKeysDir: keysDir,
    referencePort: 0,
    referenceInProcess: true,
  });
  profile = loadProfile();
  idp = await idpControl(target.idp, { clockSkewSeconds: profile.token.clockSkewSeconds });
});

afterAll(async () => {
  await target?.stop();
  rmSync(keysDir, { recursive: true, force: true });
});

async function runAgainst(url: string, ids: string[]): Promise<ScenarioResult[]> {
  return runConformance({
    scenarios: selectScenarios(catalogue, ids),
    profile,
    backendUrl: url,
    idp,
    modes: ['protocol'],
  });
}

const failedIds = (results: ScenarioResult[]): Set<string> =>
  new Set(results.filter((r) => r.status === 'failed').map((r) => r.id));

describe('deliberately broken backends', () => {
  it.each(DEFECT_TABLE)(
    'a backend that %s fails the scenarios naming that defect',
    async (defect, ids) => {
      const backend = await startBrokenBackend(defect, target.backendUrl, target.idp);
      try {
        const results = await runAgainst(backend.url, [...ids, ...CONTROLS]);
        const failed = failedIds(results);
        expect([...failed].filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
        if (defect !== 'allow-newline' && defect !== 'administrator-for-all') {
          expect(failed.has('az.consumer.queue-read')).toBe(false);
        }
      } finally {
        await backend.stop();
      }
    },
  );

  it('a correct backend behind a transparent proxy passes authorization, protocol and certificate scenarios', async () => {
    const backend = await startBrokenBackend('transparent', target.backendUrl, target.idp);
    try {
      const results = await runAgainst(backend.url, ['authorization', 'protocol', 'certificate']);
      const failures = results
        .filter((r) => r.status === 'failed')
        .map((r) => `${r.id} ${r.method}: ${r.reason}`);
      expect(failures).toEqual([]);
      expect(results.filter((r) => r.status === 'passed').length).toBeGreaterThan(200);
    } finally {
      await backend.stop();
    }
  });
});
