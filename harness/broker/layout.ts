import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { ErrorCode, WarrenError } from '../../lib/errors.js';
import { stateDir } from '../../lib/paths.js';
import type { BrokerVersion } from './versions.js';
import { slotsPerVersion, versionProfile } from './versions.js';

/**
 * Where one instance keeps its files, seen from the host (`hostDir`, always
 * `<state>/brokers/<instance>`) and from the broker (`brokerDir`). For 4.0 the node runs in a
 * chroot and cannot see the state folder, so the real folder lives inside the root and
 * `hostDir` is a symlink to it.
 */
export interface InstanceLayout {
  instance: string;
  /** Root the node runs in ('/' on the host). */
  rootDir: string;
  hostDir: string;
  brokerDir: string;
}

/** The file or folder `relative` of an instance, as the host sees it. */
export function hostPath(layout: InstanceLayout, relative: string): string {
  return join(layout.hostDir, relative);
}

/** The file or folder `relative` of an instance, as the broker (maybe chrooted) sees it. */
export function brokerPath(layout: InstanceLayout, relative: string): string {
  return join(layout.brokerDir, relative);
}

/** Host folder of an instance: `<state>/brokers/<instance>`. */
export function instanceHostDir(instance: string): string {
  return stateDir('brokers', instance);
}

/** Creates (or repairs) the instance folders for `version`, running under `rootDir`. */
export function prepareLayout(
  instance: string,
  version: BrokerVersion,
  rootDir: string,
): InstanceLayout {
  const hostDir = instanceHostDir(instance);
  mkdirSync(stateDir('brokers'), { recursive: true });
  if (!versionProfile(version).chrooted) {
    if (isSymlink(hostDir)) throw wrongVersionFolder(instance, hostDir);
    mkdirSync(hostDir, { recursive: true });
    return { instance, rootDir, hostDir, brokerDir: hostDir };
  }
  // One folder per clone inside the shared root, so two clones never share data folders.
  const cloneKey = createHash('sha256').update(stateDir()).digest('hex').slice(0, 12);
  const brokerDir = `/var/lib/warren/${cloneKey}/${instance}`;
  const realDir = join(rootDir, brokerDir);
  mkdirSync(realDir, { recursive: true });
  if (isSymlink(hostDir)) {
    if (readlinkSync(hostDir) !== realDir) throw wrongVersionFolder(instance, hostDir);
  } else if (existsSync(hostDir)) {
    throw wrongVersionFolder(instance, hostDir);
  } else {
    symlinkSync(realDir, hostDir);
  }
  return { instance, rootDir, hostDir, brokerDir };
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function wrongVersionFolder(instance: string, dir: string): WarrenError {
  return new WarrenError(
    ErrorCode.BadOption,
    `broker option instance: "${instance}" was used with another version or root (${dir}); ` +
      'pick another instance name or remove that folder',
  );
}

/**
 * The port slot of an instance: 0 for the version's default instance, otherwise the lowest free
 * slot in 1–9, claimed atomically (exclusive create) so parallel test files never share one.
 * A claim lasts until {@link releaseSlot}.
 */
export async function claimSlot(
  version: BrokerVersion,
  instance: string,
  isDefault: boolean,
): Promise<number> {
  if (isDefault) return 0;
  const dir = stateDir('brokers', '.slots');
  mkdirSync(dir, { recursive: true });
  for (let slot = 1; slot < slotsPerVersion; slot += 1) {
    const claim = join(dir, `${version}-${slot}`);
    if (existsSync(claim) && readFileSync(claim, 'utf8') === instance) return slot;
  }
  for (let slot = 1; slot < slotsPerVersion; slot += 1) {
    try {
      await writeFile(join(dir, `${version}-${slot}`), instance, { flag: 'wx' });
      return slot;
    } catch {
      // Taken by another instance; try the next.
    }
  }
  throw new WarrenError(
    ErrorCode.Broker,
    `all ${slotsPerVersion - 1} extra instance slots of ${version} are taken; ` +
      `stop some (npm run broker -- down --version ${version} --instance NAME) or set ports`,
  );
}

/** Frees the slot claimed by `instance` (if any). */
export async function releaseSlot(version: BrokerVersion, instance: string): Promise<void> {
  const dir = stateDir('brokers', '.slots');
  for (let slot = 1; slot < slotsPerVersion; slot += 1) {
    const claim = join(dir, `${version}-${slot}`);
    if (existsSync(claim) && readFileSync(claim, 'utf8') === instance) {
      await rm(claim, { force: true });
    }
  }
}
