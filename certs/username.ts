import { readFileSync } from 'node:fs';
import * as x509 from './x509.js';
import type { DerElement } from './der.js';
import { decodeOid, readChildren, readDer } from './der.js';
import { badOption } from './names.js';

/** Where RabbitMQ takes the EXTERNAL username from (`ssl_cert_login_from`). */
export type BrokerLoginSource = 'distinguished_name' | 'common_name' | 'uri_san';

/** A certificate as PEM text, a path to a PEM file, or a parsed certificate. */
export type CertificateInput = string | x509.X509Certificate | { certPath: string };

// Attribute short names RabbitMQ writes (rabbit_ssl format_rdn); others become dotted OIDs.
const attributeNames: Record<string, string> = {
  '2.5.4.4': 'SN',
  '2.5.4.42': 'GIVENNAME',
  '2.5.4.43': 'INITIALS',
  '2.5.4.44': 'GENERATIONQUALIFIER',
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'TITLE',
  '2.5.4.6': 'C',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.65': 'PSEUDONYM',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'EMAILADDRESS',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.1': 'UID',
};

/**
 * The username RabbitMQ derives from a client certificate for the EXTERNAL mechanism
 * (RABBITMQ.md section 4):
 * - `distinguished_name`: RDNs in reverse DER order joined by `,` without spaces, RFC 4514
 *   escaping, every byte of a value outside printable ASCII (and `~`) written as `\XX`;
 * - `common_name`: the CN value(s) unescaped, several joined by `,`;
 * - `uri_san`: the URI SAN at `sanIndex` (default 0, as `ssl_cert_login_san_index`).
 * Throws WARREN_ERR_BAD_OPTION when the certificate has no such name (the broker then refuses
 * the login before any HTTP call).
 */
export function expectedBrokerUsername(
  cert: CertificateInput,
  source: BrokerLoginSource,
  sanIndex = 0,
): string {
  const certificate = toCertificate(cert);
  if (source === 'distinguished_name') return formatReversedDn(certificate.subjectName);
  if (source === 'common_name') {
    const names = certificate.subjectName.getField('CN');
    if (names.length === 0) throw badOption('cert', 'the certificate has no CN');
    return names.join(',');
  }
  const san = certificate.getExtension(x509.SubjectAlternativeNameExtension);
  const uris = (san?.names.items ?? []).filter((name) => name.type === 'url');
  const uri = uris[sanIndex];
  if (!uri) throw badOption('cert', `the certificate has no URI SAN at index ${sanIndex}`);
  return uri.value;
}

/** One attribute of an RDN: its OID and its value as the broker sees it (UTF-8 bytes). */
interface DnAttribute {
  oid: string;
  bytes: Uint8Array;
}

/** RFC 4514 string of a Name, last RDN first, the way RabbitMQ prints it. */
export function formatReversedDn(name: x509.Name): string {
  return readRdns(new Uint8Array(name.toArrayBuffer()))
    .reverse()
    .map((rdn) => rdn.map((attribute) => formatAttribute(attribute)).join('+'))
    .join(',');
}

function formatAttribute(attribute: DnAttribute): string {
  return `${attributeNames[attribute.oid] ?? attribute.oid}=${escapeDnBytes(attribute.bytes)}`;
}

/** Name ::= SEQUENCE OF SET OF AttributeTypeAndValue (RFC 5280 4.1.2.4), in DER order. */
function readRdns(nameDer: Uint8Array): DnAttribute[][] {
  const sequence = readDer(nameDer);
  return readChildren(sequence.content).map((set) =>
    readChildren(set.content).map((pair) => {
      const [type, value] = readChildren(pair.content);
      if (!type || !value) throw new RangeError('DER: bad AttributeTypeAndValue');
      return { oid: decodeOid(type.content), bytes: directoryStringUtf8(value) };
    }),
  );
}

/** The UTF-8 bytes of a DirectoryString, converting the UCS and Latin-1 forms like RabbitMQ. */
function directoryStringUtf8(value: DerElement): Uint8Array {
  const universalString = 0x1c;
  const bmpString = 0x1e;
  const teletexString = 0x14;
  if (value.tag === bmpString) return utf8OfCodePoints(value.content, 2);
  if (value.tag === universalString) return utf8OfCodePoints(value.content, 4);
  if (value.tag === teletexString) {
    return Buffer.from(Buffer.from(value.content).toString('latin1'), 'utf8');
  }
  return value.content;
}

function utf8OfCodePoints(content: Uint8Array, width: 2 | 4): Uint8Array {
  const view = Buffer.from(content);
  let text = '';
  for (let offset = 0; offset + width <= view.length; offset += width) {
    text += String.fromCodePoint(
      width === 2 ? view.readUInt16BE(offset) : view.readUInt32BE(offset),
    );
  }
  return Buffer.from(text, 'utf8');
}

/**
 * RFC 4514 section 2.4 escaping as RabbitMQ applies it: `\` before a leading space or `#`, a
 * trailing space and any of `"+,;<>\`; bytes below 0x20 or from 0x7E up (the UTF-8 bytes of
 * non-ASCII text) as `\XX` in upper-case hex.
 */
export function escapeDnValue(value: string): string {
  return escapeDnBytes(Buffer.from(value, 'utf8'));
}

function escapeDnBytes(bytes: Uint8Array): string {
  let out = '';
  bytes.forEach((byte, index) => {
    const char = String.fromCharCode(byte);
    const first = index === 0;
    const last = index === bytes.length - 1;
    if (byte < 0x20 || byte >= 0x7e) {
      out += `\\${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    } else if ((first && (char === ' ' || char === '#')) || (last && char === ' ')) {
      out += `\\${char}`;
    } else if ('"+,;<>\\'.includes(char)) {
      out += `\\${char}`;
    } else {
      out += char;
    }
  });
  return out;
}

function toCertificate(cert: CertificateInput): x509.X509Certificate {
  if (cert instanceof x509.X509Certificate) return cert;
  if (typeof cert === 'string') {
    return new x509.X509Certificate(
      cert.includes('-----BEGIN') ? cert : readFileSync(cert, 'utf8'),
    );
  }
  return new x509.X509Certificate(readFileSync(cert.certPath, 'utf8'));
}
