import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InventoryEntry } from '../index.js';
import { evaluateInventory, openCa } from '../index.js';
import { temporaryDir } from './support.js';

const day = 86_400_000;
let dir: Awaited<ReturnType<typeof temporaryDir>>;
let clock = new Date('2027-01-01T00:00:00Z');

beforeAll(async () => {
  dir = await temporaryDir('certs-inventory');
});

afterAll(async () => dir.remove());

describe('inventory', () => {
  it('lists CA levels and leaves with subject, SANs, serial, issuer, validity and days left', async () => {
    const ca = await openCa({ dir: dir.path, now: () => clock });
    const cert = await ca.issueServerCertificate({
      name: 'srv',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      validityDays: 20,
    });
    clock = new Date(clock.getTime() + 5 * day);
    const rows = await ca.inventory();
    expect(rows.map((row) => row.name)).toEqual(['root-g1', 'intermediate-g1', 'srv']);
    const srv = rows[2] as InventoryEntry;
    expect(srv).toMatchObject({
      kind: 'server',
      serialHex: cert.serialHex,
      subject: 'O=Warren, CN=localhost',
      issuer: 'O=Warren, OU=warren.test, CN=Warren Intermediate CA G1',
      sans: { dns: ['localhost'], ip: ['127.0.0.1'], uri: [] },
      fingerprintSha256: cert.fingerprintSha256,
      revoked: false,
      current: true,
      trusted: true,
      // 20 days from (issue time − 5 min of clock skew), seen 5 days later: 14 whole days left.
      daysLeft: 14,
    });
    expect(srv.notAfter).toBe(cert.notAfter.toISOString());
  });

  it.each([
    ['every certificate far from expiry', 60, 'ok'],
    ['a certificate under the warn threshold', 25, 'warn'],
    ['a certificate under the fail threshold', 3, 'fail'],
  ] as const)('thresholds: %s gives %s', (_, daysLeft, status) => {
    const entry = {
      daysLeft,
      current: true,
      revoked: false,
      trusted: true,
      deliberatelyInvalid: false,
    } as InventoryEntry;
    expect(evaluateInventory([entry], { warnDays: 30, failDays: 7 }).status).toBe(status);
  });

  it.each([
    ['revoked', { revoked: true }],
    ['replaced', { current: false }],
    ['from a retired generation', { trusted: false }],
    ['deliberately invalid', { deliberatelyInvalid: true }],
  ])('a %s certificate never trips a threshold', (_, override) => {
    const entry = {
      daysLeft: -3,
      current: true,
      revoked: false,
      trusted: true,
      deliberatelyInvalid: false,
      ...override,
    } as InventoryEntry;
    expect(evaluateInventory([entry]).status).toBe('ok');
  });
});
