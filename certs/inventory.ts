import * as x509 from './x509.js';
import { readFile } from 'node:fs/promises';
import { generationPaths } from './authority.js';
import type { SanList } from './issued.js';
import { fingerprintSha256, issuedPaths, sanList } from './issued.js';
import type { CaState, RevocationReason } from './state.js';

/** One row of the inventory: a certificate this CA issued (leaf or CA level). */
export interface InventoryEntry {
  /** Leaf name, or `root-g<n>` / `intermediate-g<n>` for the CA levels. */
  name: string;
  kind: 'root' | 'intermediate' | 'server' | 'client';
  serialHex: string;
  subject: string;
  issuer: string;
  sans: SanList;
  generation: number;
  notBefore: string;
  notAfter: string;
  /** Whole days until notAfter (negative once expired), rounded down. */
  daysLeft: number;
  fingerprintSha256: string;
  revoked: boolean;
  revokedAt?: string;
  revocationReason?: RevocationReason;
  /** False for a leaf replaced by a later certificate of the same name. */
  current: boolean;
  /** False once the issuing generation is retired. */
  trusted: boolean;
  /** Issued expired or not yet valid on purpose (negative tests); thresholds ignore it. */
  deliberatelyInvalid: boolean;
}

/** Builds the inventory from the state file and the certificates on disk. */
export async function buildInventory(
  dir: string,
  state: CaState,
  now: Date,
): Promise<InventoryEntry[]> {
  const entries: InventoryEntry[] = [];
  for (const generation of state.generations) {
    const paths = generationPaths(dir, generation.generation);
    const trusted = generation.status !== 'retired';
    const base = { generation: generation.generation, current: true, trusted };
    const root = await readCertificate(paths.rootCert);
    entries.push({
      ...row(root, now),
      ...base,
      name: `root-g${generation.generation}`,
      kind: 'root',
      revoked: false,
      deliberatelyInvalid: false,
    });
    const intermediate = await readCertificate(paths.intermediateCert);
    entries.push({
      ...row(intermediate, now),
      ...base,
      name: `intermediate-g${generation.generation}`,
      kind: 'intermediate',
      revoked: generation.intermediateRevoked !== undefined,
      ...(generation.intermediateRevoked && {
        revokedAt: generation.intermediateRevoked.at,
        revocationReason: generation.intermediateRevoked.reason,
      }),
      deliberatelyInvalid: false,
    });
  }
  const retired = new Set(
    state.generations.filter((g) => g.status === 'retired').map((g) => g.generation),
  );
  for (const record of state.issued) {
    const certificate = await readCertificate(
      issuedPaths(dir, record.name).archivePath(record.serialHex),
    );
    entries.push({
      ...row(certificate, now),
      name: record.name,
      kind: record.kind,
      generation: record.generation,
      current: record.current,
      trusted: !retired.has(record.generation),
      revoked: record.revoked !== undefined,
      ...(record.revoked && {
        revokedAt: record.revoked.at,
        revocationReason: record.revoked.reason,
      }),
      deliberatelyInvalid: record.deliberatelyInvalid,
    });
  }
  return entries;
}

async function readCertificate(path: string): Promise<x509.X509Certificate> {
  return new x509.X509Certificate(await readFile(path, 'utf8'));
}

function row(certificate: x509.X509Certificate, now: Date) {
  return {
    serialHex: certificate.serialNumber,
    subject: certificate.subject,
    issuer: certificate.issuer,
    sans: sanList(certificate),
    notBefore: certificate.notBefore.toISOString(),
    notAfter: certificate.notAfter.toISOString(),
    daysLeft: Math.floor((certificate.notAfter.getTime() - now.getTime()) / 86_400_000),
    fingerprintSha256: fingerprintSha256(certificate),
  };
}

/** Days-left thresholds for {@link evaluateInventory}. */
export interface ExpiryThresholds {
  /** Warn when a live certificate has fewer days left than this. Default 30. */
  warnDays?: number;
  /** Fail when a live certificate has fewer days left than this. Default 7. */
  failDays?: number;
}

/** Outcome of an expiry check: `fail` beats `warn` beats `ok`. */
export interface ExpiryReport {
  status: 'ok' | 'warn' | 'fail';
  /** Live certificates under a threshold, with the threshold they crossed. */
  findings: Array<{ entry: InventoryEntry; level: 'warn' | 'fail' }>;
}

/**
 * Checks days left of every live certificate: current, not revoked, from a trusted generation
 * and not deliberately invalid (negative-test certificates would otherwise always fail).
 */
export function evaluateInventory(
  entries: readonly InventoryEntry[],
  thresholds: ExpiryThresholds = {},
): ExpiryReport {
  const warnDays = thresholds.warnDays ?? 30;
  const failDays = thresholds.failDays ?? 7;
  const findings: ExpiryReport['findings'] = [];
  for (const entry of entries) {
    if (!entry.current || entry.revoked || !entry.trusted || entry.deliberatelyInvalid) continue;
    if (entry.daysLeft < failDays) findings.push({ entry, level: 'fail' });
    else if (entry.daysLeft < warnDays) findings.push({ entry, level: 'warn' });
  }
  const status = findings.some((finding) => finding.level === 'fail')
    ? 'fail'
    : findings.length > 0
      ? 'warn'
      : 'ok';
  return { status, findings };
}
