import * as x509 from './x509.js';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { IssuedRecord } from './state.js';

/** Subject alternative names of a certificate, by type. */
export interface SanList {
  dns: string[];
  ip: string[];
  uri: string[];
}

/** A certificate the CA issued, with the files a TLS client or server needs. */
export interface IssuedCertificate {
  /** The name it was issued under (its folder under `<dir>/issued/`). */
  name: string;
  kind: IssuedRecord['kind'];
  /** Serial number, lowercase hex without separators (as `openssl x509 -serial`, lowercased). */
  serialHex: string;
  /** CA generation that issued it. */
  generation: number;
  /** Leaf certificate, PEM. */
  certPath: string;
  /** Private key, PKCS#8 PEM, mode 0600. */
  keyPath: string;
  /** Leaf followed by the issuing intermediate, PEM: what a peer should present. */
  chainPath: string;
  /** Roots and intermediates of every trusted generation, PEM (`ca`, `cacertfile`, `-CAfile`). */
  trustBundlePath: string;
  /** Subject as @peculiar/x509 prints it, in DER order (`C=US, O=Lab, CN=svc`). */
  subject: string;
  sans: SanList;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER, uppercase hex pairs joined by `:` (as Node and OpenSSL print it). */
  fingerprintSha256: string;
}

/** Files of a named certificate. Earlier certificates of the name are kept by serial. */
export function issuedPaths(dir: string, name: string) {
  const base = join(dir, 'issued', name);
  return {
    certPath: join(base, 'cert.pem'),
    keyPath: join(base, 'key.pem'),
    chainPath: join(base, 'chain.pem'),
    archivePath: (serialHex: string) => join(dir, 'by-serial', `${serialHex}.pem`),
  };
}

export function describeIssued(
  certificate: x509.X509Certificate,
  record: IssuedRecord,
  paths: ReturnType<typeof issuedPaths>,
  trustBundlePath: string,
): IssuedCertificate {
  return {
    name: record.name,
    kind: record.kind,
    serialHex: certificate.serialNumber,
    generation: record.generation,
    certPath: paths.certPath,
    keyPath: paths.keyPath,
    chainPath: paths.chainPath,
    trustBundlePath,
    subject: certificate.subject,
    sans: sanList(certificate),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    fingerprintSha256: fingerprintSha256(certificate),
  };
}

/** The SANs of a certificate, by type. */
export function sanList(certificate: x509.X509Certificate): SanList {
  const result: SanList = { dns: [], ip: [], uri: [] };
  const extension = certificate.getExtension(x509.SubjectAlternativeNameExtension);
  for (const name of extension?.names.items ?? []) {
    if (name.type === 'dns') result.dns.push(name.value);
    else if (name.type === 'ip') result.ip.push(name.value);
    else if (name.type === 'url') result.uri.push(name.value);
  }
  return result;
}

export function fingerprintSha256(certificate: x509.X509Certificate): string {
  const hex = createHash('sha256').update(new Uint8Array(certificate.rawData)).digest('hex');
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}
