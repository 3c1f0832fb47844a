import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { ErrorCode, WarrenError } from '../../lib/errors.js';
import { stateDir } from '../../lib/paths.js';
import type { ProgressLog } from './install.js';
import { isProcessAlive, runChecked } from './processes.js';

/** Shared location of the RabbitMQ 4.0 root when writable: built once per machine. */
export const sharedRootfsDir = '/var/cache/warren/rabbitmq-4.0-root';
/** Written into the root only after a complete, verified build. */
export const rootfsStampName = '.warren-rootfs-complete';

const packagesInRoot = ['rabbitmq-server', 'ca-certificates'];

/** Where the root is and whether it is complete. */
export interface RootfsStatus {
  dir: string;
  complete: boolean;
}

/**
 * The 4.0 root's folder: `WARREN_ROOTFS_DIR`, else /var/cache/warren/rabbitmq-4.0-root when
 * that can be written (shared by every clone on the machine), else `<state>/rootfs/rabbitmq-4.0`.
 */
export function rootfsDir(): string {
  const fromEnv = process.env['WARREN_ROOTFS_DIR'];
  if (fromEnv) return fromEnv;
  const parent = dirname(sharedRootfsDir);
  try {
    if (existsSync(sharedRootfsDir)) return sharedRootfsDir;
    mkdirSync(parent, { recursive: true });
    accessSync(parent, constants.W_OK);
    return sharedRootfsDir;
  } catch {
    return stateDir('rootfs', 'rabbitmq-4.0');
  }
}

/** Where the root is and whether its completion stamp exists. */
export function rootfsStatus(): RootfsStatus {
  const dir = rootfsDir();
  return { dir, complete: existsSync(join(dir, rootfsStampName)) };
}

/**
 * Builds the Debian trixie root with RabbitMQ 4.0: debootstrap (minbase) into `<dir>.partial`,
 * apt-get install inside it, /etc/hosts, then the stamp, then a rename to `<dir>`. A crash
 * midway leaves only `.partial`, which the next build removes. A lock file lets a second build
 * (another clone) wait instead of racing.
 */
export async function buildRootfs(log: ProgressLog): Promise<void> {
  const dir = rootfsDir();
  const lock = `${dir}.lock`;
  if (!(await takeLock(lock))) {
    log(`another process is building ${dir}; waiting for it`);
    await waitForOtherBuild(dir, lock);
    return;
  }
  try {
    if (existsSync(join(dir, rootfsStampName))) return;
    refuseForeignDir(dir);
    await buildInto(`${dir}.partial`, log);
    await rm(dir, { recursive: true, force: true }); // only ever an empty folder here
    await rename(`${dir}.partial`, dir);
    log(`RabbitMQ 4.0 root ready in ${dir}`);
  } finally {
    await rm(lock, { force: true });
  }
}

async function buildInto(partial: string, log: ProgressLog): Promise<void> {
  await rm(partial, { recursive: true, force: true });
  mkdirSync(dirname(partial), { recursive: true });
  const mirror = process.env['WARREN_DEBIAN_MIRROR'] ?? 'http://deb.debian.org/debian';
  log(`debootstrap --variant=minbase trixie ${partial} (about 30 s)`);
  await runChecked('/usr/sbin/debootstrap', ['--variant=minbase', 'trixie', partial, mirror], {
    timeoutMs: 900_000,
  });
  // Debian's invoke-rc.d asks policy-rc.d; 101 = "do not start services" inside this root.
  await writeFile(join(partial, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', {
    mode: 0o755,
  });
  log(`apt-get install ${packagesInRoot.join(' ')} inside the root (about 15 s)`);
  const script =
    'apt-get update -q && apt-get install -y -q --no-install-recommends ' +
    `${packagesInRoot.join(' ')} && apt-get clean`;
  await runChecked(
    '/usr/sbin/chroot',
    [partial, 'env', '-i', ...chrootBaseEnv(), 'sh', '-c', script],
    {
      timeoutMs: 900_000,
    },
  );
  await writeRootHosts(partial);
  verifyRoot(partial);
  const stamp = { builtAt: new Date().toISOString(), rabbitmq: rabbitmqLibVersion(partial) };
  await writeFile(join(partial, rootfsStampName), `${JSON.stringify(stamp)}\n`);
}

/** Environment for commands run inside the root (`chroot DIR env -i …`). */
export function chrootBaseEnv(): string[] {
  return [
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    'DEBIAN_FRONTEND=noninteractive',
    'LANG=C.UTF-8',
    'LC_ALL=C.UTF-8',
  ];
}

/**
 * Writes the root's /etc/hosts with this machine's hostname. Without it, every AMQP connection's
 * hostname lookup inside the root can stall 5 s (RABBITMQ.md section 6). Called at build time
 * and again before each start, since the root may outlive a hostname change.
 */
export async function writeRootHosts(root: string): Promise<void> {
  const path = join(root, 'etc/hosts');
  const name = hostname();
  const wanted = `127.0.0.1 localhost\n127.0.1.1 ${name}\n::1 localhost ip6-localhost\n`;
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (current !== wanted) await writeFile(path, wanted);
}

function verifyRoot(root: string): void {
  if (!existsSync(join(root, 'usr/lib/rabbitmq/bin/rabbitmq-server'))) {
    throw new WarrenError(ErrorCode.MissingDependency, `no rabbitmq-server inside ${root}`);
  }
  const version = rabbitmqLibVersion(root);
  if (!version.startsWith('4.0.')) {
    throw new WarrenError(
      ErrorCode.MissingDependency,
      `the trixie root holds RabbitMQ ${version}, not 4.0.x; pin the mirror with WARREN_DEBIAN_MIRROR`,
    );
  }
}

/** The RabbitMQ version installed under `root` (from its lib folder name), or '' if none. */
export function rabbitmqLibVersion(root: string): string {
  const lib = join(root, 'usr/lib/rabbitmq/lib');
  const entry = existsSync(lib)
    ? readdirSync(lib).find((n) => n.startsWith('rabbitmq_server-'))
    : '';
  return entry ? entry.slice('rabbitmq_server-'.length) : '';
}

function refuseForeignDir(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new WarrenError(
      ErrorCode.MissingDependency,
      `${dir} exists but has no ${rootfsStampName}: an interrupted or foreign build. ` +
        'Remove it (rm -rf) or point WARREN_ROOTFS_DIR elsewhere, then run install again',
    );
  }
}

async function takeLock(lock: string): Promise<boolean> {
  mkdirSync(dirname(lock), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      return true;
    } catch {
      const holder = Number(readFileSync(lock, 'utf8'));
      if (Number.isInteger(holder) && isProcessAlive(holder, 'node')) return false;
      await rm(lock, { force: true }); // stale: its builder died
    }
  }
  return false;
}

async function waitForOtherBuild(dir: string, lock: string): Promise<void> {
  const deadline = Date.now() + 900_000;
  while (existsSync(lock) && Date.now() < deadline) await sleep(1000);
  if (!existsSync(join(dir, rootfsStampName))) {
    throw new WarrenError(ErrorCode.MissingDependency, `the other build of ${dir} did not finish`);
  }
}
