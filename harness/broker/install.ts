import { accessSync, constants, existsSync, readdirSync } from 'node:fs';

import { ErrorCode, WarrenError } from '../../lib/errors.js';
import { runChecked } from './processes.js';
import { buildRootfs, rootfsStatus } from './rootfs.js';
import type { BrokerVersion } from './versions.js';

/** Receives progress lines of long steps (apt, debootstrap); library code never prints. */
export type ProgressLog = (line: string) => void;

/** Where the host's RabbitMQ 3.10 package puts its scripts. */
export const hostRabbitmqBin = '/usr/lib/rabbitmq/bin';
const hostRabbitmqLib = '/usr/lib/rabbitmq/lib';

/** What {@link installBroker} found or did. */
export interface InstallResult {
  version: BrokerVersion;
  /** 'present' when nothing was missing. */
  action: 'present' | 'installed';
  /** Root the node runs in: '/' for the host, the debootstrap root for 4.0. */
  rootDir: string;
}

/**
 * Makes sure everything a version needs is installed: for 3.10 the host's Debian (bookworm)
 * `rabbitmq-server` and `openssl`; for 4.0 `debootstrap` on the host and a trixie root holding
 * `rabbitmq-server`. Installs missing pieces with apt when running as root, otherwise fails with
 * WARREN_ERR_MISSING_DEPENDENCY naming the command to run. Never installs trixie packages into
 * the host.
 */
export async function installBroker(
  version: BrokerVersion,
  log: ProgressLog = () => {},
): Promise<InstallResult> {
  const missing = missingHostPackages(version);
  let action: InstallResult['action'] = 'present';
  if (missing.length > 0) {
    await aptInstall(missing, log);
    action = 'installed';
  }
  if (version === '3.10') {
    checkHostRabbitmqVersion();
    return { version, action, rootDir: '/' };
  }
  const status = rootfsStatus();
  if (!status.complete) {
    if (process.getuid?.() !== 0) {
      throw new WarrenError(
        ErrorCode.MissingDependency,
        `the RabbitMQ 4.0 root ${status.dir} is missing and building it (debootstrap, chroot) ` +
          'needs root: sudo npm run broker -- install --version 4.0, or point ' +
          'WARREN_ROOTFS_DIR at a root built before',
      );
    }
    await buildRootfs(log);
    action = 'installed';
  }
  return { version, action, rootDir: status.dir };
}

/** Host Debian packages missing for `version` (empty when all are there). */
export function missingHostPackages(version: BrokerVersion): string[] {
  const missing: string[] = [];
  if (!existsSync('/usr/bin/openssl')) missing.push('openssl');
  if (version === '3.10' && !existsSync(`${hostRabbitmqBin}/rabbitmq-server`)) {
    missing.push('rabbitmq-server');
  }
  if (version === '4.0' && !rootfsStatus().complete && !existsSync('/usr/sbin/debootstrap')) {
    missing.push('debootstrap');
  }
  return missing;
}

let aptUpdated = false;

async function aptInstall(packages: string[], log: ProgressLog): Promise<void> {
  if (!canUseApt()) {
    throw new WarrenError(
      ErrorCode.MissingDependency,
      `missing Debian packages: ${packages.join(', ')}. Run as root (Warren installs them), ` +
        `or install them yourself: sudo apt-get install -y ${packages.join(' ')}`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // One `apt-get update` per process: it is the slow part and the lists do not change meanwhile.
  if (!aptUpdated) {
    log('apt-get update');
    await runChecked('/usr/bin/apt-get', ['update', '-q'], { env, timeoutMs: 600_000 });
    aptUpdated = true;
  }
  log(`apt-get install ${packages.join(' ')}`);
  await runChecked(
    '/usr/bin/apt-get',
    ['install', '-y', '-q', '--no-install-recommends', ...packages],
    {
      env,
      timeoutMs: 900_000,
    },
  );
}

/** True when this process may run apt-get (root, and apt-get exists). */
export function canUseApt(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    accessSync('/usr/bin/apt-get', constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// The host package must really be 3.10: on a trixie host apt would bring 4.0 under the 3.10 name.
function checkHostRabbitmqVersion(): void {
  const found = existsSync(hostRabbitmqLib) ? readdirSync(hostRabbitmqLib) : [];
  if (!found.some((name) => name.startsWith('rabbitmq_server-3.10.'))) {
    throw new WarrenError(
      ErrorCode.MissingDependency,
      `--version 3.10 needs Debian bookworm's rabbitmq-server 3.10.x on the host; found ` +
        `${found.join(', ') || 'none'} in ${hostRabbitmqLib}`,
    );
  }
}
