import { mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { DecisionRecord } from '../decision.js';
import { openAuditSink } from '../ops/audit.js';
import { runAuditVerifyCommand, verifyAuditFile } from '../ops/audit-verify.js';

function decision(n: number): DecisionRecord {
  return {
    correlationId: `c-${n}`,
    path: 'resource',
    verdict: n % 2 === 0 ? 'allow' : 'deny',
    reason: n % 2 === 0 ? 'allowed_by_grant' : 'no_matching_grant',
    identity: 'acme-producer',
    tenant: 'acme',
    request: { vhost: 'acme', resource: 'queue', name: `q${n}`, permission: 'write' },
    policyVersion: 'p1',
    latencyMs: 0.25,
    time: '2026-12-03T13:00:00.000Z',
  };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ops-audit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeChain(name: string, count: number): Promise<string> {
  const file = join(dir, name);
  const sink = await openAuditSink({ filePath: file });
  for (let i = 1; i <= count; i++) sink.record(decision(i));
  await sink.close();
  return file;
}

async function rewriteLine(file: string, index: number, edit: (line: string) => string) {
  const lines = (await readFile(file, 'utf8')).split('\n');
  lines[index] = edit(lines[index] ?? '');
  await writeFile(file, lines.join('\n'));
}

describe('audit file', () => {
  it('appends one chained JSON line per decision and verifies intact', async () => {
    const file = await writeChain('intact.jsonl', 5);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    const first = JSON.parse(lines[0] ?? '') as { seq: number; prev: string; decision: unknown };
    expect(first.seq).toBe(1);
    expect(first.prev).toBe('0'.repeat(64));
    expect(first.decision).toEqual(decision(1));
    expect(await verifyAuditFile(file)).toMatchObject({ ok: true, records: 5, gaps: 0 });
  });

  it('continues the chain of an existing file after a restart', async () => {
    const file = await writeChain('restart.jsonl', 3);
    const sink = await openAuditSink({ filePath: file });
    sink.record(decision(4));
    await sink.close();
    expect(await verifyAuditFile(file)).toMatchObject({ ok: true, records: 4 });
  });

  it.each([
    {
      title: 'an edited field',
      edit: (l: string) => l.replace('"verdict":"deny"', '"verdict":"allow"'),
      problem: 'hash_mismatch',
    },
    {
      title: 'a recomputed but unchained record',
      edit: (l: string) => l.replace(/"prev":"[0-9a-f]{64}"/, `"prev":"${'1'.repeat(64)}"`),
      problem: 'hash_mismatch',
    },
    { title: 'a torn line', edit: (l: string) => l.slice(0, 40), problem: 'malformed' },
  ])('names the first broken record after $title', async ({ edit, problem }) => {
    const file = await writeChain(`edit-${problem}-${Math.random()}.jsonl`, 6);
    await rewriteLine(file, 2, edit);
    expect(await verifyAuditFile(file)).toEqual({
      ok: false,
      records: 2,
      line: 3,
      ...(problem === 'malformed' ? {} : { seq: 3 }),
      problem,
    });
  });

  it('names the record after a removed one as broken by its prev', async () => {
    const file = await writeChain('removed.jsonl', 5);
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines.splice(1, 1);
    await writeFile(file, lines.join('\n'));
    expect(await verifyAuditFile(file)).toMatchObject({
      ok: false,
      line: 2,
      seq: 3,
      problem: 'prev_mismatch',
    });
  });

  it('keeps writing on a fresh line after a torn tail and still names the torn line', async () => {
    const file = await writeChain('torn.jsonl', 2);
    await appendFile(file, '{"hash":"abc');
    const sink = await openAuditSink({ filePath: file });
    sink.record(decision(3));
    await sink.close();
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines[3] ?? '')).toMatchObject({ seq: 3 });
    expect(await verifyAuditFile(file)).toMatchObject({ ok: false, line: 3, problem: 'malformed' });
  });

  it('refuses to continue a file with no verifiable record', async () => {
    const file = join(dir, 'foreign.jsonl');
    await writeFile(file, 'not an audit file\n');
    await expect(openAuditSink({ filePath: file })).rejects.toMatchObject({
      code: 'WARREN_AUTH_ERR_CONFIG',
    });
  });

  it('writes a chained gap record instead of growing without bound', async () => {
    const file = join(dir, 'gap.jsonl');
    const dropped: number[] = [];
    const sink = await openAuditSink({
      filePath: file,
      maxPendingRecords: 2,
      onDropped: (n) => dropped.push(n),
    });
    // record() is synchronous: the writer takes record 1 at once, 2 and 3 wait, 4 and 5 drop.
    for (let i = 1; i <= 5; i++) sink.record(decision(i));
    await sink.flush();
    sink.record(decision(6));
    await sink.close();
    expect(dropped).toEqual([2]);
    expect(await verifyAuditFile(file)).toMatchObject({
      ok: true,
      records: 5,
      gaps: 1,
      droppedRecords: 2,
    });
  });

  it('keeps records queued and reports the error while the disk is full, without hanging', async () => {
    const errors: string[] = [];
    // /dev/full accepts the open and fails every write with ENOSPC.
    const sink = await openAuditSink({
      filePath: '/dev/full',
      onError: (error) => errors.push((error as NodeJS.ErrnoException).code ?? error.message),
    });
    sink.record(decision(1));
    await sink.flush();
    expect(errors[0]).toBe('ENOSPC');
    expect(sink.pendingRecords).toBe(1);
    sink.record(decision(2));
    await sink.flush();
    expect(sink.pendingRecords).toBe(2);
    await sink.close();
  });

  it('answers the audit-verify command with exit codes 0, 1 and 2', async () => {
    const intact = await writeChain('cmd.jsonl', 2);
    const broken = await writeChain('cmd-broken.jsonl', 2);
    await rewriteLine(broken, 1, (l) => l.replace('q2', 'q9'));
    const out: string[] = [];
    expect(await runAuditVerifyCommand([intact], (l) => out.push(l))).toBe(0);
    expect(await runAuditVerifyCommand([broken], (l) => out.push(l))).toBe(1);
    expect(await runAuditVerifyCommand([], (l) => out.push(l))).toBe(2);
    expect(await runAuditVerifyCommand([join(dir, 'absent')], (l) => out.push(l))).toBe(2);
    expect(out[1]).toMatch(/broken at line 2 \(seq 2\): hash_mismatch/);
  });
});
