/**
 * The drill model: what a drill file may say, validated on load.
 *
 * Ideas borrowed from Chaos Toolkit (steady-state hypothesis, method, rollbacks, journal), own
 * design: a drill names its blast radius, may declare stop conditions watched during the method,
 * may own child processes and fault proxies, and measures time-to-effect with `measure` steps.
 * Strings may hold `${name}` placeholders filled at run time (see template.ts).
 */
import { z } from 'zod';

import type { RunContext } from './context.js';

/** A user-supplied function (TypeScript drills only). */
const fn = <T>() =>
  z.custom<T>((value) => typeof value === 'function', { message: 'expected a function' });

const positiveMs = z.number().int().positive();
const argv = z.array(z.string().min(1)).min(1);

/** How an output is judged. `path` (a JSON path like `$.status`) picks part of the output. */
export const ToleranceSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('exact'),
    value: z.unknown(),
    path: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('range'),
    min: z.number().optional(),
    max: z.number().optional(),
    path: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('regex'),
    pattern: z.string().min(1),
    flags: z.string().optional(),
    path: z.string().optional(),
  }),
  /** The JSON path must resolve; with `equals`, to that value. */
  z.strictObject({
    type: z.literal('jsonpath'),
    path: z.string().startsWith('$'),
    equals: z.unknown().optional(),
  }),
]);
export type Tolerance = z.infer<typeof ToleranceSchema>;

/** Something that produces an output: read-only, never a fault. */
export const ProviderSchema = z.discriminatedUnion('type', [
  /** HTTP request; output `{ status, body, json?, elapsedMs }` or `{ error }` when unreachable. */
  z.strictObject({
    type: z.literal('http'),
    url: z.string().min(1),
    method: z.enum(['GET', 'POST', 'PUT', 'DELETE', 'HEAD']).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.string().optional(),
    /** Default 5000 ms. */
    timeoutMs: positiveMs.optional(),
  }),
  /** TCP connect; output `{ connected, elapsedMs, error? }`. */
  z.strictObject({
    type: z.literal('tcp'),
    host: z.string().min(1),
    port: z.union([z.number().int().min(1).max(65535), z.string().min(1)]),
    /** Default 2000 ms. */
    timeoutMs: positiveMs.optional(),
  }),
  /** A program without a shell; output `{ exitCode, stdout, stderr }`. */
  z.strictObject({
    type: z.literal('command'),
    argv,
    /** Default 30000 ms. */
    timeoutMs: positiveMs.optional(),
  }),
  /** State of a drill-owned process; output `{ state, pid, restarts }`. */
  z.strictObject({ type: z.literal('process'), process: z.string().min(1) }),
  /** Counters of a drill-owned fault proxy; output `{ fault, connections, requests, faulted }`. */
  z.strictObject({ type: z.literal('proxy'), proxy: z.string().min(1) }),
  /**
   * An AMQP 0-9-1 attempt through the target (harness/amqp); output its typed outcome
   * (`{ kind: connected | refused | closed | tls-failure | socket-error, ... }`). `principal`
   * names an identity the target knows (local: `jwt:acme/producer`, `intruder`); with
   * `session`, the attempt reuses a connection opened earlier by `amqp.open`.
   */
  z.strictObject({
    type: z.literal('amqp'),
    principal: z.string().min(1).optional(),
    session: z.string().min(1).optional(),
    vhost: z.string().optional(),
    operation: z.enum(['connect', 'channel', 'publish']).optional(),
    /** Default 5000 ms. */
    timeoutMs: positiveMs.optional(),
  }),
  /** Any read-only operation the target offers (`auth.status`, `idp.counters`, ...). */
  z.strictObject({
    type: z.literal('target'),
    op: z.string().min(1),
    args: z.record(z.string(), z.unknown()).optional(),
  }),
  /** TypeScript drills: any async function of the run context. */
  z.strictObject({
    type: z.literal('function'),
    run: fn<(ctx: RunContext) => Promise<unknown>>(),
  }),
]);
export type Provider = z.infer<typeof ProviderSchema>;

/** A fault proxy toggle (see faults/proxy.ts). */
export const FaultSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({
    type: z.literal('latency'),
    latencyMs: z.number().int().min(0),
    jitterMs: z.number().int().min(0).optional(),
  }),
  z.strictObject({ type: z.literal('hang') }),
  z.strictObject({ type: z.literal('reset') }),
  z.strictObject({
    type: z.literal('status'),
    status: z.number().int().min(100).max(599),
  }),
  z.strictObject({ type: z.literal('garbage'), bytes: z.number().int().min(1).optional() }),
]);
export type Fault = z.infer<typeof FaultSchema>;

/** Something that changes the system: a fault, or the undoing of one in a rollback. */
export const ActionSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.enum(['process.kill', 'process.pause', 'process.resume', 'process.restart']),
    process: z.string().min(1),
  }),
  z.strictObject({
    type: z.literal('proxy.fault'),
    proxy: z.string().min(1),
    fault: FaultSchema,
    /** Share of connections or requests hit, 0..1; default 1. */
    probability: z.number().min(0).max(1).optional(),
  }),
  z.strictObject({ type: z.literal('proxy.clear'), proxy: z.string().min(1) }),
  /** The target's auth service: kill, SIGSTOP, restore (local: a child; staging: commands). */
  z.strictObject({ type: z.enum(['auth.stop', 'auth.pause', 'auth.restore']) }),
  /** Broker node restart (local: harness/broker; Amazon MQ: RebootBroker). */
  z.strictObject({ type: z.literal('broker.restart') }),
  /** Any operation the target offers (`auth.kill-switch`, `idp.rotate`, `amqp.open`, ...). */
  z.strictObject({
    type: z.literal('target'),
    op: z.string().min(1),
    args: z.record(z.string(), z.unknown()).optional(),
  }),
  z.strictObject({
    type: z.literal('command'),
    argv,
    /** Default 30000 ms. */
    timeoutMs: positiveMs.optional(),
  }),
  z.strictObject({
    type: z.literal('http'),
    url: z.string().min(1),
    method: z.enum(['GET', 'POST', 'PUT', 'DELETE']).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.string().optional(),
    /** Statuses that count as success; default any 2xx. */
    expectStatus: z.array(z.number().int()).optional(),
    timeoutMs: positiveMs.optional(),
  }),
  z.strictObject({
    type: z.literal('function'),
    run: fn<(ctx: RunContext) => Promise<unknown>>(),
  }),
]);
export type Action = z.infer<typeof ActionSchema>;

/** A named check: a provider and the tolerance its output must meet. */
export const ProbeSchema = z.strictObject({
  name: z.string().min(1),
  provider: ProviderSchema,
  tolerance: ToleranceSchema,
});
export type Probe = z.infer<typeof ProbeSchema>;

const named = { name: z.string().min(1), timeoutMs: positiveMs.optional() };

/** One step of the method. */
export const ActivitySchema = z.discriminatedUnion('type', [
  /** A fault or any other change. */
  z.strictObject({ type: z.literal('action'), ...named, action: ActionSchema }),
  /** A read; with a tolerance, a miss marks the drill deviated. */
  z.strictObject({
    type: z.literal('probe'),
    ...named,
    provider: ProviderSchema,
    tolerance: ToleranceSchema.optional(),
  }),
  z.strictObject({ type: z.literal('pause'), ...named, durationMs: z.number().int().min(0) }),
  /**
   * Time-to-effect: polls `provider` until `until` holds. Output `{ reached, elapsedMs,
   * attempts }`, elapsed counted from the end of activity `since` (default: this step's start).
   * Not reached before `deadlineMs`, or slower than `sloMs`, marks the drill deviated.
   */
  z.strictObject({
    type: z.literal('measure'),
    ...named,
    provider: ProviderSchema,
    until: ToleranceSchema,
    deadlineMs: positiveMs,
    /** Default 100 ms. */
    intervalMs: positiveMs.optional(),
    sloMs: positiveMs.optional(),
    since: z.string().optional(),
  }),
  /** Re-checks the steady-state hypothesis now; recorded under `steadyStates.during`. */
  z.strictObject({ type: z.literal('hypothesis'), ...named }),
]);
export type Activity = z.infer<typeof ActivitySchema>;

/** How a drill-owned child is judged ready after start or restart. */
const ReadySchema = z.union([
  z.strictObject({
    tcp: z.strictObject({ host: z.string(), port: z.union([z.number(), z.string()]) }),
  }),
  z.strictObject({ http: z.string().min(1) }),
  z.strictObject({ logLine: z.string().min(1) }),
]);

export const ProcessSpecSchema = z.strictObject({
  command: argv,
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional(),
  ready: ReadySchema.optional(),
  /** Default 15000 ms. */
  readyTimeoutMs: positiveMs.optional(),
});
export type ProcessSpec = z.infer<typeof ProcessSpecSchema>;

export const ProxySpecSchema = z.strictObject({
  /** `http` understands requests (5xx, garbage bodies); `tcp` only bytes. */
  mode: z.enum(['http', 'tcp']),
  /** `host:port` of the backend behind the proxy. */
  upstream: z.string().min(1),
  /** Default 0: an ephemeral port, published as `${proxies.NAME.port}`. */
  listenPort: z.number().int().min(0).max(65535).optional(),
});
export type ProxySpec = z.infer<typeof ProxySpecSchema>;

export const DrillSchema = z.strictObject({
  title: z.string().min(1),
  description: z.string().optional(),
  /** Who or what the drill may hurt, in words ("local reference service only"). Required. */
  blastRadius: z.string().min(1),
  tags: z.array(z.string()).optional(),
  /** Target capabilities the drill needs (`auth`, `broker`, `idp`, `ca`, `amqp`, ...). */
  requires: z.array(z.string()).optional(),
  /** Names of loopback ports allocated before anything starts: `${ports.NAME}`. */
  ports: z.array(z.string().min(1)).optional(),
  processes: z.record(z.string(), ProcessSpecSchema).optional(),
  proxies: z.record(z.string(), ProxySpecSchema).optional(),
  /** Log files whose last lines are attached to a failed step: name → path. */
  logs: z.record(z.string(), z.string()).optional(),
  steadyState: z.strictObject({
    title: z.string().min(1),
    probes: z.array(ProbeSchema),
  }),
  method: z.array(ActivitySchema).min(1),
  /** Run always, in order: after success, failure, a stop condition or an interrupt. */
  rollbacks: z.array(z.strictObject({ name: z.string().min(1), action: ActionSchema })),
  /** Watched during the method; any miss aborts the drill at once. */
  stopConditions: z
    .strictObject({
      /** Default 250 ms. */
      intervalMs: positiveMs.optional(),
      probes: z.array(ProbeSchema).min(1),
    })
    .optional(),
});
export type Drill = z.infer<typeof DrillSchema>;

/** Writes a drill in TypeScript with types checked: `export default defineDrill({...})`. */
export function defineDrill(drill: Drill): Drill {
  return drill;
}
