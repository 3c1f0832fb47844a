import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';

import type { CertificateAuthority } from '../../certs/index.js';
import { openCa } from '../../certs/index.js';
import { ErrorCode, WarrenError } from '../../lib/errors.js';
import {
  renderAdvancedConfig,
  renderDefinitions,
  renderEnabledPlugins,
  renderRabbitmqConf,
} from './config-files.js';
import type { NodeHandle } from './ctl.js';
import { hostRabbitmqBin } from './install.js';
import type { InstanceLayout } from './layout.js';
import { brokerPath, claimSlot, hostPath, prepareLayout } from './layout.js';
import type { BrokerOptions, ResolvedBrokerOptions } from './options.js';
import { defaultInstance, resolveBrokerOptions } from './options.js';
import { rootfsStatus, writeRootHosts } from './rootfs.js';
import type { BrokerTlsFiles } from './tls-material.js';
import { brokerTlsFiles, prepareTlsFiles } from './tls-material.js';
import type { BrokerPorts } from './versions.js';
import { portsForSlot, versionProfile } from './versions.js';

/** Files of an instance as the host sees them; the generated ones are readable on purpose. */
export interface BrokerFiles {
  rabbitmqConf: string;
  advancedConfig: string;
  enabledPlugins: string;
  definitions: string;
  /** The node's own log (RabbitMQ's `log.file`). */
  log: string;
  /** stdout/stderr of the launcher and epmd (early boot failures land here). */
  consoleLog: string;
}

/** URLs of a broker's listeners (all on 127.0.0.1). */
export interface BrokerEndpoints {
  amqpUrl: string;
  amqpsUrl: string;
  managementUrl: string;
}

/** A broker whose files are written and ports chosen, not started. */
export interface ConfiguredBroker {
  readonly status: 'configured';
  options: ResolvedBrokerOptions;
  nodeName: string;
  ports: BrokerPorts;
  layout: InstanceLayout;
  files: BrokerFiles;
  tls: BrokerTlsFiles;
  endpoints: BrokerEndpoints;
  /** How to run the node's scripts (rabbitmqctl, epmd). */
  node: NodeHandle;
}

/** Extra inputs of {@link configureBroker}. */
export interface ConfigureContext {
  /** CA issuing the server certificate and trusted for clients; default `openCa()` (.warren/ca). */
  ca?: CertificateAuthority;
}

/**
 * Resolves options, claims the instance's port slot, checks the ports are free and writes every
 * file the node needs: rabbitmq.conf, advanced.config, enabled_plugins, definitions, the Erlang
 * cookie and the TLS material. Nothing is started.
 */
export async function configureBroker(
  options: BrokerOptions,
  context: ConfigureContext = {},
): Promise<ConfiguredBroker> {
  const resolved = resolveBrokerOptions(options);
  const rootDir = installedRoot(resolved);
  const slot = await claimSlot(
    resolved.version,
    resolved.instance,
    resolved.instance === defaultInstance(resolved.version),
  );
  const ports = { ...portsForSlot(resolved.version, slot), ...resolved.portOverrides };
  await checkPortsFree(ports, resolved.instance);

  const layout = prepareLayout(resolved.instance, resolved.version, rootDir);
  if (rootDir !== '/') await writeRootHosts(rootDir);
  for (const folder of ['home', 'data', 'log']) {
    mkdirSync(hostPath(layout, folder), { recursive: true });
  }
  await writeCookie(layout);
  const tls = await prepareTlsFiles(context.ca ?? (await openCa()), layout);
  const files = await writeConfigFiles(resolved, ports, layout);

  const nodeName = `warren-${resolved.instance}@localhost`;
  return {
    status: 'configured',
    options: resolved,
    nodeName,
    ports,
    layout,
    files,
    tls,
    endpoints: endpointsFor(ports),
    node: { rootDir, nodeName, env: nodeEnv(nodeName, ports, layout) },
  };
}

/** Listener URLs for a set of ports. */
export function endpointsFor(ports: BrokerPorts): BrokerEndpoints {
  return {
    amqpUrl: `amqp://127.0.0.1:${ports.amqp}`,
    amqpsUrl: `amqps://127.0.0.1:${ports.amqps}`,
    managementUrl: `http://127.0.0.1:${ports.management}`,
  };
}

function installedRoot(options: ResolvedBrokerOptions): string {
  if (!versionProfile(options.version).chrooted) {
    if (!existsSync(`${hostRabbitmqBin}/rabbitmq-server`)) throw notInstalled(options);
    return '/';
  }
  const root = rootfsStatus();
  if (!root.complete) throw notInstalled(options);
  if (process.getuid?.() !== 0) {
    throw new WarrenError(
      ErrorCode.MissingDependency,
      'RabbitMQ 4.0 runs inside a chroot, which needs root; run as root or use --version 3.10',
    );
  }
  return root.dir;
}

function notInstalled(options: ResolvedBrokerOptions): WarrenError {
  return new WarrenError(
    ErrorCode.MissingDependency,
    `RabbitMQ ${options.version} is not installed; run: npm run broker -- install --version ` +
      options.version,
  );
}

async function checkPortsFree(ports: BrokerPorts, instance: string): Promise<void> {
  for (const [name, port] of Object.entries(ports)) {
    if (!(await isPortFree(port))) {
      throw new WarrenError(
        ErrorCode.PortInUse,
        `port ${port} (${name}) of broker instance ${instance} is taken on 127.0.0.1; ` +
          `stop what holds it or pass another port (--instance, or the ports option)`,
      );
    }
  }
}

/** True when nothing listens on 127.0.0.1:`port` (probed by binding it briefly). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

// The node and rabbitmqctl must share the cookie; writing it first avoids both racing to create it.
async function writeCookie(layout: InstanceLayout): Promise<void> {
  const path = hostPath(layout, 'home/.erlang.cookie');
  if (existsSync(path)) return;
  const cookie = randomBytes(24).toString('hex').toUpperCase();
  await writeFile(path, cookie, { mode: 0o400 });
}

async function writeConfigFiles(
  options: ResolvedBrokerOptions,
  ports: BrokerPorts,
  layout: InstanceLayout,
): Promise<BrokerFiles> {
  const tls = brokerTlsFiles(layout);
  const input = {
    options,
    ports,
    paths: {
      caBundle: tls.caBundlePath,
      serverChain: tls.serverChainPath,
      serverKey: tls.serverKeyPath,
      crlDir: tls.crlDir,
      definitions: brokerPath(layout, 'definitions.json'),
    },
  };
  const files: BrokerFiles = {
    rabbitmqConf: hostPath(layout, 'rabbitmq.conf'),
    advancedConfig: hostPath(layout, 'advanced.config'),
    enabledPlugins: hostPath(layout, 'enabled_plugins'),
    definitions: hostPath(layout, 'definitions.json'),
    log: hostPath(layout, 'log/rabbit.log'),
    consoleLog: hostPath(layout, 'console.log'),
  };
  await writeFile(files.rabbitmqConf, renderRabbitmqConf(input));
  await writeFile(files.advancedConfig, renderAdvancedConfig(input));
  await writeFile(files.enabledPlugins, renderEnabledPlugins());
  // Holds internal users' password hashes: owner-only.
  await writeFile(files.definitions, renderDefinitions(options.vhosts, options.internalUsers), {
    mode: 0o600,
  });
  await chmod(files.definitions, 0o600);
  // An empty env file keeps the machine's /etc/rabbitmq/rabbitmq-env.conf out of our node.
  await writeFile(hostPath(layout, 'rabbitmq-env.conf'), '# Warren: no overrides\n');
  return files;
}

/** Environment shared by the node and its CLI: every path and port, nothing from the caller. */
function nodeEnv(nodeName: string, ports: BrokerPorts, layout: InstanceLayout): string[] {
  const at = (relative: string) => brokerPath(layout, relative);
  return [
    `HOME=${at('home')}`,
    `ERL_EPMD_PORT=${ports.epmd}`,
    'ERL_EPMD_ADDRESS=127.0.0.1',
    `RABBITMQ_NODENAME=${nodeName}`,
    'RABBITMQ_NODE_IP_ADDRESS=127.0.0.1',
    `RABBITMQ_NODE_PORT=${ports.amqp}`,
    `RABBITMQ_DIST_PORT=${ports.distribution}`,
    `RABBITMQ_CONFIG_FILE=${at('rabbitmq.conf')}`,
    `RABBITMQ_ADVANCED_CONFIG_FILE=${at('advanced.config')}`,
    `RABBITMQ_CONF_ENV_FILE=${at('rabbitmq-env.conf')}`,
    `RABBITMQ_ENABLED_PLUGINS_FILE=${at('enabled_plugins')}`,
    `RABBITMQ_MNESIA_BASE=${at('data')}`,
    `RABBITMQ_LOG_BASE=${at('log')}`,
    `RABBITMQ_PID_FILE=${at('rabbit.pid')}`,
    // Distribution on loopback only; our own epmd is already up, the node must not spawn one.
    'RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}',
  ];
}
