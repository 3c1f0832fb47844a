import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CertificateAuthority, IssuedCertificate } from '../../certs/index.js';
import { expectedBrokerUsername } from '../../certs/username.js';
import type { AmqpOutcome, ClientTls } from '../amqp/index.js';
import { closeOutcome, connectAmqp } from '../amqp/index.js';
import type { BrokerVersion, RunningBroker } from '../broker/index.js';
import { refreshBrokerCrls, startBroker, stopBroker } from '../broker/index.js';
import type { Recorder } from '../recorder/index.js';
import { startRecordingBackend } from '../recorder/index.js';
import { freshCa, testRule, tlsFor } from './broker-fixture.js';

const versions: BrokerVersion[] = ['3.10', '4.0'];
const hourMs = 3_600_000;

describe.each(versions)('the mutual-TLS listener of RabbitMQ %s', (version) => {
  const instance = `tls-${version.replace('.', '-')}`;
  let ca: CertificateAuthority;
  let otherCa: CertificateAuthority;
  let backend: Recorder;
  let broker: RunningBroker;
  const certs: Record<string, IssuedCertificate> = {};

  beforeAll(async () => {
    ca = await freshCa(`tls-matrix-${instance}`);
    otherCa = await freshCa(`tls-matrix-${instance}-other`);
    const subject = { commonName: 'svc-orders', organization: 'Lab', country: 'US' };
    const now = Date.now();
    certs['valid'] = await ca.issueClientCertificate({ name: 'valid', subject });
    certs['otherCa'] = await otherCa.issueClientCertificate({ name: 'foreign', subject });
    certs['expired'] = await ca.issueClientCertificate({
      name: 'expired',
      subject,
      notBefore: new Date(now - 48 * hourMs),
      notAfter: new Date(now - 24 * hourMs),
    });
    certs['notYetValid'] = await ca.issueClientCertificate({
      name: 'not-yet-valid',
      subject,
      notBefore: new Date(now + 24 * hourMs),
      notAfter: new Date(now + 48 * hourMs),
    });
    certs['wrongEku'] = await ca.issueClientCertificate({
      name: 'wrong-eku',
      subject,
      extendedKeyUsage: 'serverAuth',
    });
    certs['revoked'] = await ca.issueClientCertificate({ name: 'revoked', subject });
    certs['revokedLater'] = await ca.issueClientCertificate({ name: 'revoked-later', subject });
    await ca.revoke('revoked');

    backend = await startRecordingBackend(testRule('tls-'));
    broker = await startBroker({ version, instance, backendUrl: backend.url }, { ca });
  });

  afterAll(async () => {
    await stopBroker(instance);
    await backend?.close();
  });

  async function connectWith(tls: ClientTls): Promise<AmqpOutcome> {
    const outcome = await connectAmqp({
      url: broker.endpoints.amqpsUrl,
      login: { mechanism: 'EXTERNAL' },
      tls,
    });
    await closeOutcome(outcome);
    return outcome;
  }

  it('lets a valid client certificate in via EXTERNAL as its reversed DN, without a password', async () => {
    backend.clear();
    const outcome = await connectWith(tlsFor(broker, certs['valid']));

    expect(outcome.kind).toBe('connected');
    const [userCall] = backend.callsTo('/user');
    // DER order is C, O, CN (what openssl prints); RabbitMQ reverses it.
    expect(userCall?.params).toEqual({ username: 'CN=svc-orders,O=Lab,C=US' });
    expect(userCall?.params['username']).toBe(
      expectedBrokerUsername(certs['valid'] as IssuedCertificate, 'distinguished_name'),
    );
  });

  // The TLS alert the broker sends (RFC 8446 section 6.2 names). OTP 25 (3.10) reports a
  // missing clientAuth EKU as a generic handshake_failure; OTP 27 (4.0) names it.
  const refusals: Array<{ what: string; cert?: string; alert: string }> = [
    { what: 'no client certificate', alert: 'certificate_required' },
    { what: 'a certificate from another CA', cert: 'otherCa', alert: 'unknown_ca' },
    { what: 'an expired certificate', cert: 'expired', alert: 'certificate_expired' },
    { what: 'a not-yet-valid certificate', cert: 'notYetValid', alert: 'certificate_expired' },
    { what: 'a revoked certificate', cert: 'revoked', alert: 'certificate_revoked' },
    {
      what: 'a certificate without clientAuth',
      cert: 'wrongEku',
      alert: version === '3.10' ? 'handshake_failure' : 'unsupported_certificate',
    },
  ];

  it.each(refusals)('refuses $what at the TLS handshake, before any backend call', async (row) => {
    backend.clear();
    const outcome = await connectWith(tlsFor(broker, row.cert ? certs[row.cert] : undefined));

    expect(outcome).toMatchObject({ kind: 'tls-failure', alert: row.alert });
    expect(backend.calls).toHaveLength(0);
  });

  it('refuses a certificate revoked after the start once the CRLs are refreshed', async () => {
    const before = await connectWith(tlsFor(broker, certs['revokedLater']));
    await ca.revoke('revoked-later');
    await refreshBrokerCrls(broker, ca);
    const after = await connectWith(tlsFor(broker, certs['revokedLater']));

    expect(before.kind).toBe('connected');
    expect(after).toMatchObject({ kind: 'tls-failure', alert: 'certificate_revoked' });
  });

  it('refuses TLS 1.1', async () => {
    const outcome = await connectWith({
      ...tlsFor(broker, certs['valid']),
      minVersion: 'TLSv1.1',
      maxVersion: 'TLSv1.1',
      // OpenSSL 3 refuses to offer TLS 1.1 at its default security level; lower it so the
      // refusal comes from the broker, not from our own client.
      ciphers: 'DEFAULT@SECLEVEL=0',
    });

    expect(outcome).toMatchObject({ kind: 'tls-failure', alert: 'protocol_version' });
  });
});
