/**
 * Protocol mode: Warren plays the broker. Each step becomes the exact request RabbitMQ would
 * send; each reply is judged as the broker reads it and against the strict contract, then the
 * decision is compared with the step's expectation.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { IdpControl, LoginIdentity } from '../identity.js';
import { resolveIdentity, secretHandle } from '../identity.js';
import { stepAction } from '../model.js';
import type { BackendPath, HttpMethod, Scenario, Step, StepExpect } from '../model.js';
import type { Profile } from '../profile.js';
import type { TranscriptEntry } from '../results.js';
import { MissingVariable, fill } from '../template.js';
import type { BackendClient, Exchange } from './client.js';
import {
  encodeForm,
  encodeFormComponent,
  type FormFields,
} from '../../harness/auth-http/encoding.js';
import { paramsFor, type DecisionRequest } from './encode.js';
import { judgeReply } from './reply.js';
import type { ReplyVerdict } from './reply.js';

/** What protocol mode needs for one scenario run. */
export interface ProtocolContext {
  client: BackendClient;
  profile: Profile;
  idp: IdpControl;
  method: HttpMethod;
  /** Receives the latency of every decision request, ms (for the p95 scenario). */
  recordLatency: (latencyMs: number) => void;
  /** Clock, ms since the epoch; default Date.now. */
  nowMs?: () => number;
}

/** How one scenario ended in protocol mode. */
export interface ProtocolOutcome {
  status: 'passed' | 'failed' | 'skipped';
  reason?: string;
  transcript: TranscriptEntry[];
}

/** Thrown by a step that cannot run against this backend (optional endpoint absent). */
class SkipScenario extends Error {}

interface RunState {
  scenario: Scenario;
  context: ProtocolContext;
  vars: Record<string, string>;
  identity: LoginIdentity;
  /** Tags from the last allowed login, echoed on later checks as the broker does. */
  tags: string[];
  last?: Exchange;
  secrets: string[];
}

interface StepReport {
  entry: Omit<TranscriptEntry, 'step' | 'action'>;
}

/** Runs one scenario's steps against the backend; stops at the first failing step. */
export async function runProtocolScenario(
  scenario: Scenario,
  context: ProtocolContext,
): Promise<ProtocolOutcome> {
  const transcript: TranscriptEntry[] = [];
  let state: RunState;
  try {
    state = await prepare(scenario, context);
  } catch (error) {
    if (error instanceof MissingVariable)
      return { status: 'skipped', reason: error.message, transcript };
    throw error;
  }
  for (const [index, step] of scenario.when.entries()) {
    const action = stepAction(step);
    let report: StepReport;
    try {
      report = await runWithRetry(state, step);
    } catch (error) {
      if (error instanceof SkipScenario) {
        return { status: 'skipped', reason: error.message, transcript };
      }
      if (error instanceof MissingVariable) {
        return { status: 'skipped', reason: error.message, transcript };
      }
      const detail = redact(state, error instanceof Error ? error.message : String(error));
      transcript.push({ step: index + 1, action, ok: false, detail: `error: ${detail}` });
      return { status: 'failed', reason: `step ${index + 1} (${action}): ${detail}`, transcript };
    }
    const entry: TranscriptEntry = { step: index + 1, action, ...report.entry };
    if (step.note !== undefined && entry.detail === undefined) entry.detail = step.note;
    transcript.push(entry);
    if (!entry.ok) {
      const why = entry.detail ?? `expected ${entry.expected}, observed ${entry.observed}`;
      return { status: 'failed', reason: `step ${index + 1} (${action}): ${why}`, transcript };
    }
  }
  return { status: 'passed', transcript };
}

async function prepare(scenario: Scenario, context: ProtocolContext): Promise<RunState> {
  const nowMs = context.nowMs ?? Date.now;
  const vars: Record<string, string> = {
    ...context.profile.vars,
    unique: `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    issuer: context.idp.issuer,
    audience: context.profile.token.audience,
    jwksUrl: context.idp.jwksUrl,
  };
  const identity = await resolveIdentity(scenario.given, {
    profile: context.profile,
    idp: context.idp,
    vars,
    time: {
      nowSeconds: Math.floor(nowMs() / 1000),
      skewSeconds: context.profile.token.clockSkewSeconds,
      lifetimeSeconds: context.profile.token.lifetimeSeconds,
    },
  });
  vars['username'] = identity.username;
  const secrets = identity.password === undefined ? [] : [identity.password];
  return { scenario, context, vars, identity, tags: [], secrets };
}

async function runWithRetry(state: RunState, step: Step): Promise<StepReport> {
  const deadline = Date.now() + (step.eventuallyWithinSeconds ?? 0) * 1000;
  for (;;) {
    const report = await runStep(state, step);
    if (report.entry.ok || Date.now() >= deadline) return report;
    await sleep(500);
  }
}

function runStep(state: RunState, step: Step): Promise<StepReport> {
  const filled = fill(step, state.vars);
  switch (stepAction(filled)) {
    case 'login':
      return runLogin(state, filled);
    case 'vhost':
    case 'resource':
    case 'topic':
      return runCheck(state, filled);
    case 'request':
      return runRawRequest(state, filled);
    case 'wait':
      return runWait(state, filled);
    case 'idp':
      return runIdp(state, filled);
    case 'storm':
      return runStorm(state, filled);
    case 'http':
      return runHttp(state, filled);
    case 'header':
      return Promise.resolve(checkHeader(state, filled));
    default:
      throw new SkipScenario(`step ${stepAction(filled)} needs a real broker (broker mode)`);
  }
}

async function runLogin(state: RunState, step: Step): Promise<StepReport> {
  const login = step.login ?? {};
  const omit = login.omitPassword ?? state.identity.kind === 'external';
  const request: DecisionRequest = {
    path: 'user',
    username: state.identity.username,
    ...(omit || state.identity.password === undefined ? {} : { password: state.identity.password }),
    ...(login.extra === undefined ? {} : { extra: login.extra }),
  };
  const report = await decide(state, request, step.expect);
  return report;
}

async function runCheck(state: RunState, step: Step): Promise<StepReport> {
  const username = state.identity.username;
  let request: DecisionRequest;
  if (step.vhost !== undefined) {
    request = {
      path: 'vhost',
      username,
      vhost: step.vhost.vhost,
      ip: step.vhost.ip ?? '127.0.0.1',
      tags: state.tags,
    };
  } else if (step.resource !== undefined) {
    request = { path: 'resource', username, ...step.resource, tags: state.tags };
  } else {
    const topic = step.topic;
    if (topic === undefined) throw new Error('check step without vhost, resource or topic');
    request = {
      path: 'topic',
      username,
      vhost: topic.vhost,
      name: topic.name,
      permission: topic.permission,
      routingKey: topic.routing_key,
      variableMap: topic.variable_map ?? { username, vhost: topic.vhost },
      tags: state.tags,
    };
  }
  return decide(state, request, step.expect);
}

/** Sends a broker-shaped request and judges the reply strictly. */
async function decide(
  state: RunState,
  request: DecisionRequest,
  expect: StepExpect | undefined,
): Promise<StepReport> {
  const path = request.path;
  const exchange = await send(state, path, paramsFor(request));
  const verdict = judgeReply(path, exchange.status, exchange.reply);
  const expectedTags = path === 'user' ? state.identity.expectedTags : [];
  const comparison = compare(expect ?? 'not-allow', verdict, true, expectedTags);
  if (path === 'user' && verdict.reading.kind === 'allow') state.tags = verdict.reading.tags;
  return { entry: entryFor(state, exchange, verdict, comparison) };
}

async function send(state: RunState, path: BackendPath, params: FormFields): Promise<Exchange> {
  const target = state.context.profile.backend.paths[path];
  const exchange = await state.context.client.send(
    state.context.method,
    target,
    encodeForm(params),
  );
  state.context.recordLatency(exchange.latencyMs);
  state.last = exchange;
  return exchange;
}

interface Comparison {
  ok: boolean;
  expected: string;
  detail?: string;
}

function sameTags(left: readonly string[], right: readonly string[]): boolean {
  return [...left].sort().join(' ') === [...right].sort().join(' ');
}

/**
 * Compares a judged reply with an expectation. On the broker's four paths a malformed reply
 * fails whatever it decided; `allow` on the user path also requires exactly the profile's tags,
 * so a backend that hands out extra tags (escalation) fails.
 */
export function compare(
  expect: StepExpect,
  verdict: ReplyVerdict,
  strict: boolean,
  expectedTags: readonly string[],
): Comparison {
  const reading = verdict.reading;
  const expected =
    typeof expect === 'string'
      ? expect === 'allow' && expectedTags.length > 0
        ? `allow [${expectedTags.join(' ')}]`
        : expect
      : `allow [${expect.allow.tags.join(' ')}]`;
  if (strict && verdict.formatProblem !== null) {
    return {
      ok: false,
      expected,
      detail: `reply breaks the broker contract: ${verdict.formatProblem}`,
    };
  }
  if (expect === 'any') return { ok: true, expected };
  if (expect === 'not-allow') return { ok: reading.kind !== 'allow', expected };
  if (expect === 'deny')
    return { ok: reading.kind !== 'allow' && (!strict || reading.kind === 'deny'), expected };
  const wantTags = expect === 'allow' ? expectedTags : expect.allow.tags;
  const ok = reading.kind === 'allow' && sameTags(reading.tags, wantTags);
  return { ok, expected };
}

/** The reply as a short JSON string, credentials redacted before it is cut (a cut token is
 * no longer recognisable as one). */
export function printable(state: Pick<RunState, 'secrets'>, body: Buffer): string {
  const text = redact(state, body.toString('latin1'));
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

function entryFor(
  state: RunState,
  exchange: Exchange,
  verdict: ReplyVerdict,
  comparison: Comparison,
): StepReport['entry'] {
  const line =
    exchange.method === 'GET'
      ? `GET ${exchange.target}`
      : `POST ${exchange.target} ${exchange.body}`;
  return {
    request: redact(state, line),
    status: exchange.status,
    reply: printable(state, exchange.reply),
    expected: comparison.expected,
    observed: redact(state, verdict.observed),
    ok: comparison.ok,
    latencyMs: Math.round(exchange.latencyMs * 100) / 100,
    ...(comparison.detail === undefined ? {} : { detail: comparison.detail }),
  };
}

/** Replaces every credential (raw and percent-encoded) by a short hash. */
export function redact(state: Pick<RunState, 'secrets'>, text: string): string {
  let out = text;
  for (const secret of state.secrets) {
    if (secret.length < 4) continue;
    const handle = `<redacted ${secretHandle(secret)}>`;
    out = out.split(encodeFormComponent(secret)).join(handle).split(secret).join(handle);
  }
  return out;
}

const DECISION_PATHS: readonly BackendPath[] = ['user', 'vhost', 'resource', 'topic'];

async function runRawRequest(state: RunState, step: Step): Promise<StepReport> {
  const raw = step.request;
  if (raw === undefined) throw new Error('request step without request');
  const known = DECISION_PATHS.find((path) => path === raw.path);
  const target = known === undefined ? raw.path : state.context.profile.backend.paths[known];
  const params: Array<[string, string]> = [...(raw.params ?? [])];
  if (raw.withToken === true && state.identity.password !== undefined) {
    params.push(['password', state.identity.password]);
  }
  const encoded = raw.raw ?? encodeForm(params);
  const exchange = await state.context.client.send(
    state.context.method,
    target,
    encoded,
    raw.headers,
  );
  state.last = exchange;
  if (known !== undefined) state.context.recordLatency(exchange.latencyMs);
  // Unknown paths are never called by the broker: any reply is fine as long as it is no allow.
  const verdict = judgeReply(known ?? 'vhost', exchange.status, exchange.reply);
  const strict = known !== undefined && raw.lenient !== true;
  const comparison = compare(step.expect ?? 'not-allow', verdict, strict, []);
  return { entry: entryFor(state, exchange, verdict, comparison) };
}

async function runWait(state: RunState, step: Step): Promise<StepReport> {
  const wait = step.wait ?? {};
  let seconds = wait.seconds ?? 0;
  if (wait.untilExpired === true) {
    const exp = state.identity.claims?.['exp'];
    if (typeof exp !== 'number')
      throw new Error('wait untilExpired needs a token with a numeric exp');
    const nowSeconds = (state.context.nowMs ?? Date.now)() / 1000;
    const token = state.context.profile.token;
    const grace = wait.beyondSkew === true ? token.clockSkewSeconds : token.sessionGraceSeconds;
    seconds = Math.max(seconds, exp + grace + 1 - nowSeconds);
  }
  await sleep(Math.max(0, seconds * 1000));
  return { entry: { ok: true, detail: `waited ${seconds.toFixed(1)} s` } };
}

async function runIdp(state: RunState, step: Step): Promise<StepReport> {
  const idp = step.idp ?? {};
  const done: string[] = [];
  if (idp.rotate === true) {
    await state.context.idp.rotate(state.scenario.given.alg);
    done.push('rotated keys');
  }
  if (idp.jwks !== undefined) {
    await state.context.idp.setJwks(idp.jwks);
    done.push(`JWKS ${idp.jwks}`);
  }
  if (idp.remint === true) {
    state.identity = await resolveIdentity(state.scenario.given, {
      profile: state.context.profile,
      idp: state.context.idp,
      vars: state.vars,
      time: timeContext(state),
    });
    if (state.identity.password !== undefined) state.secrets.push(state.identity.password);
    done.push('re-minted the token');
  }
  return { entry: { ok: true, detail: done.join(', ') } };
}

function timeContext(state: RunState): {
  nowSeconds: number;
  skewSeconds: number;
  lifetimeSeconds: number;
} {
  return {
    nowSeconds: Math.floor((state.context.nowMs ?? Date.now)() / 1000),
    skewSeconds: state.context.profile.token.clockSkewSeconds,
    lifetimeSeconds: state.context.profile.token.lifetimeSeconds,
  };
}

/**
 * Logins whose tokens name a `kid` the IdP never published, counted at the IdP: a backend that
 * refetches the JWKS on every unknown `kid` lets anyone hammer the IdP through the broker.
 */
async function runStorm(state: RunState, step: Step): Promise<StepReport> {
  const storm = step.storm;
  if (storm === undefined) throw new Error('storm step without storm');
  const before = state.context.idp.jwksRequests();
  let allowed = 0;
  for (let i = 0; i < storm.unknownKidLogins; i += 1) {
    const token = await state.context.idp.mint(state.identity.claims ?? {}, {
      kid: `warren-unknown-${i}-${Math.random().toString(36).slice(2, 10)}`,
    });
    state.secrets.push(token);
    const request: DecisionRequest = {
      path: 'user',
      username: state.identity.username,
      password: token,
    };
    const exchange = await send(state, 'user', paramsFor(request));
    if (judgeReply('user', exchange.status, exchange.reply).reading.kind === 'allow') allowed += 1;
  }
  const fetches = state.context.idp.jwksRequests() - before;
  const ok = allowed === 0 && fetches <= storm.maxJwksFetches;
  return {
    entry: {
      ok,
      expected: `0 allowed, at most ${storm.maxJwksFetches} JWKS fetches`,
      observed: `${allowed} allowed, ${fetches} JWKS fetches for ${storm.unknownKidLogins} logins`,
    },
  };
}

async function runHttp(state: RunState, step: Step): Promise<StepReport> {
  const http = step.http;
  if (http === undefined) throw new Error('http step without http');
  const exchange = await state.context.client.get(http.get);
  if (exchange.status === 404 && http.optional === true) {
    throw new SkipScenario(`the backend offers no ${http.get} (404); it is optional`);
  }
  const want = http.expectStatus ?? 200;
  return {
    entry: {
      request: `GET ${exchange.target}`,
      status: exchange.status,
      reply: printable(state, exchange.reply),
      expected: `status ${want}`,
      observed: `status ${exchange.status}`,
      ok: exchange.status === want,
    },
  };
}

function checkHeader(state: RunState, step: Step): StepReport {
  const header = step.header;
  if (header === undefined) throw new Error('header step without header');
  const value = state.last?.headers[header.header.toLowerCase()];
  const ok =
    value === undefined ? header.absentOk === true : new RegExp(header.matches).test(value);
  return {
    entry: {
      expected: `${header.header} matching /${header.matches}/`,
      observed: value === undefined ? `no ${header.header} header` : `${header.header}: ${value}`,
      ok,
    },
  };
}
