/**
 * The audit file: every decision appended as one JSON line that carries the SHA-256 of the line
 * before it, so editing, removing or reordering a record breaks the chain at that record.
 *
 * Line layout (byte-exact, so verification never depends on re-serialising JSON):
 *   {"hash":"<64 hex>","seq":N,"prev":"<64 hex>","kind":"decision","decision":{...}}
 * where hash = SHA-256 of the same line with the leading `"hash":"…",` member removed, i.e. of
 *   {"seq":N,"prev":"<64 hex>","kind":"decision","decision":{...}}
 * The first record's prev is 64 zeros. A `gap` record (kind "gap", with `dropped`) stands where
 * records were dropped because the writer fell behind, so overload shows up without breaking
 * the chain.
 */
import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';

import type { DecisionRecord, DecisionSink } from '../decision.js';
import { AuthErrorCode, AuthServiceError } from '../errors.js';

/** prev of the first record of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

const HASH_PREFIX = '{"hash":"';
/** `{"hash":"` + 64 hex + `",` */
const HASH_MEMBER_LENGTH = HASH_PREFIX.length + 64 + 2;
/** How much of an existing file's end is read to find the last record. */
const TAIL_READ_BYTES = 1024 * 1024;
const RETRY_AFTER_WRITE_FAILURE_MS = 1000;

/** Options of {@link openAuditSink}. */
export interface AuditSinkOptions {
  /** File the chain is appended to; created with mode 0600 if missing, continued if present. */
  filePath: string;
  /** Records held in memory before new ones are dropped (and a gap record written). Default 10000. */
  maxPendingRecords?: number;
  /** fdatasync after every written batch, so an acknowledged batch survives a crash. Default true. */
  syncEachBatch?: boolean;
  /** Told about each failed write (the batch is kept and retried after 1 s). Default: ignored. */
  onError?: (error: Error) => void;
  /** Told how many records were dropped when a gap record is written. Default: ignored. */
  onDropped?: (count: number) => void;
}

/** A DecisionSink writing the hash chain; `record` only queues, a background loop writes. */
export interface AuditSink extends DecisionSink {
  /**
   * Resolves once everything recorded so far is written (and synced if configured), or after a
   * failed attempt: failed records stay queued and are retried every second.
   */
  flush(): Promise<void>;
  /** Flushes, then closes the file; later records are ignored. */
  close(): Promise<void>;
  /** Records queued but not yet written. */
  readonly pendingRecords: number;
}

interface ChainHead {
  seq: number;
  hash: string;
  /** The file ends without a newline (a torn last write): start the next write on a new line. */
  needsNewline: boolean;
}

/** SHA-256 in hex of a UTF-8 string. */
function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Builds one chained line (without its newline) and its hash. */
function chainLine(seq: number, prev: string, payload: string): { line: string; hash: string } {
  const body = `{"seq":${seq},"prev":"${prev}",${payload}}`;
  const hash = sha256Hex(body);
  return { line: `${HASH_PREFIX}${hash}",${body.slice(1)}`, hash };
}

/** Splits a stored line into its claimed hash and the hashed body; undefined if not chain-shaped. */
export function splitAuditLine(line: string): { hash: string; body: string } | undefined {
  if (!line.startsWith(HASH_PREFIX) || line.length <= HASH_MEMBER_LENGTH) return undefined;
  const hash = line.slice(HASH_PREFIX.length, HASH_PREFIX.length + 64);
  if (
    !/^[0-9a-f]{64}$/.test(hash) ||
    line.slice(HASH_PREFIX.length + 64, HASH_MEMBER_LENGTH) !== '",'
  ) {
    return undefined;
  }
  return { hash, body: `{${line.slice(HASH_MEMBER_LENGTH)}` };
}

/** Reads the end of an existing file to find where the chain continues. */
async function readChainHead(filePath: string): Promise<ChainHead> {
  const size = await stat(filePath).then(
    (s) => s.size,
    () => 0,
  );
  if (size === 0) return { seq: 0, hash: GENESIS_HASH, needsNewline: false };

  const start = Math.max(0, size - TAIL_READ_BYTES);
  const handle = await open(filePath, 'r');
  try {
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const text = buffer.toString('utf8');
    const head = lastValidRecord(text.split('\n'));
    if (!head) {
      throw new AuthServiceError(
        AuthErrorCode.BadConfig,
        `audit.file ${filePath} has no readable chained record in its last ${buffer.length} bytes; ` +
          'move it aside (and verify it with audit-verify) so a new chain can start',
      );
    }
    return { ...head, needsNewline: !text.endsWith('\n') };
  } finally {
    await handle.close();
  }
}

/** The last line whose hash matches its body, scanning backwards (a torn tail is skipped). */
function lastValidRecord(lines: string[]): { seq: number; hash: string } | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const parts = splitAuditLine(lines[i] ?? '');
    if (!parts || sha256Hex(parts.body) !== parts.hash) continue;
    const seq = (JSON.parse(parts.body) as { seq?: unknown }).seq;
    if (typeof seq === 'number') return { seq, hash: parts.hash };
  }
  return undefined;
}

/**
 * Opens (or creates) the audit file and continues its chain. Throws AuthServiceError(BadConfig)
 * if the file exists but ends in nothing verifiable (it is not ours, or it is damaged).
 */
export async function openAuditSink(options: AuditSinkOptions): Promise<AuditSink> {
  const maxPending = options.maxPendingRecords ?? 10_000;
  const syncEachBatch = options.syncEachBatch ?? true;
  const head = await readChainHead(options.filePath);
  const handle = await open(options.filePath, 'a', 0o600);
  return new ChainedAuditSink(handle, head, maxPending, syncEachBatch, options);
}

class ChainedAuditSink implements AuditSink {
  private pending: string[] = [];
  private seq: number;
  private prevHash: string;
  private leadingNewline: boolean;
  private dropped = 0;
  private closed = false;
  private drain: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly handle: FileHandle,
    head: ChainHead,
    private readonly maxPending: number,
    private readonly syncEachBatch: boolean,
    private readonly options: AuditSinkOptions,
  ) {
    this.seq = head.seq;
    this.prevHash = head.hash;
    this.leadingNewline = head.needsNewline;
  }

  get pendingRecords(): number {
    return this.pending.length;
  }

  record(decision: DecisionRecord): void {
    if (this.closed) return;
    // Bounded memory: past the limit we count instead of queueing, and say so in the chain.
    if (this.pending.length >= this.maxPending) {
      this.dropped++;
      return;
    }
    if (this.dropped > 0) this.appendGap();
    this.append(`"kind":"decision","decision":${JSON.stringify(decision)}`);
    this.startDrain();
  }

  async flush(): Promise<void> {
    while (this.drain) await this.drain;
    if (this.pending.length === 0 || this.closed) return;
    // Waiting out a retry pause would make flush hang while the disk fails: try once now.
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.startDrain();
    while (this.drain) await this.drain;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.dropped > 0) this.appendGap();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.flushOrGiveUp();
    this.closed = true;
    await this.handle.close();
  }

  /** On close a failing disk must not hang shutdown: one last attempt, then give up. */
  private async flushOrGiveUp(): Promise<void> {
    while (this.drain) await this.drain;
    if (this.pending.length > 0) await this.writeBatch();
  }

  private appendGap(): void {
    const count = this.dropped;
    this.dropped = 0;
    this.append(`"kind":"gap","dropped":${count},"time":"${new Date().toISOString()}"`);
    this.options.onDropped?.(count);
  }

  private append(payload: string): void {
    this.seq++;
    const { line, hash } = chainLine(this.seq, this.prevHash, payload);
    this.prevHash = hash;
    this.pending.push(line);
  }

  private startDrain(): void {
    if (this.drain || this.retryTimer || this.closed) return;
    this.drain = this.drainLoop().finally(() => {
      this.drain = undefined;
    });
  }

  private async drainLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const ok = await this.writeBatch();
      if (!ok) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.startDrain();
        }, RETRY_AFTER_WRITE_FAILURE_MS);
        this.retryTimer.unref();
        return;
      }
    }
  }

  /** Writes everything queued as one append; on failure the batch stays queued. */
  private async writeBatch(): Promise<boolean> {
    const batch = this.pending;
    this.pending = [];
    const text = `${this.leadingNewline ? '\n' : ''}${batch.join('\n')}\n`;
    try {
      await this.handle.write(text);
      if (this.syncEachBatch) await this.handle.datasync();
      this.leadingNewline = false;
      return true;
    } catch (error) {
      this.pending = batch.concat(this.pending);
      // A partial write may have left a torn line: retry on a fresh line (verify names the torn one).
      this.leadingNewline = true;
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
  }
}
