import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openCa, type CertificateAuthority } from '../../certs/index.js';
import {
  builtinScenario,
  builtinScenarios,
  clientCertificateScenarios,
  harnessAmqpsUrl,
  prepareBuiltinScenario,
  withClientCertificate,
} from '../builtin/index.js';
import type { Scenario } from '../engine/scenario.js';
import { executorDurationMs } from '../engine/executors.js';
import { applyOverrides } from '../engine/overrides.js';

describe('built-in scenarios', () => {
  it.each(Object.keys(builtinScenarios))('%s validates and declares thresholds', (name) => {
    const scenario = builtinScenario(name);
    expect(scenario.name).toBe(name);
    expect(scenario.thresholds.length).toBeGreaterThan(0);
  });

  it('scales a ramping scenario to the requested peak rate and duration', () => {
    const scenario = applyOverrides(builtinScenario('deploy-storm'), {
      rate: 100,
      durationMs: 15_000,
      targetUrl: 'http://127.0.0.1:9999',
    });
    if (scenario.executor.executor !== 'ramping-arrival-rate') throw new Error('not ramping');
    expect(Math.max(...scenario.executor.stages.map((s) => s.target))).toBe(100);
    expect(executorDurationMs(scenario.executor)).toBeCloseTo(15_000, -2);
    expect(scenario.target.url).toBe('http://127.0.0.1:9999');
  });

  it('names the choices when the scenario is unknown', () => {
    expect(() => builtinScenario('storm')).toThrow(/decision-storm, connect-storm/);
  });
});

describe('built-in TLS storms', () => {
  let dir: string;
  let ca: CertificateAuthority;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warren-load-builtin-'));
    ca = await openCa({ dir: join(dir, 'ca') });
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    { name: 'connect-storm-tls', mechanism: 'PLAIN' },
    { name: 'connect-storm-mtls', mechanism: 'EXTERNAL' },
  ])('$name logs in with $mechanism on the TLS listener', ({ name, mechanism }) => {
    const { target } = builtinScenario(name);

    expect(target).toMatchObject({ kind: 'amqp-connect', url: harnessAmqpsUrl, mechanism });
    expect(clientCertificateScenarios.has(name)).toBe(true);
  });

  it.each(['connect-storm-tls', 'connect-storm-mtls'])(
    '%s presents a client certificate of the CA with the workload’s SPIFFE ID',
    async (name) => {
      const { target } = await prepareBuiltinScenario(name, { ca });
      if (target.kind !== 'amqp-connect' || !target.tls?.certPath || !target.tls.keyPath) {
        throw new Error('no client certificate files');
      }

      expect(target.tls.caPath).toBe(ca.trustBundlePath);
      const leaf = new X509Certificate(readFileSync(target.tls.certPath));
      expect(leaf.subjectAltName).toBe('URI:spiffe://warren.test/ns/acme/sa/invoice-producer');
      expect(leaf.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // EKU clientAuth
      expect(leaf.checkPrivateKey(createPrivateKey(readFileSync(target.tls.keyPath)))).toBe(true);
      const trusted = readFileSync(target.tls.caPath, 'utf8')
        .split(/(?<=-----END CERTIFICATE-----)/)
        .filter((pem) => pem.includes('BEGIN CERTIFICATE'))
        .map((pem) => new X509Certificate(pem.trim()));
      expect(
        trusted.some((issuer) => leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey)),
      ).toBe(true);
    },
  );

  it('issues a fresh certificate per run, so an expired or revoked one never fails a storm', async () => {
    const serial = (scenario: Scenario) =>
      scenario.target.kind === 'amqp-connect' && scenario.target.tls?.certPath
        ? new X509Certificate(readFileSync(scenario.target.tls.certPath)).serialNumber
        : undefined;

    // Same file path (issued under the same name), a new certificate in it each time.
    const firstSerial = serial(await prepareBuiltinScenario('connect-storm-tls', { ca }));
    const secondSerial = serial(await prepareBuiltinScenario('connect-storm-tls', { ca }));
    expect(firstSerial).toMatch(/^[0-9A-F]+$/i);
    expect(secondSerial).not.toBe(firstSerial);
  });

  it('leaves the storms without TLS untouched', async () => {
    expect(await prepareBuiltinScenario('connect-storm', { ca })).toEqual(
      builtinScenario('connect-storm'),
    );
  });

  it('refuses a client certificate for a target that is not an AMQP connection', async () => {
    await expect(withClientCertificate(builtinScenario('steady'), ca)).rejects.toThrow(
      /amqp-connect target, not auth-http/,
    );
  });
});
