/**
 * The staging target: someone else's broker and auth service, reached over the network. Warren
 * starts nothing there; faults on the auth service are the team's own commands (stop, pause,
 * restore), run without a shell. Credentials only ever come from environment variables named
 * in the file, never from the file itself, and never reach the journal.
 *
 * ```yaml
 * kind: staging
 * name: payments-staging
 * nonProduction: true          # required: the staging guard
 * amqpUrl: amqps://mq.staging.example:5671
 * managementUrl: https://mq.staging.example:15671
 * caFile: ./staging-ca.pem     # trust for amqps (optional)
 * principals:                  # names drills use; `intruder` is built in
 *   acme-producer: { username: svc-invoices, passwordEnv: STAGING_PRODUCER_TOKEN, vhost: acme }
 * auth:
 *   stop: [ssh, auth-1.staging, sudo, systemctl, stop, rabbit-auth]
 *   pause: [ssh, auth-1.staging, sudo, systemctl, kill, -s, STOP, rabbit-auth]
 *   restore: [ssh, auth-1.staging, sudo, systemctl, start, rabbit-auth]
 * broker:
 *   restart: [ssh, mq-1.staging, sudo, systemctl, restart, rabbitmq-server]
 * logs:                        # commands whose output is attached to failed steps
 *   broker: [ssh, mq-1.staging, sudo, tail, -n, '40', /var/log/rabbitmq/rabbit.log]
 * ```
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { z } from 'zod';

import { ErrorCode, WarrenError } from '../../lib/errors.js';

import { runCommand } from '../providers.js';

import { AmqpSessions, intruderLogin, type PrincipalResolver } from './amqp-sessions.js';
import type { StartedTarget, Target, TargetDescription, TargetOperation } from './target.js';

const argv = z.array(z.string().min(1)).min(1);

/**
 * Principals of remote targets, by the names drills use (a file may define `fresh:acme/producer`
 * to run the built-in drills). Passwords or tokens come from the named environment variables.
 */
export const PrincipalsSchema = z.record(
  z.string(),
  z.strictObject({
    username: z.string().min(1),
    passwordEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name'),
    vhost: z.string().optional(),
  }),
);

export const StagingTargetSchema = z.strictObject({
  kind: z.literal('staging'),
  name: z.string().min(1),
  nonProduction: z.boolean().optional(),
  amqpUrl: z
    .string()
    .regex(/^amqps?:\/\/[^/@]+$/, 'amqp(s)://host:port, without credentials or vhost'),
  managementUrl: z.string().url().optional(),
  caFile: z.string().optional(),
  principals: PrincipalsSchema.optional(),
  auth: z
    .strictObject({ stop: argv.optional(), pause: argv.optional(), restore: argv.optional() })
    .optional(),
  broker: z.strictObject({ restart: argv.optional() }).optional(),
  logs: z.record(z.string(), argv).optional(),
  /** Deadline for each user command; default 120000 ms. */
  commandTimeoutMs: z.number().int().positive().optional(),
});
export type StagingTargetFile = z.infer<typeof StagingTargetSchema>;

/** Builds a staging target from a validated file; `file` anchors relative paths. */
export function stagingTarget(config: StagingTargetFile, file: string): Target {
  const description: TargetDescription = {
    kind: 'staging',
    name: config.name,
    nonProduction: config.nonProduction === true,
  };
  const offered = operationNames(config);
  return {
    description,
    missing: async (wanted) => {
      const reasons: Record<string, string> = {};
      for (const name of wanted) {
        const why = missingReason(name, config);
        if (why) reasons[name] = why;
      }
      return reasons;
    },
    start: async (): Promise<StartedTarget> => {
      const tls = config.caFile
        ? { ca: readFileSync(resolve(dirname(file), config.caFile), 'utf8') }
        : undefined;
      const sessions = new AmqpSessions(() => config.amqpUrl, filePrincipals(config), tls);
      const operations = operationsOf(config, sessions);
      return {
        description,
        vars: {
          amqpUrl: config.amqpUrl,
          ...(config.managementUrl ? { managementUrl: config.managementUrl } : {}),
        },
        capabilities: new Set(offered),
        operations,
        recentLogs: (count) => collectLogs(config, count),
        stop: () => sessions.closeAll(),
      };
    },
  };
}

function operationNames(config: StagingTargetFile): string[] {
  const names = ['amqp'];
  if (config.auth?.stop && config.auth.restore) names.push('auth');
  if (config.broker?.restart) names.push('broker');
  return names;
}

function missingReason(capability: string, config: StagingTargetFile): string | undefined {
  if (operationNames(config).includes(capability)) return undefined;
  if (capability === 'auth') return 'the target file needs auth.stop and auth.restore commands';
  if (capability === 'broker') return 'the target file needs a broker.restart command';
  if (capability === 'auth-proxy')
    return 'staging has no Warren fault proxy in front of the auth service';
  return `staging targets do not offer "${capability}"`;
}

/** Principals from the file (passwords from the named environment variables) plus `intruder`. */
export function filePrincipals(config: Pick<StagingTargetFile, 'principals'>): PrincipalResolver {
  return (principal) => {
    if (principal === 'intruder') return intruderLogin();
    const entry = config.principals?.[principal];
    if (entry === undefined) {
      const known = Object.keys(config.principals ?? {}).join(', ') || 'none';
      throw new WarrenError(
        ErrorCode.BadInput,
        `principal "${principal}" is not under principals in the target file (known: ${known}, intruder)`,
      );
    }
    const password = process.env[entry.passwordEnv];
    if (password === undefined || password === '') {
      throw new WarrenError(
        ErrorCode.BadOption,
        `principal "${principal}": environment variable ${entry.passwordEnv} is not set`,
      );
    }
    return {
      login: { mechanism: 'PLAIN', username: entry.username, password },
      vhost: entry.vhost ?? '/',
    };
  };
}

function operationsOf(
  config: StagingTargetFile,
  sessions: AmqpSessions,
): Record<string, TargetOperation> {
  const timeoutMs = config.commandTimeoutMs ?? 120_000;
  const command = (
    what: string,
    line: readonly string[] | undefined,
  ): TargetOperation | undefined =>
    line
      ? async (_args, signal) => {
          const result = await runCommand(line, timeoutMs, signal);
          if (result.exitCode !== 0) {
            throw new WarrenError(
              ErrorCode.ProcessFailed,
              `${what} command exited with ${result.exitCode}: ${result.stderr.trim().slice(-300)}`,
            );
          }
          return { exitCode: 0, stdout: result.stdout.slice(-500) };
        }
      : undefined;
  const operations: Record<string, TargetOperation | undefined> = {
    'auth.stop': command('auth.stop', config.auth?.stop),
    'auth.pause': command('auth.pause', config.auth?.pause),
    'auth.restore': command('auth.restore', config.auth?.restore),
    'broker.restart': command('broker.restart', config.broker?.restart),
    'amqp.attempt': (args) => sessions.attempt(args),
    'amqp.open': (args) => sessions.open(args),
    'amqp.burst': (args) => sessions.burst(args),
    'amqp.prepare-queue': (args) => sessions.prepareQueue(args),
    'amqp.publish-confirmed': (args) => sessions.publishConfirmed(args),
    'amqp.check-delivery': (args) => sessions.checkDelivery(args),
  };
  return Object.fromEntries(
    Object.entries(operations).filter(
      (entry): entry is [string, TargetOperation] => entry[1] !== undefined,
    ),
  );
}

async function collectLogs(
  config: StagingTargetFile,
  count: number,
): Promise<Record<string, string[]>> {
  const logs: Record<string, string[]> = {};
  for (const [name, line] of Object.entries(config.logs ?? {})) {
    const result = await runCommand(line, 15_000, AbortSignal.timeout(15_000)).catch(
      (error: unknown) => ({
        exitCode: -1,
        stdout: '',
        stderr: String(error),
      }),
    );
    logs[name] = (result.stdout || result.stderr).split('\n').filter(Boolean).slice(-count);
  }
  return logs;
}
