import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startMqStandIn, type MqStandIn } from '../amazon-mq/standin.js';
import { loadDrill } from '../load.js';
import { runDrill } from '../runner.js';
import { loadTarget } from '../targets/load.js';

import { drillOf, tempDir } from './support.js';

const dir = tempDir();

function targetFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A command that creates `file` (stands in for the team's systemctl/ssh commands). */
function touch(file: string): string {
  return JSON.stringify([
    process.execPath,
    '-e',
    `require('fs').writeFileSync(${JSON.stringify(file)}, 'x')`,
  ]);
}

describe('the staging guard on target files', () => {
  it.each([
    ['without the mark', ''],
    ['marked false', 'nonProduction: false\n'],
  ])('refuses a staging target %s', async (_title, mark) => {
    const path = targetFile(
      'staging.yaml',
      `kind: staging\nname: maybe-prod\n${mark}amqpUrl: amqp://127.0.0.1:1\n`,
    );
    await expect(loadTarget(path)).rejects.toMatchObject({ code: 'WARREN_ERR_UNSAFE_TARGET' });
  });

  it('refuses an Amazon MQ target without the mark', async () => {
    const path = targetFile(
      'mq.yaml',
      'kind: amazon-mq\nname: mq\nregion: us-east-1\nbrokerId: b-1\n',
    );
    await expect(loadTarget(path)).rejects.toMatchObject({ code: 'WARREN_ERR_UNSAFE_TARGET' });
  });

  it('names the file and the field of a bad value', async () => {
    const path = targetFile(
      'bad.yaml',
      'kind: staging\nname: s\nnonProduction: true\namqpUrl: amqp://u:p@h:5672\n',
    );
    const error = (await loadTarget(path).catch((caught: unknown) => caught)) as Error;
    expect(error).toMatchObject({ code: 'WARREN_ERR_BAD_INPUT' });
    expect(error.message).toContain(`${path}: amqpUrl:`);
    expect(error.message).not.toContain('u:p');
  });
});

describe('local target files', () => {
  it('offer the fallback capability only with fallbackInternal, without starting anything', async () => {
    const plain = await loadTarget(
      targetFile('local.yaml', 'kind: local\nname: l\nnonProduction: true\n'),
    );
    const fallback = await loadTarget(
      targetFile('fb.yaml', 'kind: local\nname: f\nnonProduction: true\nfallbackInternal: true\n'),
    );
    expect(Object.keys(await plain.missing(['fallback']))).toEqual(['fallback']);
    expect(await fallback.missing(['fallback'])).toEqual({});
  });

  it('reject an unknown option, naming it', async () => {
    const path = targetFile(
      'typo.yaml',
      'kind: local\nname: l\nnonProduction: true\nbrokerVersoin: "4.0"\n',
    );
    await expect(loadTarget(path)).rejects.toMatchObject({
      code: 'WARREN_ERR_BAD_INPUT',
      message: expect.stringContaining('brokerVersoin') as string,
    });
  });
});

describe('the staging target', () => {
  it("runs the team's own stop and restore commands as faults and rollbacks", async () => {
    const [stopped, restored] = [join(dir, 'stopped'), join(dir, 'restored')];
    const path = targetFile(
      'team.yaml',
      `kind: staging\nname: team\nnonProduction: true\namqpUrl: amqp://127.0.0.1:1\n` +
        `auth:\n  stop: ${touch(stopped)}\n  restore: ${touch(restored)}\n`,
    );
    const target = await loadTarget(path);
    const journal = await runDrill(
      drillOf({
        requires: ['auth'],
        method: [{ type: 'action', name: 'stop auth', action: { type: 'auth.stop' } }],
        rollbacks: [{ name: 'restore auth', action: { type: 'auth.restore' } }],
      }),
      { target },
    );
    expect(journal.status).toBe('completed');
    expect([existsSync(stopped), existsSync(restored)]).toEqual([true, true]);
  });

  it('says which capability is missing when the file has no commands for it', async () => {
    const path = targetFile(
      'bare.yaml',
      'kind: staging\nname: bare\nnonProduction: true\namqpUrl: amqp://127.0.0.1:1\n',
    );
    const journal = await runDrill(drillOf({ requires: ['auth'] }), {
      target: await loadTarget(path),
    });
    expect(journal.error?.code).toBe('WARREN_ERR_MISSING_DEPENDENCY');
    expect(journal.error?.message).toMatch(
      /auth: the target file needs auth.stop and auth.restore/,
    );
  });

  it('reads principal passwords only from the environment, and says which variable is unset', async () => {
    const path = targetFile(
      'principals.yaml',
      'kind: staging\nname: p\nnonProduction: true\namqpUrl: amqp://127.0.0.1:1\n' +
        'principals:\n  producer: { username: svc, passwordEnv: WARREN_TEST_UNSET_TOKEN }\n',
    );
    const journal = await runDrill(
      drillOf({
        method: [
          { type: 'probe', name: 'login', provider: { type: 'amqp', principal: 'producer' } },
        ],
      }),
      { target: await loadTarget(path) },
    );
    expect(journal.run[0]?.error).toMatchObject({ code: 'WARREN_ERR_BAD_OPTION' });
    expect(journal.run[0]?.error?.message).toContain('WARREN_TEST_UNSET_TOKEN is not set');
  });
});

describe('the Amazon MQ target (against the local MQ API stand-in)', () => {
  let standIn: MqStandIn;
  beforeAll(async () => {
    standIn = await startMqStandIn({ rebootMs: 150 });
  });
  afterAll(() => standIn.close());

  it('reboots the broker as a fault and records how long it took', async () => {
    const path = targetFile(
      'aws.yaml',
      `kind: amazon-mq\nname: standin\nnonProduction: true\nregion: us-east-1\n` +
        `brokerId: ${standIn.brokerId}\nendpoint: ${standIn.endpoint}\npollIntervalMs: 25\n`,
    );
    const drill = await loadDrill(join(import.meta.dirname, 'fixtures', 'amazon-mq-reboot.yaml'));
    const journal = await runDrill(drill, { target: await loadTarget(path) });
    expect(journal).toMatchObject({ status: 'completed', deviated: false });
    const reboot = journal.run[0]?.output as { elapsedMs: number; states: string[] };
    expect(reboot.states).toEqual(['REBOOT_IN_PROGRESS', 'RUNNING']);
    expect(reboot.elapsedMs).toBeGreaterThanOrEqual(150);
    expect(standIn.broker().reboots).toBe(1);
  });
});
