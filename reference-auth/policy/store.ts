/**
 * Holds the current compiled policy and swaps it atomically on reload. A reload that fails
 * (unreadable file, YAML error, validation error) keeps the old policy and reports why; the
 * decision path only ever sees a complete, validated policy.
 */
import { createHash } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { Policy } from './engine.js';
import { readPolicyFile, type LoadedPolicy } from './load.js';

/** Outcome of a reload. */
export type ReloadResult =
  | { ok: true; changed: boolean; version: string; previousVersion: string }
  | { ok: false; error: string; version: string };

/** Receives reload outcomes (the composition root logs them and clears the cache). */
export type ReloadListener = (result: ReloadResult) => void;

/** The live policy. */
export class PolicyStore {
  private policy: Policy;
  private readonly listeners: ReloadListener[] = [];
  private watching = false;

  constructor(initial: LoadedPolicy) {
    this.policy = new Policy(initial);
  }

  /** The policy in force now. */
  get current(): Policy {
    return this.policy;
  }

  /** Re-reads the policy's source file; keeps the current policy on any error. */
  async reload(): Promise<ReloadResult> {
    const previousVersion = this.policy.version;
    let result: ReloadResult;
    try {
      const loaded = await readPolicyFile(this.policy.source);
      const changed = loaded.version !== previousVersion;
      if (changed) this.policy = new Policy(loaded);
      result = { ok: true, changed, version: loaded.version, previousVersion };
    } catch (error) {
      result = {
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        version: previousVersion,
      };
    }
    this.listeners.forEach((listener) => listener(result));
    return result;
  }

  onReload(listener: ReloadListener): void {
    this.listeners.push(listener);
  }

  /**
   * Polls the file's stat (survives editors that replace the file by rename) and reloads when the
   * content hash differs from the policy in force.
   */
  watch(intervalMs: number): void {
    if (this.watching) return;
    this.watching = true;
    watchFile(this.policy.source, { interval: intervalMs, persistent: false }, () => {
      if (contentVersion(this.policy.source) !== this.policy.version) void this.reload();
    });
  }

  stopWatching(): void {
    if (!this.watching) return;
    unwatchFile(this.policy.source);
    this.watching = false;
  }
}

function contentVersion(path: string): string | undefined {
  try {
    return (
      'sha256:' + createHash('sha256').update(readFileSync(path, 'utf8')).digest('hex').slice(0, 16)
    );
  } catch {
    return undefined;
  }
}
