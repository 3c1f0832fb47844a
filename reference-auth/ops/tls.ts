/**
 * HTTPS for the decision listener, with optional verification of the broker's client
 * certificate (Amazon MQ can present one: `aws.arns.auth_http.ssl_options.certfile`, RABBITMQ.md
 * section 5; self-hosted brokers through `auth_http.ssl_options.*`, section 4).
 *
 * - `require`: the TLS handshake itself refuses clients without a certificate from `caFile`.
 * - `request`: a certificate is asked for; one that does not verify is refused per request.
 * - `allowedClientNames` pins the broker: a certificate from the right CA but with another name
 *   (another tenant's workload certificate, say) gets `deny` on the decision paths.
 */
import { readFile } from 'node:fs/promises';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { PeerCertificate, TLSSocket } from 'node:tls';

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

import { AuthErrorCode, AuthServiceError } from '../errors.js';

/** The `tls` block of the configuration. */
export interface TlsSettings {
  certFile: string;
  keyFile: string;
  caFile: string;
  clientCertificate: 'none' | 'request' | 'require';
  allowedClientNames: readonly string[];
}

/** The broker-facing paths: refusals there answer `deny` with status 200, as the broker expects. */
const DECISION_PATHS = new Set(['/user', '/vhost', '/resource', '/topic']);

async function readPem(field: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new AuthServiceError(
      AuthErrorCode.BadConfig,
      `${field} "${path}" cannot be read (${code}); point it at a PEM file`,
      { cause: error },
    );
  }
}

/**
 * Reads the files named by the settings into node https options; undefined when neither
 * certificate nor key is set (plain HTTP). Throws AuthServiceError(BadConfig) naming the field
 * when the settings are incomplete or a file is unreadable.
 */
export async function loadHttpsOptions(tls: TlsSettings): Promise<HttpsServerOptions | undefined> {
  if (!tls.certFile && !tls.keyFile) {
    if (tls.clientCertificate !== 'none') {
      throw new AuthServiceError(
        AuthErrorCode.BadConfig,
        `tls.clientCertificate = ${tls.clientCertificate} needs HTTPS: set tls.certFile and tls.keyFile`,
      );
    }
    return undefined;
  }
  if (!tls.certFile || !tls.keyFile) {
    throw new AuthServiceError(
      AuthErrorCode.BadConfig,
      'tls.certFile and tls.keyFile must be set together',
    );
  }
  if (tls.clientCertificate !== 'none' && !tls.caFile) {
    throw new AuthServiceError(
      AuthErrorCode.BadConfig,
      `tls.clientCertificate = ${tls.clientCertificate} needs tls.caFile (the CA of the broker's certificate)`,
    );
  }
  const [cert, key, ca] = await Promise.all([
    readPem('tls.certFile', tls.certFile),
    readPem('tls.keyFile', tls.keyFile),
    tls.caFile ? readPem('tls.caFile', tls.caFile) : Promise.resolve(undefined),
  ]);
  return {
    cert,
    key,
    ...(ca ? { ca } : {}),
    minVersion: 'TLSv1.2',
    requestCert: tls.clientCertificate !== 'none',
    rejectUnauthorized: tls.clientCertificate === 'require',
  };
}

/** Names a peer certificate goes by: subject CN plus DNS and URI subject alternative names. */
export function certificateNames(certificate: PeerCertificate): string[] {
  const names: string[] = [];
  const cn = certificate.subject?.CN;
  if (typeof cn === 'string') names.push(cn);
  else if (Array.isArray(cn)) names.push(...(cn as string[]));
  for (const entry of (certificate.subjectaltname ?? '').split(', ')) {
    const match = /^(DNS|URI):(.+)$/.exec(entry);
    if (match?.[2]) names.push(match[2]);
  }
  return names;
}

/**
 * Adds the per-request client-certificate checks `request` mode and name pinning need. Does
 * nothing for plain HTTP or `none` without pinned names.
 */
export function registerClientCertificateCheck(
  app: FastifyInstance,
  tls: TlsSettings,
  logger: Pick<Logger, 'warn'>,
): void {
  if (tls.clientCertificate === 'none') return;
  const allowed = new Set(tls.allowedClientNames);

  app.addHook('onRequest', async (request, reply) => {
    const socket = request.raw.socket as TLSSocket;
    const certificate = socket.getPeerCertificate?.();
    const presented = certificate !== undefined && Object.keys(certificate).length > 0;
    let refusal: string | undefined;
    if (!presented) {
      if (tls.clientCertificate === 'require' || allowed.size > 0)
        refusal = 'no client certificate';
    } else if (!socket.authorized) {
      refusal = `client certificate not trusted (${String(socket.authorizationError)})`;
    } else if (allowed.size > 0 && !certificateNames(certificate).some((n) => allowed.has(n))) {
      refusal = 'client certificate name not in tls.allowedClientNames';
    }
    if (!refusal) return;

    logger.warn(
      { tls: refusal, names: presented ? certificateNames(certificate) : [], remote: request.ip },
      'request refused: client certificate',
    );
    const path = request.url.split('?', 1)[0] ?? '';
    if (DECISION_PATHS.has(path)) {
      return reply.code(200).header('cache-control', 'no-store').type('text/plain').send('deny');
    }
    return reply.code(403).send({ error: 'client_certificate_refused' });
  });
}
