/**
 * Rollbacks on Ctrl-C, proven end to end: the real entry script runs a drill in a child
 * process, the test signals it mid-method and checks the rollback's marker and the journal.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { repoRoot } from '../../lib/paths.js';

import { tempDir } from './support.js';

/** Starts the drill, sends `signal` once the method has begun, resolves with the exit code. */
function runAndSignal(
  signal: NodeJS.Signals,
  dir: string,
): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/chaos.ts',
      'chaos/test/fixtures/long-pause.yaml',
      '--var',
      `marker=${join(dir, 'marker')}`,
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, WARREN_REPORTS_DIR: join(dir, 'reports') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let sent = false;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    // "announce" is the step right before the long pause: the method is under way.
    if (!sent && stdout.includes('[method] announce')) {
      sent = true;
      child.kill(signal);
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout })));
}

describe('interrupting a drill', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'still runs the rollbacks on %s and records the run as interrupted (exit 2)',
    async (signal) => {
      const dir = tempDir();
      const { code, stdout } = await runAndSignal(signal, dir);
      expect(stdout).toContain(`${signal}: interrupting`);
      expect(code).toBe(2);
      expect(existsSync(join(dir, 'marker'))).toBe(true);
      const journal = JSON.parse(
        readFileSync(join(dir, 'reports', 'chaos', 'latest', 'journal.json'), 'utf8'),
      ) as { status: string; interruption: { signal: string }; rollbacks: { status: string }[] };
      expect(journal.status).toBe('interrupted');
      expect(journal.interruption.signal).toBe(signal);
      expect(journal.rollbacks.map((step) => step.status)).toEqual(['succeeded']);
    },
  );
});
