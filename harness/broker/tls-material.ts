import { mkdirSync, readdirSync } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { CertificateAuthority } from '../../certs/index.js';
import type { InstanceLayout } from './layout.js';
import { brokerPath, hostPath } from './layout.js';

/** TLS files of one broker instance, as the host sees them (copies; the CA keeps the originals). */
export interface BrokerTlsFiles {
  /** Roots and intermediates the listener trusts; clients use it to verify the broker too. */
  caBundlePath: string;
  /** Server certificate chain (leaf, intermediate). */
  serverChainPath: string;
  /** Server private key (0600). */
  serverKeyPath: string;
  /** Hashed CRL folder the node reads at each handshake. */
  crlDir: string;
}

const tlsFolder = 'tls';
const crlFolder = 'crl';

/**
 * Issues the broker's server certificate (SANs `localhost` and `127.0.0.1`) from `ca` and copies
 * it, the trust bundle and the CRLs into the instance folder: a chrooted node cannot read the
 * CA's folder, and a copy lets each instance trust its own CA.
 */
export async function prepareTlsFiles(
  ca: CertificateAuthority,
  layout: InstanceLayout,
): Promise<BrokerTlsFiles> {
  const server = await ca.issueServerCertificate({
    name: `broker-${layout.instance}`,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  mkdirSync(hostPath(layout, tlsFolder), { recursive: true, mode: 0o700 });
  const files = hostTlsFiles(layout);
  await copyFile(server.trustBundlePath, files.caBundlePath);
  await copyFile(server.chainPath, files.serverChainPath);
  await copyFile(server.keyPath, files.serverKeyPath);
  await copyCrls(ca, layout);
  return files;
}

/**
 * Copies the CA's current CRLs into the instance's CRL folder. Call it after `ca.revoke()` so
 * that new handshakes see the revocation; sessions already open are not affected (RabbitMQ
 * checks CRLs at handshake only).
 */
export async function copyCrls(ca: CertificateAuthority, layout: InstanceLayout): Promise<void> {
  const target = hostPath(layout, crlFolder);
  await rm(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const source = ca.crlPaths().hashedDir;
  for (const name of readdirSync(source)) {
    await copyFile(join(source, name), join(target, name));
  }
}

/** TLS file paths of an instance as the host sees them. */
export function hostTlsFiles(layout: InstanceLayout): BrokerTlsFiles {
  return tlsFiles((relative) => hostPath(layout, relative));
}

/** TLS file paths of an instance as the broker sees them. */
export function brokerTlsFiles(layout: InstanceLayout): BrokerTlsFiles {
  return tlsFiles((relative) => brokerPath(layout, relative));
}

function tlsFiles(at: (relative: string) => string): BrokerTlsFiles {
  return {
    caBundlePath: at(join(tlsFolder, 'ca-bundle.pem')),
    serverChainPath: at(join(tlsFolder, 'server-chain.pem')),
    serverKeyPath: at(join(tlsFolder, 'server-key.pem')),
    crlDir: at(crlFolder),
  };
}
