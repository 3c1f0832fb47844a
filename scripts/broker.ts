/**
 * `npm run broker -- install|up|down|status|logs [flags]`: local RabbitMQ 3.10 and 4.0 brokers
 * with the HTTP auth backend and a mutual-TLS listener. See harness/broker/README.md.
 */
import { parseArgs } from 'node:util';

import type { BrokerOptions, BrokerVersion, CertLoginFrom } from '../harness/broker/index.js';
import {
  brokerLogTail,
  brokerVersions,
  defaultInstanceOf,
  installBroker,
  isBrokerVersion,
  listBrokers,
  measureBootTimes,
  purgeBroker,
  startBroker,
  stopBroker,
} from '../harness/broker/index.js';
import { ErrorCode, WarrenError } from '../lib/errors.js';

const usage = `usage: npm run broker -- <command> [flags]
commands:
  install   install what the versions need (apt packages, the 4.0 debootstrap root)
  up        start brokers and wait until ready; prints endpoints and config files
  down      stop brokers (node and epmd, by recorded PID)
  status    list brokers (--json: version and amqp/amqps/management URLs of each)
  logs      print the end of a broker's log (--lines N, default 60)
  bench     measure first-boot, warm-boot and stop times (--runs N warm runs, default 3)
flags:
  --version 3.10|4.0|all      default all
  --instance NAME             a named extra instance (one version only); default v3-10 / v4-0
  --backend URL               HTTP auth backend; default http://127.0.0.1:8600
  --http-method post|get      default post
  --cache                     put the cache backend in front of http
  --cache-ttl-ms N            cache TTL; default 15000
  --cert-login-from distinguished_name|common_name|uri_san   default distinguished_name
  --no-crl-check              do not check client certificates against CRLs
  --fallback-internal         chain the internal backend after http (fail-open, for probes)
  --auth-timeout-ms N         auth_http request/connection timeout; default 2000
  --purge                     with down: also delete the instance's data, logs and config
  --json                      machine-readable output (status, up)`;

const flagSpec = {
  version: { type: 'string', default: 'all' },
  instance: { type: 'string' },
  backend: { type: 'string' },
  'http-method': { type: 'string' },
  cache: { type: 'boolean', default: false },
  'cache-ttl-ms': { type: 'string' },
  'cert-login-from': { type: 'string' },
  'no-crl-check': { type: 'boolean', default: false },
  'fallback-internal': { type: 'boolean', default: false },
  'auth-timeout-ms': { type: 'string' },
  purge: { type: 'boolean', default: false },
  lines: { type: 'string', default: '60' },
  runs: { type: 'string', default: '3' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

type Flags = ReturnType<typeof parseFlags>['values'];

function parseFlags(argv: string[]) {
  return parseArgs({ args: argv, options: flagSpec, allowPositionals: true, strict: true });
}

function selectedVersions(flags: Flags): BrokerVersion[] {
  if (flags.version === 'all') {
    if (flags.instance) throw badFlag('--instance needs one --version (3.10 or 4.0)');
    return [...brokerVersions];
  }
  if (!isBrokerVersion(flags.version)) {
    throw badFlag(`--version ${flags.version}: use 3.10, 4.0 or all`);
  }
  return [flags.version];
}

function brokerOptions(version: BrokerVersion, flags: Flags): BrokerOptions {
  return {
    version,
    instance: flags.instance,
    backendUrl: flags.backend,
    httpMethod: flags['http-method'] as BrokerOptions['httpMethod'],
    cache: flags.cache ? { ttlMs: optionalInt(flags['cache-ttl-ms'], '--cache-ttl-ms') } : false,
    certLoginFrom: flags['cert-login-from'] as CertLoginFrom | undefined,
    crlCheck: !flags['no-crl-check'],
    fallbackInternal: flags['fallback-internal'],
    authTimeoutMs: optionalInt(flags['auth-timeout-ms'], '--auth-timeout-ms'),
  };
}

async function install(versions: BrokerVersion[]): Promise<void> {
  for (const version of versions) {
    const result = await installBroker(version, (line) => console.error(`install: ${line}`));
    console.log(`RabbitMQ ${version}: ${result.action} (root ${result.rootDir})`);
  }
}

async function up(versions: BrokerVersion[], flags: Flags): Promise<void> {
  for (const version of versions) {
    await installBroker(version, (line) => console.error(`install: ${line}`));
    const broker = await startBroker(brokerOptions(version, flags));
    if (flags.json) {
      console.log(
        JSON.stringify({ instance: broker.options.instance, version, ...broker.endpoints }),
      );
      continue;
    }
    const how = broker.reused ? 'already running' : `ready in ${broker.bootMs} ms`;
    console.log(
      `RabbitMQ ${version} (instance ${broker.options.instance}, ${broker.nodeName}): ${how}`,
    );
    console.log(`  amqp:        ${broker.endpoints.amqpUrl}`);
    console.log(`  amqps:       ${broker.endpoints.amqpsUrl}  (mutual TLS; EXTERNAL and PLAIN)`);
    console.log(`  management:  ${broker.endpoints.managementUrl}`);
    console.log(`  backend:     ${broker.options.backendUrl} (${broker.options.httpMethod})`);
    console.log(`  config:      ${broker.files.rabbitmqConf}`);
    console.log(`               ${broker.files.advancedConfig}`);
    console.log(`  CA bundle:   ${broker.tls.caBundlePath}`);
    console.log(`  log:         ${broker.files.log}`);
  }
}

async function down(versions: BrokerVersion[], flags: Flags): Promise<void> {
  const recorded = listBrokers()
    .filter((b) => versions.includes(b.version))
    .map((b) => b.instance);
  // --purge without --instance also clears the default instances, which may have no state left.
  const defaults = flags.purge ? versions.map(defaultInstanceOf) : [];
  const instances = flags.instance ? [flags.instance] : [...new Set([...recorded, ...defaults])];
  if (instances.length === 0) console.log('no Warren brokers recorded; nothing to stop');
  for (const instance of instances) {
    const result = await stopBroker(instance);
    const what = result.stoppedPids.length
      ? `stopped PIDs ${result.stoppedPids.join(', ')}`
      : 'not running';
    console.log(`${instance}: ${what}`);
    if (flags.purge) {
      await purgeBroker(instance);
      console.log(`${instance}: data, logs and config deleted`);
    }
  }
}

function status(versions: BrokerVersion[], flags: Flags): void {
  const brokers = listBrokers().filter((b) => versions.includes(b.version));
  if (flags.json) {
    const running = brokers
      .filter((b) => b.health !== 'stopped')
      .map((b) => ({
        instance: b.instance,
        version: b.version,
        health: b.health,
        ready: b.ready,
        amqp: b.endpoints.amqpUrl,
        amqps: b.endpoints.amqpsUrl,
        management: b.endpoints.managementUrl,
      }));
    console.log(JSON.stringify(running, null, 2));
    return;
  }
  if (brokers.length === 0) console.log('no Warren brokers running');
  for (const b of brokers) {
    console.log(`${b.instance} (RabbitMQ ${b.version}, ${b.nodeName}): ${b.health}`);
    console.log(`  ${b.endpoints.amqpUrl}  ${b.endpoints.amqpsUrl}  ${b.endpoints.managementUrl}`);
  }
}

function logs(versions: BrokerVersion[], flags: Flags): void {
  const lines = optionalInt(flags.lines, '--lines') ?? 60;
  const instances = flags.instance ? [flags.instance] : versions.map(defaultInstanceOf);
  for (const instance of instances) {
    console.log(`==> ${instance}`);
    console.log(brokerLogTail(instance, lines) || '(no log yet)');
  }
}

async function bench(versions: BrokerVersion[], flags: Flags): Promise<void> {
  const runs = optionalInt(flags.runs, '--runs') ?? 3;
  for (const version of versions) {
    await installBroker(version, (line) => console.error(`install: ${line}`));
    const times = await measureBootTimes(version, runs);
    if (flags.json) {
      console.log(JSON.stringify(times));
      continue;
    }
    const list = (values: number[]) => values.map((ms) => `${ms}`).join(', ');
    console.log(`RabbitMQ ${version}: first boot ${times.firstBootMs} ms`);
    console.log(`  warm boots (ms): ${list(times.warmBootMs)}`);
    console.log(`  stops (ms):      ${list(times.stopMs)}`);
  }
}

function optionalInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw badFlag(`${flag} ${value}: a positive integer`);
  return parsed;
}

function badFlag(message: string): WarrenError {
  return new WarrenError(ErrorCode.BadOption, message);
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const [command] = parsed.positionals;
  if (parsed.values.help || command === undefined) {
    console.log(usage);
    return command === undefined && !parsed.values.help ? 2 : 0;
  }
  const flags = parsed.values;
  const versions = selectedVersions(flags);
  switch (command) {
    case 'install':
      await install(versions);
      return 0;
    case 'up':
      await up(versions, flags);
      return 0;
    case 'down':
      await down(versions, flags);
      return 0;
    case 'status':
      status(versions, flags);
      return 0;
    case 'logs':
      logs(versions, flags);
      return 0;
    case 'bench':
      await bench(versions, flags);
      return 0;
    default:
      console.error(`unknown command "${command}"\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof WarrenError) {
      console.error(`${error.code}: ${error.message}`);
      process.exitCode = error.code === ErrorCode.BadOption ? 2 : 1;
    } else {
      console.error(error);
      process.exitCode = 1;
    }
  },
);
