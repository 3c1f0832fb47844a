import * as x509 from './x509.js';
import type { CryptoKey } from './keys.js';
import type { KeyAlgorithm } from './keys.js';

/** Which extended key usage a leaf certificate carries. `none` omits the extension. */
export type ExtendedKeyUsageChoice = 'clientAuth' | 'serverAuth' | 'none';

const eku: Record<Exclude<ExtendedKeyUsageChoice, 'none'>, string> = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
};

/** Key identifiers shared by every profile: SKI of the subject, AKI of the issuer (RFC 5280 4.2.1.1-2). */
async function keyIdentifiers(
  subjectKey: CryptoKey,
  issuerKeyId: string | undefined,
): Promise<x509.Extension[]> {
  const ski = await x509.SubjectKeyIdentifierExtension.create(subjectKey);
  const aki = new x509.AuthorityKeyIdentifierExtension(issuerKeyId ?? ski.keyId);
  return [ski, aki];
}

/**
 * A CA profile: basicConstraints critical (RFC 5280 4.2.1.9 requires it on CAs; Erlang's
 * public_key refuses CA certificates without it), keyUsage keyCertSign + cRLSign, critical.
 */
export async function caExtensions(params: {
  subjectKey: CryptoKey;
  issuerKeyId?: string;
  pathLength?: number;
}): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(true, params.pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ...(await keyIdentifiers(params.subjectKey, params.issuerKeyId)),
  ];
}

/** SAN entries of a leaf certificate. */
export interface SanValues {
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  uris: readonly string[];
}

/**
 * A leaf profile. keyUsage digitalSignature (plus keyEncipherment for RSA, which TLS 1.2 RSA key
 * exchange needs); the SAN extension is critical only when the subject is empty (RFC 5280 4.2.1.6),
 * which Warren never issues, so it is non-critical.
 */
export async function leafExtensions(params: {
  subjectKey: CryptoKey;
  issuerKeyId: string;
  algorithm: KeyAlgorithm;
  extendedKeyUsage: ExtendedKeyUsageChoice;
  sans: SanValues;
}): Promise<x509.Extension[]> {
  const usage =
    params.algorithm === 'rsa-2048'
      ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
      : x509.KeyUsageFlags.digitalSignature;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(usage, true),
  ];
  if (params.extendedKeyUsage !== 'none') {
    extensions.push(new x509.ExtendedKeyUsageExtension([eku[params.extendedKeyUsage]], false));
  }
  const names = sanJson(params.sans);
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  extensions.push(...(await keyIdentifiers(params.subjectKey, params.issuerKeyId)));
  return extensions;
}

function sanJson(sans: SanValues): x509.JsonGeneralNames {
  return [
    ...sans.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...sans.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ...sans.uris.map((value) => ({ type: 'url' as const, value })),
  ];
}

/** cRLNumber (RFC 5280 5.2.3): a non-critical, monotonically increasing INTEGER. */
export function crlNumberExtension(crlNumber: number): x509.Extension {
  return new x509.Extension('2.5.29.20', false, derInteger(crlNumber));
}

/** DER encoding of a non-negative INTEGER (X.690 8.3): minimal big-endian two's complement. */
export function derInteger(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError('derInteger: bad value');
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.unshift(rest % 256);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  if ((bytes[0] ?? 0) >= 0x80) bytes.unshift(0);
  return Uint8Array.from([0x02, bytes.length, ...bytes]);
}
