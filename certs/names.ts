import * as x509 from './x509.js';
import { isIP } from 'node:net';
import { ErrorCode, WarrenError } from '../lib/errors.js';

/** Distinguished-name fields a Warren certificate subject may carry. */
export interface SubjectFields {
  /** CN: the workload or host name. Required. */
  commonName: string;
  /** O: organisation. */
  organization?: string;
  /** OU: organisational unit. */
  organizationalUnit?: string;
  /** C: two-letter country code (ISO 3166), encoded as PrintableString per RFC 5280. */
  country?: string;
  /** ST: state or province. */
  state?: string;
  /** L: locality. */
  locality?: string;
}

/** A SPIFFE workload identity: `spiffe://<trust-domain>/ns/<namespace>/sa/<serviceAccount>`. */
export interface SpiffeIdParts {
  /** The namespace; in Warren it is the tenant (`acme`, `globex`). */
  namespace: string;
  /** The service account (workload) name. */
  serviceAccount: string;
}

// Most significant first (C … CN), the order `openssl req -subj /C=…/O=…/CN=…` writes. RabbitMQ
// reverses the DER order when it builds the EXTERNAL username (RFC 4514), so a subject
// C=US, O=Lab, CN=svc logs in as `CN=svc,O=Lab,C=US` (see username.ts).
const fieldOrder: ReadonlyArray<[keyof SubjectFields, string]> = [
  ['country', 'C'],
  ['state', 'ST'],
  ['locality', 'L'],
  ['organization', 'O'],
  ['organizationalUnit', 'OU'],
  ['commonName', 'CN'],
];

const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** Builds an X.509 Name with explicit string types (no parsing of escapes or `#hex`). */
export function buildSubjectName(fields: SubjectFields): x509.Name {
  validateSubject(fields);
  const rdns: x509.JsonName = [];
  for (const [key, type] of fieldOrder) {
    const value = fields[key];
    if (value === undefined) continue;
    const typed = printable.test(value) ? { printableString: value } : { utf8String: value };
    rdns.push({ [type]: [typed] } as unknown as x509.JsonName[number]);
  }
  return new x509.Name(rdns);
}

function validateSubject(fields: SubjectFields): void {
  if (typeof fields.commonName !== 'string' || fields.commonName.length === 0) {
    throw badOption('subject.commonName', 'must be a non-empty string');
  }
  for (const [key] of fieldOrder) {
    const value = fields[key];
    if (value !== undefined && (typeof value !== 'string' || value.length > 64)) {
      throw badOption(`subject.${key}`, 'must be a string of at most 64 characters (RFC 5280)');
    }
  }
  if (fields.country !== undefined && !/^[A-Z]{2}$/.test(fields.country)) {
    throw badOption('subject.country', 'must be two capital letters, e.g. US');
  }
}

/** The SPIFFE ID URI for the given parts (or validates one given as a string). */
export function spiffeIdUri(id: SpiffeIdParts | string, trustDomain: string): string {
  if (typeof id === 'string') {
    if (!/^spiffe:\/\/[a-z0-9.\-_]+(\/[A-Za-z0-9.\-_]+)+$/.test(id)) {
      throw badOption('spiffeId', `"${id}" is not a SPIFFE ID (spiffe://<domain>/<path>)`);
    }
    return id;
  }
  const segment = /^[A-Za-z0-9.\-_]+$/;
  const allowed = "may hold only letters, digits, '.', '-' and '_'";
  if (!segment.test(id.namespace)) throw badOption('spiffeId.namespace', allowed);
  if (!segment.test(id.serviceAccount)) throw badOption('spiffeId.serviceAccount', allowed);
  return `spiffe://${trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

// Host name labels (RFC 1123 2.1), optionally under one leading wildcard label.
const dnsLabel = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const dnsName = new RegExp(`^(?:\\*\\.)?${dnsLabel}(?:\\.${dnsLabel})*$`);

/** Validates DNS names, IP addresses and URIs for a SAN extension. */
export function checkSanValues(
  dnsNames: readonly string[],
  ipAddresses: readonly string[],
  uris: readonly string[] = [],
): void {
  for (const uri of uris) {
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(uri)) {
      throw badOption('uris', `"${uri}" is not an absolute URI (RFC 3986)`);
    }
  }
  for (const dns of dnsNames) {
    if (!dnsName.test(dns)) throw badOption('dnsNames', `"${dns}" is not a DNS name`);
  }
  for (const ip of ipAddresses) {
    if (isIP(ip) === 0) throw badOption('ipAddresses', `"${ip}" is not an IPv4 or IPv6 address`);
  }
}

/** Certificate names are file names under the state folder: keep them plain. */
export function checkCertificateName(name: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw badOption(
      'name',
      `"${String(name)}" must be 1-64 of letters, digits, . _ - (a file name)`,
    );
  }
}

/** A WARREN_ERR_BAD_OPTION error whose message starts with the offending field. */
export function badOption(field: string, problem: string): WarrenError {
  return new WarrenError(ErrorCode.BadOption, `${field}: ${problem}`);
}
