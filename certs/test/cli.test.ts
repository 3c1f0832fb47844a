import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/paths.js';
import { temporaryDir } from './support.js';

const execFileAsync = promisify(execFile);
let dir: Awaited<ReturnType<typeof temporaryDir>>;

/** Runs `scripts/certs.ts` against the temporary CA and returns its exit code and output. */
async function certs(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
  const script = join(repoRoot, 'scripts', 'certs.ts');
  try {
    const { stdout, stderr } = await execFileAsync(tsx, [script, ...args, '--dir', dir.path]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  dir = await temporaryDir('certs-cli');
});

afterAll(async () => dir.remove());

describe('npm run certs', () => {
  it('issues a workload certificate and prints the broker username it yields', async () => {
    const issued = await certs(
      'issue-client',
      '--name',
      'orders',
      '--cn',
      'svc-orders',
      '--o',
      'Lab',
      '--c',
      'US',
      '--spiffe',
      'acme/orders',
    );
    expect(issued.code).toBe(0);
    expect(JSON.parse(issued.stdout)).toMatchObject({
      name: 'orders',
      sans: { uri: ['spiffe://warren.test/ns/acme/sa/orders'] },
    });
    const username = await certs('username', '--name', 'orders');
    expect(username.stdout.trim()).toBe('CN=svc-orders,O=Lab,C=US');
  });

  it('inventory exits 0, 1 or 2 by the days-left thresholds', async () => {
    await certs('issue-client', '--name', 'short', '--cn', 'short', '--days', '10');
    const codes = [
      (await certs('inventory', '--warn-days', '5', '--fail-days', '2')).code,
      (await certs('inventory', '--warn-days', '30', '--fail-days', '2')).code,
      (await certs('inventory', '--json', '--warn-days', '30', '--fail-days', '20')).code,
    ];
    expect(codes).toEqual([0, 1, 2]);
  });

  it.each([
    ['an unknown command', ['frobnicate']],
    ['an unknown flag', ['inventory', '--frob']],
    ['a malformed --spiffe', ['issue-client', '--name', 'x', '--cn', 'x', '--spiffe', 'acme']],
  ])('%s exits 64 with a message naming the problem', async (_, args) => {
    const result = await certs(...args);
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/^certs: .+\nusage:/);
  });
});
