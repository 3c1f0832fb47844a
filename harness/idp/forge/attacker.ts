// @peculiar/x509 needs the Reflect metadata polyfill before it loads.
import 'reflect-metadata';

import { createPublicKey, generateKeyPairSync, KeyObject, webcrypto } from 'node:crypto';

import * as x509 from '@peculiar/x509';

import { jwkThumbprint } from '../keys.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A key the attacker controls, with its public JWK and RFC 7638 thumbprint. */
export interface AttackerKey {
  privateKey: KeyObject;
  publicJwk: webcrypto.JsonWebKey & { kid: string };
  kid: string;
}

/** Everything the attacker brings: keys of each family and a self-signed certificate. */
export interface AttackerMaterial {
  ec: AttackerKey;
  rsa: AttackerKey;
  ed25519: AttackerKey;
  secp256k1: AttackerKey;
  /** A second P-256 key standing in for another environment's IdP (staging). */
  staging: AttackerKey;
  /** DER of a self-signed certificate for `ec` (for `x5c` and `x5u`). */
  certificateDer: Buffer;
  certificatePem: string;
}

function describe(privateKey: KeyObject): AttackerKey {
  const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const kid = jwkThumbprint(publicJwk);
  return { privateKey, publicJwk: { ...publicJwk, kid }, kid };
}

async function selfSignedEc(): Promise<{ key: AttackerKey; der: Buffer; pem: string }> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=Warren attacker, O=Not the IdP',
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys,
    signingAlgorithm: algorithm,
  });
  return {
    key: describe(KeyObject.from(keys.privateKey)),
    der: Buffer.from(certificate.rawData),
    pem: certificate.toString('pem'),
  };
}

/** Generates fresh attacker material (in memory only; nothing is trusted anywhere). */
export async function createAttackerMaterial(): Promise<AttackerMaterial> {
  const certified = await selfSignedEc();
  return {
    ec: certified.key,
    rsa: describe(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
    ed25519: describe(generateKeyPairSync('ed25519').privateKey),
    secp256k1: describe(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey),
    staging: describe(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
    certificateDer: certified.der,
    certificatePem: certified.pem,
  };
}
