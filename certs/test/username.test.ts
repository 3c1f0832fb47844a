import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isWarrenError } from '../../lib/errors.js';
import type { CertificateAuthority } from '../index.js';
import { escapeDnValue, expectedBrokerUsername, formatReversedDn, openCa } from '../index.js';
import * as x509 from '../x509.js';
import { openssl, temporaryDir } from './support.js';

let dir: Awaited<ReturnType<typeof temporaryDir>>;
let ca: CertificateAuthority;

beforeAll(async () => {
  dir = await temporaryDir('certs-username');
  ca = await openCa({ dir: dir.path });
});

afterAll(async () => dir.remove());

describe('RFC 4514 escaping as RabbitMQ applies it', () => {
  it.each([
    ['plain text', 'svc-orders', 'svc-orders'],
    ['a comma', 'Lab, Inc', 'Lab\\, Inc'],
    ['the specials "+;<>\\', 'a"b+c;d<e>f\\g', 'a\\"b\\+c\\;d\\<e\\>f\\\\g'],
    ['a leading #', '#1', '\\#1'],
    ['a # inside', 'a#1', 'a#1'],
    ['a leading and a trailing space', ' x ', '\\ x\\ '],
    ['an equals sign (left alone)', 'a=b', 'a=b'],
    ['a tilde (escaped, RabbitMQ escapes from 0x7E)', 'a~b', 'a\\7Eb'],
    ['non-ASCII text (its UTF-8 bytes as \\XX)', 'Zoë', 'Zo\\C3\\AB'],
    ['a control character', 'a\tb', 'a\\09b'],
  ])('%s', (_, value, escaped) => {
    expect(escapeDnValue(value)).toBe(escaped);
  });
});

describe('expectedBrokerUsername', () => {
  it('reverses the DER order of the subject, joined by commas without spaces', async () => {
    const cert = await ca.issueClientCertificate({
      name: 'dn',
      subject: {
        commonName: 'svc-orders',
        organization: 'Lab',
        organizationalUnit: 'acme',
        country: 'US',
      },
    });
    expect(expectedBrokerUsername(cert, 'distinguished_name')).toBe(
      'CN=svc-orders,OU=acme,O=Lab,C=US',
    );
  });

  it('agrees with openssl RFC 2253 output for a subject with specials and non-ASCII', async () => {
    const cert = await ca.issueClientCertificate({
      name: 'specials',
      subject: { commonName: 'Zoë, #1 ', organization: 'Lab+Co', locality: 'Köln', country: 'DE' },
    });
    const fromOpenssl = (
      await openssl('x509', '-in', cert.certPath, '-noout', '-subject', '-nameopt', 'RFC2253')
    )
      .trim()
      .replace(/^subject=/, '');
    expect(expectedBrokerUsername(cert, 'distinguished_name')).toBe(fromOpenssl);
    expect(fromOpenssl).toBe('CN=Zo\\C3\\AB\\, #1\\ ,O=Lab\\+Co,L=K\\C3\\B6ln,C=DE');
  });

  it('joins a multi-valued RDN with + and names unknown attributes by OID', () => {
    const name = new x509.Name([{ C: ['US'] }, { O: ['Lab'] }, { CN: ['a'], '2.5.4.97': ['b'] }]);
    expect(formatReversedDn(name)).toBe('CN=a+2.5.4.97=b,O=Lab,C=US');
  });

  it('gives the CN unescaped for common_name', async () => {
    const cert = await ca.issueClientCertificate({ name: 'cn', subject: { commonName: 'a,b' } });
    expect(expectedBrokerUsername(cert, 'common_name')).toBe('a,b');
  });

  it('gives the SPIFFE ID for uri_san, and the URI at the requested index', async () => {
    const cert = await ca.issueClientCertificate({
      name: 'spiffe',
      subject: { commonName: 'orders' },
      spiffeId: { namespace: 'acme', serviceAccount: 'orders' },
      uris: ['urn:example:second'],
    });
    expect(expectedBrokerUsername(cert, 'uri_san')).toBe('spiffe://warren.test/ns/acme/sa/orders');
    expect(expectedBrokerUsername(cert.certPath, 'uri_san', 1)).toBe('urn:example:second');
  });

  it('refuses a certificate without a URI SAN, as the broker does ("no name found")', async () => {
    const cert = await ca.issueClientCertificate({ name: 'no-uri', subject: { commonName: 'x' } });
    let error: unknown;
    try {
      expectedBrokerUsername(cert, 'uri_san');
    } catch (caught) {
      error = caught;
    }
    expect(isWarrenError(error, ErrorCode.BadOption)).toBe(true);
  });
});
