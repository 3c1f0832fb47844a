/**
 * Reading a backend reply twice: once as the broker reads it (RABBITMQ.md section 2: status 200
 * or 201, body lower-cased, only spaces stripped, `allow` matched as a prefix on the user path),
 * and once strictly, as Warren requires: exactly `allow`, `deny`, or on the user path
 * `allow <tags>` with tags from the broker-safe set. A reply the broker would misread, crash on
 * or only understand from 4.3 (`deny <reason>`) fails whatever the decision.
 */
import { SAFE_TAGS } from '../model.js';
import type { BackendPath } from '../model.js';

/** How the broker would treat a reply. */
export type BrokerReading =
  | { kind: 'allow'; tags: string[] }
  | { kind: 'deny' }
  /** Login refused because the reply was not understood; the chain moves to the next backend. */
  | { kind: 'refused-error' }
  /** vhost: TCP drop after 3 s; resource/topic: 541 INTERNAL_ERROR closes the connection. */
  | { kind: 'crash' };

export interface ReplyVerdict {
  reading: BrokerReading;
  /** Null when the reply is exactly what the contract allows; otherwise why it is not. */
  formatProblem: string | null;
  /** Short, printable: `allow`, `deny`, `allow [administrator]`, `malformed: …`. */
  observed: string;
}

const SAFE = new Set<string>(SAFE_TAGS);

/** Strips leading and trailing ASCII spaces only, as the broker does (not tabs or newlines). */
function stripSpaces(body: string): string {
  return body.replace(/^ +| +$/g, '');
}

/** The broker's reading of a reply on `path` (RabbitMQ up to 4.2.x). */
export function readAsBroker(path: BackendPath, status: number, body: Buffer): BrokerReading {
  if (status !== 200 && status !== 201)
    return path === 'user' ? { kind: 'refused-error' } : { kind: 'deny' };
  const text = stripSpaces(body.toString('latin1').toLowerCase());
  if (text === 'deny') return { kind: 'deny' };
  if (path !== 'user') return text === 'allow' ? { kind: 'allow', tags: [] } : { kind: 'crash' };
  if (!text.startsWith('allow')) return { kind: 'refused-error' };
  // The broker splits the remainder on spaces and turns every piece into a tag atom, so
  // `allowed` logs in with the tag `ed` and `allow\n` with the tag "\n".
  const tags = text
    .slice('allow'.length)
    .split(' ')
    .filter((tag) => tag.length > 0);
  return { kind: 'allow', tags };
}

/** Why a reply breaks the strict contract, or null when it keeps it. */
export function strictProblem(path: BackendPath, status: number, body: Buffer): string | null {
  if (status !== 200 && status !== 201) return `status ${status} (the broker needs 200 or 201)`;
  const text = body.toString('latin1');
  if (text === 'allow' || text === 'deny') return null;
  if (path === 'user' && text.startsWith('allow ')) {
    const tags = text.slice('allow '.length).split(' ');
    const bad = tags.filter((tag) => !SAFE.has(tag));
    if (bad.length === 0) return null;
    return `tags outside the broker-safe set: ${bad.map((tag) => JSON.stringify(tag)).join(', ')}`;
  }
  if (text.startsWith('deny ')) return 'deny with a reason is understood only from RabbitMQ 4.3';
  return `body ${JSON.stringify(text.slice(0, 60))} is not exactly allow or deny`;
}

function describe(reading: BrokerReading): string {
  switch (reading.kind) {
    case 'allow':
      return reading.tags.length === 0 ? 'allow' : `allow [${reading.tags.join(' ')}]`;
    case 'deny':
      return 'deny';
    case 'refused-error':
      return 'login refused as an error (chain continues to the next backend)';
    case 'crash':
      return 'broker crash (connection closed)';
  }
}

/** Both readings of a reply, with a printable summary. */
export function judgeReply(path: BackendPath, status: number, body: Buffer): ReplyVerdict {
  const reading = readAsBroker(path, status, body);
  const formatProblem = strictProblem(path, status, body);
  const observed =
    formatProblem === null
      ? describe(reading)
      : `malformed (${formatProblem}); broker: ${describe(reading)}`;
  return { reading, formatProblem, observed };
}
