import { readFileSync } from 'node:fs';

import type { ChannelModel } from 'amqplib';
import { connect, credentials } from 'amqplib';

/** Log in with SASL PLAIN: a username and a password or token (sent to the backend's user path). */
export interface PlainLogin {
  mechanism: 'PLAIN';
  username: string;
  /** Password or token; never logged, never part of an outcome. */
  password: string;
}

/** Log in with SASL EXTERNAL: the broker takes the username from the TLS client certificate. */
export interface ExternalLogin {
  mechanism: 'EXTERNAL';
}

/** TLS settings of an `amqps://` connection. */
export interface ClientTls {
  /** PEM of the CA(s) that verify the broker's certificate. */
  ca: string;
  /** PEM client certificate chain (leaf first); omit to connect without one. */
  cert?: string;
  /** PEM private key of `cert`. */
  key?: string;
  /** Lowest TLS version offered; default 'TLSv1.2'. */
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** Highest TLS version offered; default 'TLSv1.3'. */
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher string; e.g. 'DEFAULT@SECLEVEL=0' to be able to offer TLS 1.1 at all. */
  ciphers?: string;
}

/** What to connect to and how to log in. */
export interface AmqpConnectRequest {
  /** `amqp://host:port` or `amqps://host:port` (no credentials, no vhost in the URL). */
  url: string;
  login: PlainLogin | ExternalLogin;
  /** Virtual host; default '/'. */
  vhost?: string;
  /** Required for `amqps://`. */
  tls?: ClientTls;
  /** Give up on the TCP/TLS/AMQP handshake after this long; default 10000 ms. */
  timeoutMs?: number;
  /** Heartbeat asked for, in seconds; default 0 (none), so tests never see heartbeat closes. */
  heartbeatSeconds?: number;
}

/** The broker let the client in. Close `connection` when done. */
export interface AmqpConnected {
  kind: 'connected';
  connection: ChannelModel;
  elapsedMs: number;
}

/** The broker refused the login: `connection.close` 403 ACCESS_REFUSED during the handshake. */
export interface AmqpRefused {
  kind: 'refused';
  replyCode: 403;
  message: string;
  elapsedMs: number;
}

/** The broker closed the connection during the handshake with another code (530 vhost denied, 541…). */
export interface AmqpClosed {
  kind: 'closed';
  replyCode: number;
  message: string;
  elapsedMs: number;
}

/** TLS failed: an alert from the broker (`alert`, e.g. 'certificate_required') or a local TLS error. */
export interface AmqpTlsFailure {
  kind: 'tls-failure';
  /** The TLS alert name, lower case, when the error names one. */
  alert: string | undefined;
  /** Node's error code, e.g. 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'. */
  errorCode: string;
  message: string;
  elapsedMs: number;
}

/** The socket failed or closed without a TLS or AMQP verdict (refused port, reset, timeout). */
export interface AmqpSocketFailure {
  kind: 'socket-error';
  errorCode: string;
  message: string;
  elapsedMs: number;
}

/** Every way a connection attempt can end; scenarios assert on `kind` and its details. */
export type AmqpOutcome =
  AmqpConnected | AmqpRefused | AmqpClosed | AmqpTlsFailure | AmqpSocketFailure;

/**
 * Opens an AMQP 0-9-1 connection and reports how it ended instead of throwing. Nagle is always
 * off (`noDelay`): amqplib leaves it on, which adds ~45 ms to every connect (RABBITMQ.md 6).
 */
export async function connectAmqp(request: AmqpConnectRequest): Promise<AmqpOutcome> {
  const url = new URL(request.url);
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  try {
    const connection = await connect(
      {
        protocol: url.protocol.replace(':', ''),
        hostname: url.hostname,
        port: Number(url.port),
        vhost: encodeURIComponent(request.vhost ?? '/'),
        heartbeat: request.heartbeatSeconds ?? 0,
      },
      amqpSocketOptions(request),
    );
    return { kind: 'connected', connection, elapsedMs: elapsed() };
  } catch (error) {
    return classifyFailure(error, elapsed());
  }
}

/** The amqplib socket options of a request (Nagle off, TLS 1.2+ by default). */
export function amqpSocketOptions(request: AmqpConnectRequest) {
  const login =
    request.login.mechanism === 'PLAIN'
      ? credentials.plain(request.login.username, request.login.password)
      : credentials.external();
  const tls = request.tls;
  return {
    noDelay: true,
    timeout: request.timeoutMs ?? 10_000,
    credentials: login,
    ...(tls && {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      minVersion: tls.minVersion ?? 'TLSv1.2',
      maxVersion: tls.maxVersion ?? 'TLSv1.3',
      ...(tls.ciphers !== undefined && { ciphers: tls.ciphers }),
      servername: 'localhost',
    }),
  };
}

/** Sorts an amqplib or socket error into an outcome (exported for tests of the sorting). */
export function classifyFailure(
  error: unknown,
  elapsedMs: number,
): Exclude<AmqpOutcome, AmqpConnected> {
  const message = error instanceof Error ? error.message : String(error);
  const errorCode = String((error as { code?: unknown } | undefined)?.code ?? '');
  const handshakeClose = /terminated by server: (\d+)/.exec(message);
  const openClose = /Expected ConnectionOpenOk; got[\s\S]*?replyCode\W+(\d+)/.exec(message);
  const replyCode = Number(handshakeClose?.[1] ?? openClose?.[1] ?? NaN);
  if (replyCode === 403) return { kind: 'refused', replyCode, message, elapsedMs };
  if (!Number.isNaN(replyCode)) return { kind: 'closed', replyCode, message, elapsedMs };
  if (errorCode.startsWith('ERR_SSL_') || errorCode.startsWith('ERR_TLS_')) {
    return { kind: 'tls-failure', alert: alertName(errorCode), errorCode, message, elapsedMs };
  }
  return { kind: 'socket-error', errorCode: errorCode || 'UNKNOWN', message, elapsedMs };
}

// ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED -> certificate_expired (OpenSSL names alerts by the
// protocol version that introduced them; the name after ALERT_ is the RFC 8446 6.2 alert).
function alertName(errorCode: string): string | undefined {
  const match = /_ALERT_([A-Z_]+)$/.exec(errorCode);
  return match?.[1]?.toLowerCase();
}

/** Client TLS settings from PEM files (CA bundle, and optionally a client chain and key). */
export function clientTlsFromFiles(files: {
  caPath: string;
  certPath?: string;
  keyPath?: string;
}): ClientTls {
  return {
    ca: readFileSync(files.caPath, 'utf8'),
    ...(files.certPath && { cert: readFileSync(files.certPath, 'utf8') }),
    ...(files.keyPath && { key: readFileSync(files.keyPath, 'utf8') }),
  };
}

/** Closes a connected outcome, ignoring errors (the broker may have closed it already). */
export async function closeOutcome(outcome: AmqpOutcome): Promise<void> {
  if (outcome.kind !== 'connected') return;
  try {
    await outcome.connection.close();
  } catch {
    // Already closed by the broker or the socket: nothing left to release.
  }
}
