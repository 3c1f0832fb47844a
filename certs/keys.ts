import { webcrypto } from 'node:crypto';
import * as x509 from './x509.js';

/** Key algorithms the CA can use for its own keys and for the keys it issues. */
export type KeyAlgorithm = 'ecdsa-p256' | 'ed25519' | 'rsa-2048';

export const keyAlgorithms: readonly KeyAlgorithm[] = ['ecdsa-p256', 'ed25519', 'rsa-2048'];

/** A WebCrypto key (Node's `webcrypto.CryptoKey`; the DOM type is not in this project's libs). */
export type CryptoKey = webcrypto.CryptoKey;
/** A WebCrypto key pair. */
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;
type EcKeyGenParams = webcrypto.EcKeyGenParams;
type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;

interface AlgorithmParams {
  /** Parameters for generateKey and importKey. */
  key: RsaHashedKeyGenParams | EcKeyGenParams | Algorithm;
  /** Parameters for signing certificates and CRLs with such a key. */
  signing: Algorithm | EcdsaParams;
}

const params: Record<KeyAlgorithm, AlgorithmParams> = {
  'ecdsa-p256': {
    key: { name: 'ECDSA', namedCurve: 'P-256' } as EcKeyGenParams,
    signing: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
  },
  // Ed25519 signs the whole message; RFC 8410 section 6 defines no separate hash.
  ed25519: { key: { name: 'Ed25519' }, signing: { name: 'Ed25519' } },
  'rsa-2048': {
    key: {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    } as RsaHashedKeyGenParams,
    signing: { name: 'RSASSA-PKCS1-v1_5' },
  },
};

/** Signing algorithm parameters for certificates and CRLs signed by a key of this algorithm. */
export function signingParams(algorithm: KeyAlgorithm): Algorithm | EcdsaParams {
  return params[algorithm].signing;
}

/** Generates an extractable key pair (extractable so the private key can be saved as PKCS#8). */
export async function generateKeyPair(algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
  const pair = await webcrypto.subtle.generateKey(params[algorithm].key, true, ['sign', 'verify']);
  return pair as CryptoKeyPair;
}

/** PKCS#8 PEM (`PRIVATE KEY`) of a private key, the form OpenSSL, Node and Erlang all read. */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return `${x509.PemConverter.encode(der, 'PRIVATE KEY').trim()}\n`;
}

/** Imports a PKCS#8 PEM private key for signing with the given algorithm. */
export async function privateKeyFromPem(pem: string, algorithm: KeyAlgorithm): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  const key = await webcrypto.subtle.importKey('pkcs8', der, params[algorithm].key, false, [
    'sign',
  ]);
  return key as CryptoKey;
}
