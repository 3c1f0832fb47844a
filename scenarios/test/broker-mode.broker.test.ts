import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { listBrokers } from '../../harness/broker/index.js';
import { stagingBrokerMode, startBrokerMode } from '../broker/run.js';
import type { BrokerMode } from '../broker/run.js';
import { idpControl } from '../idp.js';
import { loadCatalogue, loadProfile } from '../load.js';
import type { ScenarioResult } from '../results.js';
import { runConformance, selectScenarios } from '../runner.js';
import { prepareTarget } from '../setup.js';
import type { RunTarget } from '../setup.js';
import type { IdpControl } from '../identity.js';
import { startBrokenBackend } from './fixtures/broken-backends.js';
import type { BrokenBackend } from './fixtures/broken-backends.js';

// One real broker (4.0 boots fastest) behind a switchable proxy in front of the reference service.
const profile = loadProfile();
const catalogue = loadCatalogue();
let keysDir: string;
let target: RunTarget;
let idp: IdpControl;
let proxy: BrokenBackend;
let brokers: BrokerMode;

beforeAll(async () => {
  keysDir = mkdtempSync(join(tmpdir(), 'warren-idp-'));
  target = await prepareTarget({
    idpPort: 0,
    idpKeysDir: keysDir,
    referencePort: 0,
    referenceInProcess: true,
  });
  idp = await idpControl(target.idp, { clockSkewSeconds: profile.token.clockSkewSeconds });
  proxy = await startBrokenBackend('transparent', target.backendUrl, target.idp);
  brokers = await startBrokerMode({
    backendUrl: proxy.url,
    profile,
    idp,
    versions: ['4.0'],
    spy: true,
    instancePrefix: 'conformance-test',
  });
});

afterAll(async () => {
  await brokers?.stop();
  await proxy?.stop();
  await target?.stop();
  rmSync(keysDir, { recursive: true, force: true });
});

function run(ids: string[], modes: Array<'broker' | 'spy'>): Promise<ScenarioResult[]> {
  return runConformance({
    scenarios: selectScenarios(catalogue, ids),
    profile,
    backendUrl: proxy.url,
    idp,
    modes,
    rabbitmq: ['4.0'],
    broker: brokers.run,
  });
}

describe('broker mode on RabbitMQ 4.0', () => {
  it('matches the broker outcomes of the reference service: ok, 530, 403 on a channel, failed TLS', async () => {
    const results = await run(
      [
        'az.broker.producer-publishes',
        'az.broker.producer-other-vhost',
        'az.broker.producer-key-outside-prefix',
        'tv.broker.expired-token',
        'cert.tls.no-certificate',
        'cert.tls.valid-external',
      ],
      ['broker'],
    );
    expect(results.map((r) => `${r.id} ${r.status} ${r.reason ?? ''}`.trim()).sort()).toEqual([
      'az.broker.producer-key-outside-prefix passed',
      'az.broker.producer-other-vhost passed',
      'az.broker.producer-publishes passed',
      'cert.tls.no-certificate passed',
      'cert.tls.valid-external passed',
      'tv.broker.expired-token passed',
    ]);
    expect(results.every((r) => r.rabbitmq === '4.0' && r.mode === 'broker')).toBe(true);
  });

  it('fails the vhost scenario when the backend allows every vhost', async () => {
    proxy.setDefect('allows-every-vhost');
    try {
      const [result] = await run(['az.broker.producer-other-vhost'], ['broker']);
      expect(result?.status).toBe('failed');
      expect(result?.observed).toContain('ok');
    } finally {
      proxy.setDefect('transparent');
    }
  });

  it('reports in spy mode the exact calls each operation made, passwords redacted', async () => {
    const [result] = await run(['az.broker.producer-publishes'], ['spy']);
    expect(result?.status).toBe('passed');
    expect(result?.observed).toBe(
      'connect ok: user, vhost → declare ok: resource → publish ok: resource, topic',
    );
    const login = result?.transcript[0]?.calls?.[0] ?? '';
    expect(login).toMatch(
      /^POST \/auth\/user username=acme-producer-\w+&password=<redacted> -> 200 allow$/,
    );
  });
});

describe('broker mode against a staging broker given by URL', () => {
  it('runs the PLAIN scenarios and skips certificate, probe and spy scenarios with the reason', async () => {
    const listing = listBrokers().find((entry) => entry.instance === 'conformance-test-4-0');
    if (listing === undefined) throw new Error('the test broker is not listed');
    const staging = await stagingBrokerMode(
      { backendUrl: proxy.url, profile, idp, versions: ['4.0'] },
      {
        amqpUrl: listing.endpoints.amqpUrl,
        managementUrl: listing.endpoints.managementUrl,
        version: '4.0',
      },
    );
    const results = await runConformance({
      scenarios: selectScenarios(catalogue, [
        'az.broker.producer-other-vhost',
        'cert.tls.valid-external',
        'tv.failclosed.token-backend-down',
      ]),
      profile,
      backendUrl: proxy.url,
      idp,
      modes: ['broker', 'spy'],
      rabbitmq: ['4.0'],
      broker: staging.run,
    });
    const byKey = Object.fromEntries(results.map((r) => [`${r.id} ${r.mode}`, r.status]));
    expect(byKey).toEqual({
      'az.broker.producer-other-vhost broker': 'passed',
      'az.broker.producer-other-vhost spy': 'skipped',
      'cert.tls.valid-external broker': 'skipped',
      'cert.tls.valid-external spy': 'skipped',
      'tv.failclosed.token-backend-down broker': 'skipped',
      'tv.failclosed.token-backend-down spy': 'skipped',
    });
  });
});
