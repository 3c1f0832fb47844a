/**
 * Run folders: every run writes into `reports/<kind>/<timestamp>/`, then `reports/<kind>/latest`
 * is pointed at it, so earlier runs stay beside the newest one.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { reportsDir } from '../../lib/paths.js';

/** A run's report folder. */
export interface RunFolder {
  /** Report kind: `conformance`, `load`, … */
  kind: string;
  /** Absolute path of this run's folder. */
  dir: string;
  /** Folder name, a UTC timestamp such as `2026-12-03T13-45-12-345Z`. */
  name: string;
  /** Absolute path of `reports/<kind>/latest`. */
  latest: string;
}

/** Options of createRunFolder. */
export interface RunFolderOptions {
  /** Root of all reports; default `reportsDir()` (`WARREN_REPORTS_DIR` or `<repo>/reports`). */
  root?: string;
  /** When the run started; default now. Names the folder. */
  startedAt?: Date;
}

/** Creates `reports/<kind>/<timestamp>/` (it does not touch `latest` yet). */
export function createRunFolder(kind: string, options: RunFolderOptions = {}): RunFolder {
  const root = join(options.root ?? reportsDir(), kind);
  const name = (options.startedAt ?? new Date()).toISOString().replace(/:/g, '-').replace('.', '-');
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return { kind, dir, name, latest: join(root, 'latest') };
}

/** Writes `content` (text, or a value written as pretty JSON) into the run folder; returns the path. */
export function writeReportFile(folder: RunFolder, fileName: string, content: unknown): string {
  const path = join(folder.dir, fileName);
  const text = typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`;
  writeFileSync(path, text);
  return path;
}

/**
 * Points `latest` at this run (a relative symlink, swapped by rename so readers never see it
 * missing), then keeps only the newest `keepRuns` run folders (default 20).
 */
export function publishLatest(folder: RunFolder, keepRuns = 20): void {
  const temp = `${folder.latest}.${process.pid}.tmp`;
  rmSync(temp, { force: true });
  symlinkSync(folder.name, temp);
  renameSync(temp, folder.latest);
  pruneRuns(join(folder.latest, '..'), keepRuns);
}

function pruneRuns(root: string, keepRuns: number): void {
  const runs = readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /^\d{4}-\d{2}-\d{2}T/.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  for (const old of runs.slice(0, Math.max(0, runs.length - keepRuns))) {
    rmSync(join(root, old), { recursive: true, force: true });
  }
}
