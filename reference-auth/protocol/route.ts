/**
 * Mounts one decision path on fastify for GET (query string) and POST (form body) through the
 * same pipeline: parse → required fields → admission → typed request → decide → reply → record.
 * Replies are always status 200 with exactly `allow`, `deny` or `allow <tags>` (no newline: the
 * broker strips only spaces, RABBITMQ.md section 2). Nothing here can answer `allow` by accident:
 * every failure path, including a thrown error, ends in `deny` with a reason code.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../controls.js';
import type { DecisionCore, Outcome } from '../decide.js';
import { ReasonCode, type DecisionRecord } from '../decision.js';
import type { RequestGuard } from '../extensions.js';
import { allowedTags } from '../policy/schema.js';
import { parseForm, rawQuery, type ParamLimits } from './params.js';
import type { PathSpec } from './path.js';

/** What the pipeline needs from the composition root. */
export interface RouteContext {
  core: DecisionCore;
  limits: ParamLimits;
  decisionTtlSeconds: number;
  policyVersion: () => string;
  /** Fans a record out to every sink. */
  record: (decision: DecisionRecord) => void;
  guard?: RequestGuard;
  logger: Logger;
  clock: Clock;
}

/** Reasons that describe the service's state rather than the request: not cacheable. */
const transientReasons: ReadonlySet<ReasonCode> = new Set([
  ReasonCode.RateLimited,
  ReasonCode.Overloaded,
  ReasonCode.DependencyUnavailable,
  ReasonCode.InternalError,
]);

const formContentType = /^application\/x-www-form-urlencoded(\s*;|$)/i;

/** Registers GET and POST for `/<path>` and `/auth/<path>`. */
export function registerDecisionPath<R>(
  app: FastifyInstance,
  spec: PathSpec<R>,
  context: RouteContext,
): void {
  for (const url of [`/${spec.path}`, `/auth/${spec.path}`]) {
    app.route({
      method: ['GET', 'POST'],
      url,
      config: { decisionPath: spec.path },
      handler: async (request, reply) => {
        const raw =
          request.method === 'GET'
            ? rawQuery(request.raw.url)
            : formBody(request.headers['content-type'], request.body);
        await answer(spec, context, raw, reply);
      },
    });
  }
}

/** The body of a POST, or undefined when it is not a form (then the request is malformed). */
function formBody(contentType: string | undefined, body: unknown): string | undefined {
  if (body === undefined || body === null) return '';
  if (contentType === undefined || !formContentType.test(contentType)) return undefined;
  return typeof body === 'string' ? body : undefined;
}

/** Runs the pipeline and sends the reply; also used by the error handler for early failures. */
export async function answer<R>(
  spec: PathSpec<R>,
  context: RouteContext,
  raw: string | undefined,
  reply: FastifyReply,
  early?: ReasonCode,
): Promise<void> {
  const startedMs = performance.now();
  const correlationId = randomUUID();
  const { outcome, fields } = await decide(spec, context, raw, early);
  sendDecision(reply, spec.path === 'user', outcome, context.decisionTtlSeconds);
  context.record({
    correlationId,
    ...(outcome.sessionId === undefined ? {} : { sessionId: outcome.sessionId }),
    path: spec.path,
    verdict: outcome.verdict,
    reason: outcome.reason,
    identity: outcome.identity,
    ...(outcome.tenant === undefined ? {} : { tenant: outcome.tenant }),
    request: fields,
    ...(outcome.tags && outcome.verdict === 'allow' ? { tags: outcome.tags } : {}),
    policyVersion: context.policyVersion(),
    latencyMs: Math.round((performance.now() - startedMs) * 1000) / 1000,
    time: new Date(context.clock.nowMs()).toISOString(),
    ...(outcome.rule === undefined ? {} : { rule: outcome.rule }),
    ...(outcome.detail === undefined ? {} : { detail: outcome.detail }),
  });
}

async function decide<R>(
  spec: PathSpec<R>,
  context: RouteContext,
  raw: string | undefined,
  early: ReasonCode | undefined,
): Promise<{ outcome: Outcome; fields: Record<string, string> }> {
  const deny = (reason: ReasonCode, identity = '', detail?: string): Outcome => ({
    verdict: 'deny',
    reason,
    identity,
    ...(detail === undefined ? {} : { detail }),
  });
  if (early !== undefined) return { outcome: deny(early), fields: {} };
  if (raw === undefined)
    return { outcome: deny(ReasonCode.MalformedRequest, '', 'content-type'), fields: {} };

  const parsed = parseForm(raw, context.limits);
  if (!parsed.ok) return { outcome: deny(parsed.reason, '', parsed.field), fields: {} };
  const fields = spec.loggable(parsed.values);
  const username = parsed.values.get('username') ?? '';
  const missing = spec.required.find(
    (name) =>
      !parsed.values.get(name) && !(spec.mayBeEmpty?.includes(name) && parsed.values.has(name)),
  );
  if (missing) return { outcome: deny(ReasonCode.MissingParameter, username, missing), fields };

  const guardContext = { path: spec.path, username };
  const refused = context.guard?.admit(guardContext);
  if (refused !== undefined) return { outcome: deny(refused, username), fields };
  try {
    const request = spec.toRequest(parsed.values);
    if (
      typeof request === 'object' &&
      request !== null &&
      'reason' in request &&
      'field' in request
    ) {
      return {
        outcome: deny(request.reason as ReasonCode, username, request.field as string),
        fields,
      };
    }
    return { outcome: await spec.decide(context.core, request as R), fields };
  } catch (error) {
    // Fail closed, loudly: an internal error is an error-level event, and the answer is deny.
    context.logger.error(
      { err: describe(error), path: spec.path },
      'decision failed; answering deny',
    );
    return { outcome: deny(ReasonCode.InternalError, username), fields };
  } finally {
    context.guard?.done?.(guardContext);
  }
}

/** Formats and sends a decision: status 200, one of the three body forms, never a newline. */
export function sendDecision(
  reply: FastifyReply,
  userPath: boolean,
  outcome: Outcome,
  ttlSeconds: number,
): void {
  const cacheControl = transientReasons.has(outcome.reason) ? 'no-store' : `max-age=${ttlSeconds}`;
  void reply
    .code(200)
    .header('cache-control', cacheControl)
    .type('text/plain; charset=utf-8')
    .send(formatBody(userPath, outcome));
}

/** `allow`, `deny`, or on the user path `allow <tags>` with tags from the fixed set only. */
export function formatBody(userPath: boolean, outcome: Pick<Outcome, 'verdict' | 'tags'>): string {
  if (outcome.verdict !== 'allow') return 'deny';
  if (!userPath) return 'allow';
  const tags = [...new Set(outcome.tags ?? [])].filter((t) =>
    (allowedTags as readonly string[]).includes(t),
  );
  return tags.length === 0 ? 'allow' : `allow ${tags.join(' ')}`;
}

/** Error name and message only: stack traces may quote request data. */
function describe(error: unknown): { type: string; message: string } {
  return error instanceof Error
    ? { type: error.name, message: error.message.slice(0, 200) }
    : { type: typeof error, message: 'non-error thrown' };
}
