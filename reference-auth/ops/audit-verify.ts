/**
 * Verifies an audit file written by {@link openAuditSink}: every line's hash matches its body,
 * every prev equals the hash of the record before it, and seq counts up by one. Reports the
 * first broken record by line number, so an operator knows where tampering or loss begins.
 */
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';

import { GENESIS_HASH, splitAuditLine } from './audit.js';

/** Why a record broke the chain. */
export type AuditBreak =
  /** Not a chained line at all (torn write, hand edit, foreign text). */
  | 'malformed'
  /** The body no longer hashes to the hash stored with it (the record was edited). */
  | 'hash_mismatch'
  /** prev does not name the record before it (a record was removed, inserted or reordered). */
  | 'prev_mismatch'
  /** seq does not follow the record before it. */
  | 'seq_mismatch';

/** Outcome of {@link verifyAuditFile}. */
export type AuditVerifyResult =
  | { ok: true; records: number; gaps: number; droppedRecords: number; lastHash: string }
  | {
      ok: false;
      /** Records verified before the break. */
      records: number;
      /** 1-based line number of the first broken record. */
      line: number;
      /** seq of the broken record when it could be read. */
      seq?: number;
      problem: AuditBreak;
    };

interface ParsedBody {
  seq?: unknown;
  prev?: unknown;
  kind?: unknown;
  dropped?: unknown;
}

/** Streams the file and checks the chain; never loads the whole file into memory. */
export async function verifyAuditFile(filePath: string): Promise<AuditVerifyResult> {
  const lines = createInterface({ input: createReadStream(filePath), crlfDelay: Infinity });
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let lineNumber = 0;
  let records = 0;
  let gaps = 0;
  let droppedRecords = 0;

  for await (const line of lines) {
    lineNumber++;
    // Blank lines carry no record (a retried write after a failure starts on a fresh line).
    if (line === '') continue;
    const checked = checkLine(line, prevHash, expectedSeq);
    if ('problem' in checked) {
      lines.close();
      return { ok: false, records, line: lineNumber, ...checked };
    }
    records++;
    prevHash = checked.hash;
    expectedSeq++;
    if (checked.body.kind === 'gap') {
      gaps++;
      droppedRecords += typeof checked.body.dropped === 'number' ? checked.body.dropped : 0;
    }
  }
  return { ok: true, records, gaps, droppedRecords, lastHash: prevHash };
}

function checkLine(
  line: string,
  prevHash: string,
  expectedSeq: number,
): { hash: string; body: ParsedBody } | { problem: AuditBreak; seq?: number } {
  const parts = splitAuditLine(line);
  if (!parts) return { problem: 'malformed' };
  let body: ParsedBody;
  try {
    body = JSON.parse(parts.body) as ParsedBody;
  } catch {
    return { problem: 'malformed' };
  }
  const seq = typeof body.seq === 'number' ? body.seq : undefined;
  if (createHash('sha256').update(parts.body).digest('hex') !== parts.hash) {
    return { problem: 'hash_mismatch', seq };
  }
  if (body.prev !== prevHash) return { problem: 'prev_mismatch', seq };
  if (seq !== expectedSeq) return { problem: 'seq_mismatch', seq };
  return { hash: parts.hash, body };
}

/** One line for an operator: what was verified, or where the chain first breaks. */
export function describeAuditResult(filePath: string, result: AuditVerifyResult): string {
  if (result.ok) {
    const gaps =
      result.gaps > 0
        ? `, ${result.gaps} gap(s) covering ${result.droppedRecords} dropped record(s)`
        : '';
    return `${filePath}: chain intact, ${result.records} record(s)${gaps}, last hash ${result.lastHash}`;
  }
  const seq = result.seq === undefined ? '' : ` (seq ${result.seq})`;
  return (
    `${filePath}: chain broken at line ${result.line}${seq}: ${result.problem}; ` +
    `${result.records} record(s) before it verified`
  );
}

/**
 * The `audit-verify FILE` command: prints the verdict and returns the exit code (0 intact,
 * 1 broken, 2 usage or unreadable file). Entry scripts call this and set the process exit code.
 */
export async function runAuditVerifyCommand(
  args: readonly string[],
  print: (line: string) => void = console.log,
): Promise<number> {
  const [filePath, ...extra] = args;
  if (!filePath || extra.length > 0) {
    print('usage: audit-verify FILE   (FILE: the audit file named by the audit.file option)');
    return 2;
  }
  try {
    const result = await verifyAuditFile(filePath);
    print(describeAuditResult(filePath, result));
    return result.ok ? 0 : 1;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    print(`${filePath}: cannot read the audit file (${code}); check the path and permissions`);
    return 2;
  }
}
