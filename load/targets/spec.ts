/**
 * What a scenario may aim at, as plain data: scenarios cross into worker threads and into
 * result files, so a target is described here and built inside each worker.
 * Secrets (tokens) never appear in a spec; the run passes them to workers separately.
 */
import { z } from 'zod';
import { backendPathsSchema } from '../../harness/auth-http/paths.js';

const url = z.string().regex(/^https?:\/\/[^/]+/, 'an http:// or https:// URL');

/** One plain request per iteration: for benchmarks and smoke runs. */
export const httpTargetSchema = z.object({
  kind: z.literal('http'),
  url,
  /** Default GET. */
  method: z.enum(['GET', 'POST']).default('GET'),
  /** POST body, sent as application/x-www-form-urlencoded. */
  body: z.string().optional(),
  /** Keep-alive connections per worker; default 64 (a generic client, not the broker's). */
  connections: z.number().int().positive().default(64),
  /** Per-request deadline; default 15000 ms, the broker's `auth_http.request_timeout`. */
  timeoutMs: z.number().int().positive().default(15_000),
});

/** Weights of credential kinds in the mix (normalised; default all valid). */
const credentialMixSchema = z
  .object({
    valid: z.number().min(0).default(1),
    invalid: z.number().min(0).default(0),
    expired: z.number().min(0).default(0),
  })
  .default({ valid: 1, invalid: 0, expired: 0 });

/**
 * The broker's call pattern against an HTTP auth backend, one simulated AMQP connection per
 * iteration: user → vhost → resource checks → one topic check per distinct routing key
 * (RABBITMQ.md sections 1 and 3), with a pool shaped like the broker's httpc.
 */
export const authHttpTargetSchema = z.object({
  kind: z.literal('auth-http'),
  /** Base URL of the decision listener, e.g. http://127.0.0.1:8600. */
  url,
  /** Default GET, the broker's default (`auth_http.http_method`). */
  method: z.enum(['GET', 'POST']).default('GET'),
  /** Request paths under `url`. */
  paths: backendPathsSchema,
  /** PLAIN sends a JWT as the password; EXTERNAL sends only the certificate username. */
  mechanism: z.enum(['PLAIN', 'EXTERNAL']).default('PLAIN'),
  tenant: z.string().default('acme'),
  /** Workload class claimed by tokens (the `workload` claim). */
  workload: z.enum(['producer', 'consumer', 'admin']).default('producer'),
  /**
   * EXTERNAL: certificate usernames (as the broker derives them) cycled through; default the
   * workload's SPIFFE ID, e.g. spiffe://warren.test/ns/acme/sa/invoice-producer.
   */
  identities: z.array(z.string().min(1)).default([]),
  /** Distinct usernames cycled through; each simulated connection uses the next one. */
  users: z.number().int().positive().default(100),
  /** Resource checks after the vhost check, in order (`{tenant}` is substituted). */
  resources: z
    .array(
      z.object({
        resource: z.enum(['exchange', 'queue']),
        name: z.string(),
        permission: z.enum(['configure', 'write', 'read']),
      }),
    )
    .default([
      { resource: 'exchange', name: '{tenant}.invoices', permission: 'configure' },
      { resource: 'exchange', name: '{tenant}.invoices', permission: 'write' },
    ]),
  /** Topic checks: one per distinct routing key, on `exchange`. */
  topics: z
    .object({
      exchange: z.string().default('{tenant}.invoices'),
      permission: z.enum(['write', 'read']).default('write'),
      routingKeys: z.array(z.string()).default(['{tenant}.invoices.eu', '{tenant}.invoices.us']),
    })
    .default({
      exchange: '{tenant}.invoices',
      permission: 'write',
      routingKeys: ['{tenant}.invoices.eu', '{tenant}.invoices.us'],
    }),
  /** Keep-alive sessions per worker, as httpc's default profile keeps per host; default 2. */
  keepAliveSessions: z.number().int().positive().default(2),
  /**
   * Requests waiting per keep-alive session before a one-off `Connection: close` connection
   * is opened for the next request (httpc's burst behaviour); default 5.
   */
  queuePerSession: z.number().int().positive().default(5),
  credentials: credentialMixSchema,
  /** Per-request deadline; default 15000 ms, the broker's `auth_http.request_timeout`. */
  timeoutMs: z.number().int().positive().default(15_000),
});

/**
 * AMQP connection storms through a real broker: each iteration opens one connection (PLAIN with
 * a minted JWT, or EXTERNAL with a client certificate), opens a confirm channel, publishes one
 * message and waits for its confirm, then closes; every phase is timed.
 */
export const amqpConnectTargetSchema = z.object({
  kind: z.literal('amqp-connect'),
  /** amqp://host:port or amqps://host:port (TLS). */
  url: z.string().regex(/^amqps?:\/\/[^/]+$/, 'an amqp:// or amqps:// URL without a path'),
  mechanism: z.enum(['PLAIN', 'EXTERNAL']).default('PLAIN'),
  tenant: z.string().default('acme'),
  /** Default: the tenant's vhost. */
  vhost: z.string().optional(),
  workload: z.enum(['producer', 'consumer', 'admin']).default('producer'),
  users: z.number().int().positive().default(100),
  credentials: credentialMixSchema,
  /** PEM files: `ca` verifies the broker; `cert`/`key` are the client certificate (EXTERNAL). */
  tls: z
    .object({ caPath: z.string(), certPath: z.string().optional(), keyPath: z.string().optional() })
    .optional(),
  /** The first publish, confirmed; `null` stops after the channel opens. */
  publish: z
    .object({
      exchange: z.string().default('{tenant}.invoices'),
      routingKey: z.string().default('{tenant}.invoices.eu'),
      /** Declare the exchange (topic, durable) first, as a producer does; default true. */
      declare: z.boolean().default(true),
    })
    .nullable()
    .default({ exchange: '{tenant}.invoices', routingKey: '{tenant}.invoices.eu', declare: true }),
  /** Handshake deadline; default 10000 ms, the broker's own handshake timeout. */
  timeoutMs: z.number().int().positive().default(10_000),
});

export const targetSchema = z.discriminatedUnion('kind', [
  httpTargetSchema,
  authHttpTargetSchema,
  amqpConnectTargetSchema,
]);

export type HttpTargetSpec = z.infer<typeof httpTargetSchema>;
export type AuthHttpTargetSpec = z.infer<typeof authHttpTargetSchema>;
export type AmqpConnectTargetSpec = z.infer<typeof amqpConnectTargetSchema>;
export type TargetSpec = z.infer<typeof targetSchema>;

/** Credentials the run mints before it starts and hands to workers; never written anywhere. */
export interface TargetSecrets {
  /** Per credential kind, tokens indexed by user number (PLAIN only). */
  tokens?: { valid: string[]; invalid: string[]; expired: string[] };
}
