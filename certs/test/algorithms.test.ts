import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyAlgorithm } from '../index.js';
import { openCa } from '../index.js';
import { opensslVerify, temporaryDir } from './support.js';

let dir: Awaited<ReturnType<typeof temporaryDir>>;

beforeAll(async () => {
  dir = await temporaryDir('certs-algorithms');
});

afterAll(async () => dir.remove());

describe('key algorithms', () => {
  it.each([
    ['ed25519', 'ed25519'],
    ['rsa-2048', 'rsa'],
  ] as const)(
    'a %s CA issues server and client certificates that verify, with CRLs',
    async (algorithm, keyType) => {
      const ca = await openCa({ dir: `${dir.path}/${algorithm}`, algorithm });
      const server = await ca.issueServerCertificate({ name: 's', dnsNames: ['localhost'] });
      const client = await ca.issueClientCertificate({ name: 'c', subject: { commonName: 'c' } });
      const crlFile = ca.crlPaths().bundle;
      const results = await Promise.all([
        opensslVerify({ cert: server, caFile: ca.trustBundlePath, purpose: 'sslserver', crlFile }),
        opensslVerify({ cert: client, caFile: ca.trustBundlePath, purpose: 'sslclient', crlFile }),
      ]);
      expect(results.map((result) => result.ok)).toEqual([true, true]);
      const key = new X509Certificate(await readFile(client.certPath)).publicKey;
      expect(key.asymmetricKeyType).toBe(keyType);
    },
  );

  it.each<KeyAlgorithm>(['rsa-2048', 'ed25519'])(
    'an ECDSA CA issues a %s leaf on request',
    async (keyAlgorithm) => {
      const ca = await openCa({ dir: `${dir.path}/ecdsa-mixed` });
      const client = await ca.issueClientCertificate({
        name: `leaf-${keyAlgorithm}`,
        subject: { commonName: 'mixed' },
        keyAlgorithm,
      });
      const result = await opensslVerify({
        cert: client,
        caFile: ca.trustBundlePath,
        purpose: 'sslclient',
      });
      expect(result.ok, result.output).toBe(true);
      const key = new X509Certificate(await readFile(client.certPath)).publicKey;
      expect(key.asymmetricKeyType).toBe(keyAlgorithm === 'rsa-2048' ? 'rsa' : 'ed25519');
    },
  );
});
