/**
 * The Amazon MQ target: a broker managed by AWS. Its fault is a reboot (RebootBroker, polled
 * with DescribeBroker until RUNNING); AMQP probes work when `amqpUrl` and principals are given.
 * Warren starts and stops nothing there. From these machines only the local stand-in of the MQ
 * API (`endpoint:`) can be reached; see chaos/README.md.
 *
 * ```yaml
 * kind: amazon-mq
 * name: invoices-mq-staging
 * nonProduction: true
 * region: eu-west-1
 * brokerId: b-0a1b2c3d-...
 * amqpUrl: amqps://b-0a1b2c3d-....mq.eu-west-1.amazonaws.com:5671   # optional
 * principals: { 'fresh:acme/producer': { username: svc-invoices, passwordEnv: MQ_TOKEN, vhost: acme } }
 * ```
 */
import { z } from 'zod';

import { createMqClient, describe, rebootBroker } from '../amazon-mq/apply.js';

import { AmqpSessions } from './amqp-sessions.js';
import { PrincipalsSchema, filePrincipals } from './staging.js';
import type { StartedTarget, Target, TargetDescription, TargetOperation } from './target.js';

export const AmazonMqTargetSchema = z.strictObject({
  kind: z.literal('amazon-mq'),
  name: z.string().min(1),
  nonProduction: z.boolean().optional(),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1'),
  brokerId: z.string().min(1),
  /** The local stand-in (`npm run amazon-mq -- standin`); unset: real AWS. */
  endpoint: z.string().url().optional(),
  amqpUrl: z
    .string()
    .regex(/^amqps?:\/\/[^/@]+$/, 'amqp(s)://host:port, without credentials')
    .optional(),
  principals: PrincipalsSchema.optional(),
  /** Between DescribeBroker polls; default 5000 ms. */
  pollIntervalMs: z.number().int().positive().optional(),
  /** How long a reboot may take; default 1200000 ms. */
  rebootDeadlineMs: z.number().int().positive().optional(),
});
export type AmazonMqTargetFile = z.infer<typeof AmazonMqTargetSchema>;

/** Builds an Amazon MQ target from a validated file. */
export function amazonMqTarget(config: AmazonMqTargetFile): Target {
  const description: TargetDescription = {
    kind: 'amazon-mq',
    name: config.name,
    nonProduction: config.nonProduction === true,
  };
  const capabilities = ['broker', ...(config.amqpUrl ? ['amqp'] : [])];
  return {
    description,
    missing: async (wanted) =>
      Object.fromEntries(
        wanted
          .filter((name) => !capabilities.includes(name))
          .map((name) => [
            name,
            name === 'amqp'
              ? 'the target file needs amqpUrl and principals'
              : `Amazon MQ targets do not offer "${name}"`,
          ]),
      ),
    start: async (): Promise<StartedTarget> => {
      const client = createMqClient({
        region: config.region,
        endpoint: config.endpoint,
        standInCredentials: isLoopback(config.endpoint),
      });
      const poll = {
        pollIntervalMs: config.pollIntervalMs ?? 5000,
        deadlineMs: config.rebootDeadlineMs ?? 1_200_000,
      };
      const sessions = config.amqpUrl
        ? new AmqpSessions(() => config.amqpUrl ?? '', filePrincipals(config))
        : undefined;
      const operations: Record<string, TargetOperation> = {
        'broker.restart': (_args, signal) =>
          rebootBroker(client, config.brokerId, { ...poll, signal }),
        'amazon-mq.describe': () => describe(client, config.brokerId),
        ...(sessions
          ? {
              'amqp.attempt': (args) => sessions.attempt(args),
              'amqp.open': (args) => sessions.open(args),
              'amqp.burst': (args) => sessions.burst(args),
              'amqp.prepare-queue': (args) => sessions.prepareQueue(args),
              'amqp.publish-confirmed': (args) => sessions.publishConfirmed(args),
              'amqp.check-delivery': (args) => sessions.checkDelivery(args),
            }
          : {}),
      };
      return {
        description,
        vars: {
          brokerId: config.brokerId,
          region: config.region,
          ...(config.amqpUrl ? { amqpUrl: config.amqpUrl } : {}),
        },
        capabilities: new Set(capabilities),
        operations,
        recentLogs: async () => ({}),
        stop: async () => {
          await sessions?.closeAll();
          client.destroy();
        },
      };
    },
  };
}

/** Fixed fake credentials are only ever sent to a loopback stand-in. */
function isLoopback(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return false;
  const host = new URL(endpoint).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}
