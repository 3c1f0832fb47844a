// @peculiar/x509 needs the Reflect metadata polyfill loaded before it (tsyringe checks at load
// time), so every module of certs/ imports the library through this file, never directly.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// One WebCrypto implementation for the whole library: Node's own, present on Node 20, 22 and 24.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export * from '@peculiar/x509';
