/**
 * Helpers shared by the real-broker tests (`*.broker.test.ts`): a fresh CA per test file, client
 * TLS settings for issued certificates, and a permissive-by-rule recording backend.
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';

import type { CertificateAuthority, IssuedCertificate } from '../../certs/index.js';
import { openCa } from '../../certs/index.js';
import { stateDir } from '../../lib/paths.js';
import type { ClientTls } from '../amqp/index.js';
import type { RunningBroker } from '../broker/index.js';
import type { RecordedCall } from '../recorder/index.js';

/** A new, empty CA under `<state>/test/<name>` (each test file its own: CAs are single-writer). */
export async function freshCa(name: string): Promise<CertificateAuthority> {
  const dir = stateDir('test', name);
  await rm(dir, { recursive: true, force: true });
  return openCa({ dir });
}

/** Client TLS for `broker`, presenting `cert` (or no certificate when omitted). */
export function tlsFor(broker: RunningBroker, cert?: IssuedCertificate): ClientTls {
  return {
    ca: readFileSync(broker.tls.caBundlePath, 'utf8'),
    ...(cert && {
      cert: readFileSync(cert.chainPath, 'utf8'),
      key: readFileSync(cert.keyPath, 'utf8'),
    }),
  };
}

/**
 * Backend rule for tests: lets every login and vhost in, allows resources and topics whose name
 * starts with `allowedPrefix` or is a built-in `amq.` exchange; denies everything else.
 */
export function testRule(allowedPrefix: string) {
  return (call: RecordedCall): string => {
    if (call.path.endsWith('/user') || call.path.endsWith('/vhost')) return 'allow';
    const name = call.params['name'] ?? '';
    return name.startsWith(allowedPrefix) || name.startsWith('amq.') ? 'allow' : 'deny';
  };
}
