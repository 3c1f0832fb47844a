/**
 * Amazon MQ for RabbitMQ: `npm run amazon-mq -- COMMAND [flags]`.
 *   generate  print rabbitmq.conf for HTTP auth + certificate login (aws.arns.* keys)
 *   apply     UpdateConfiguration → UpdateBroker → RebootBroker → poll DescribeBroker
 *   reboot    RebootBroker and poll until RUNNING (the chaos fault, by hand)
 *   standin   run Warren's LOCAL stand-in of the MQ API on 127.0.0.1 (AWS is not reachable here)
 * Against AWS, credentials come from the SDK's default chain (environment, profile, role).
 * Exit codes: 0 done, 2 bad input or the broker did not settle.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { applyConfiguration, createMqClient, rebootBroker } from '../chaos/amazon-mq/apply.js';
import { generateAmazonMqConfig } from '../chaos/amazon-mq/config.js';
import { startMqStandIn } from '../chaos/amazon-mq/standin.js';
import { ErrorCode, WarrenError, isWarrenError } from '../lib/errors.js';

const usage = `usage: npm run amazon-mq -- COMMAND [flags]
  generate --auth-url URL --assume-role-arn ARN [--client-ca-arn ARN] [--auth-server-ca-arn ARN]
           [--auth-client-cert-arn ARN --auth-client-key-arn ARN] [--auth-server-name NAME]
           [--cache-ttl-ms N] [--out FILE]
  apply    --region R --broker-id ID --configuration-id ID --file rabbitmq.conf [--endpoint URL]
  reboot   --region R --broker-id ID [--endpoint URL]
  standin  [--port N] [--reboot-ms N]      (local stand-in of the MQ API, NOT AWS)`;

const flags = {
  'auth-url': { type: 'string' },
  'assume-role-arn': { type: 'string' },
  'client-ca-arn': { type: 'string' },
  'auth-server-ca-arn': { type: 'string' },
  'auth-client-cert-arn': { type: 'string' },
  'auth-client-key-arn': { type: 'string' },
  'auth-server-name': { type: 'string' },
  'cache-ttl-ms': { type: 'string' },
  out: { type: 'string' },
  region: { type: 'string' },
  'broker-id': { type: 'string' },
  'configuration-id': { type: 'string' },
  file: { type: 'string' },
  endpoint: { type: 'string' },
  port: { type: 'string' },
  'reboot-ms': { type: 'string' },
  'poll-interval-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<
  typeof parseArgs<{ options: typeof flags; allowPositionals: true }>
>['values'];

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ options: flags, allowPositionals: true });
  const command = positionals[0];
  if (values.help || command === undefined) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  switch (command) {
    case 'generate':
      return generate(values);
    case 'apply':
      return apply(values);
    case 'reboot':
      return reboot(values);
    case 'standin':
      return standin(values);
    default:
      throw new WarrenError(ErrorCode.BadOption, `unknown command "${command}"\n${usage}`);
  }
}

async function generate(values: Values): Promise<number> {
  const text = generateAmazonMqConfig({
    authUrl: required(values['auth-url'], '--auth-url'),
    arns: {
      assumeRole: required(values['assume-role-arn'], '--assume-role-arn'),
      clientCa: values['client-ca-arn'],
      authServerCa: values['auth-server-ca-arn'],
      authClientCert: values['auth-client-cert-arn'],
      authClientKey: values['auth-client-key-arn'],
    },
    authServerName: values['auth-server-name'],
    cacheTtlMs:
      values['cache-ttl-ms'] === undefined
        ? undefined
        : whole(values['cache-ttl-ms'], '--cache-ttl-ms'),
  });
  if (values.out) await writeFile(values.out, text);
  else process.stdout.write(text);
  return 0;
}

async function apply(values: Values): Promise<number> {
  const client = clientFor(values);
  const text = await readFile(required(values.file, '--file'), 'utf8');
  const result = await applyConfiguration(
    client,
    {
      brokerId: required(values['broker-id'], '--broker-id'),
      configurationId: required(values['configuration-id'], '--configuration-id'),
    },
    text,
    { pollIntervalMs: pollInterval(values) },
  );
  console.log(
    `revision ${result.revision} is current; reboot took ${result.rebootMs} ms; state ${result.broker.brokerState}`,
  );
  return 0;
}

async function reboot(values: Values): Promise<number> {
  const result = await rebootBroker(
    clientFor(values),
    required(values['broker-id'], '--broker-id'),
    { pollIntervalMs: pollInterval(values) },
  );
  console.log(`rebooted in ${result.elapsedMs} ms (${result.states.join(' → ')})`);
  return 0;
}

async function standin(values: Values): Promise<number> {
  const standIn = await startMqStandIn({
    port: values.port === undefined ? 0 : whole(values.port, '--port'),
    rebootMs:
      values['reboot-ms'] === undefined ? undefined : whole(values['reboot-ms'], '--reboot-ms'),
  });
  console.log(`LOCAL stand-in of the Amazon MQ API (not AWS) on ${standIn.endpoint}`);
  console.log(
    `  broker ${standIn.brokerId}, configuration ${standIn.configurationId}; Ctrl-C stops it`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await standIn.close();
  return 0;
}

function clientFor(values: Values) {
  const endpoint = values.endpoint;
  const loopback =
    endpoint !== undefined && /^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(endpoint);
  return createMqClient({
    region: required(values.region, '--region'),
    endpoint,
    standInCredentials: loopback,
  });
}

function pollInterval(values: Values): number | undefined {
  return values['poll-interval-ms'] === undefined
    ? undefined
    : whole(values['poll-interval-ms'], '--poll-interval-ms');
}

function required(value: string | undefined, flag: string): string {
  if (value !== undefined && value !== '') return value;
  throw new WarrenError(ErrorCode.BadOption, `${flag} is required\n${usage}`);
}

function whole(value: string, flag: string): number {
  const number = Number(value);
  if (Number.isInteger(number) && number >= 0) return number;
  throw new WarrenError(ErrorCode.BadOption, `${flag} must be a whole number, got "${value}"`);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(isWarrenError(error) ? `${error.code}: ${error.message}` : error);
    process.exitCode = 2;
  },
);
