/**
 * A LOCAL STAND-IN for the Amazon MQ REST API, on 127.0.0.1 — not AWS. AWS cannot be reached
 * from these machines, so Warren's Amazon MQ path is tested against this: just the operations
 * Warren calls (UpdateConfiguration, UpdateBroker, RebootBroker, DescribeBroker, plus
 * DescribeConfigurationRevision), with the wire shapes of `@aws-sdk/client-mq` (restJson1,
 * lowerCamel JSON names, `x-amzn-errortype` errors) and the state transitions Warren relies on:
 *
 * - UpdateConfiguration stores a new revision (data is base64 rabbitmq.conf);
 * - UpdateBroker makes a revision *pending*: nothing changes until a reboot;
 * - RebootBroker: RUNNING → REBOOT_IN_PROGRESS for `rebootMs`, then the pending revision
 *   becomes current; an `aws.arns.*` value that is not an ARN leaves the broker
 *   CRITICAL_ACTION_REQUIRED with action `RABBITMQ_INVALID_ARN_HTTP` (RABBITMQ.md section 5);
 *   rebooting while a reboot runs is a 409 ConflictException.
 *
 * Requests must carry a SigV4 `authorization` header (the SDK signs; the signature itself is
 * not checked). What real AWS does beyond this (sanitising warnings, maintenance windows,
 * engine upgrades, throttling) is not modelled.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

import { isPlausibleArn } from './config.js';

export interface MqStandInOptions {
  /** Default 0 (ephemeral); always 127.0.0.1. */
  port?: number;
  /** How long a reboot takes; default 1500 ms. */
  rebootMs?: number;
  /** Broker and configuration the stand-in starts with. */
  brokerId?: string;
  configurationId?: string;
}

interface Revision {
  revision: number;
  data: string;
  description: string;
  created: string;
}

interface BrokerState {
  brokerId: string;
  brokerName: string;
  brokerState: 'RUNNING' | 'REBOOT_IN_PROGRESS' | 'CRITICAL_ACTION_REQUIRED';
  current: { id: string; revision: number };
  pending?: { id: string; revision: number };
  history: { id: string; revision: number }[];
  actionsRequired: { actionRequiredCode: string; actionRequiredInfo: string }[];
  reboots: number;
}

/** A running stand-in: its endpoint, state for assertions, and `close`. */
export interface MqStandIn {
  /** `http://127.0.0.1:PORT`: pass as the MqClient `endpoint`. */
  readonly endpoint: string;
  readonly brokerId: string;
  readonly configurationId: string;
  /** Snapshot of the broker's state (for tests). */
  broker(): Readonly<BrokerState>;
  /** The rabbitmq.conf text of a stored revision. */
  revisionText(revision: number): string | undefined;
  /** Operation names received, in order. */
  readonly calls: string[];
  close(): Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Starts the stand-in on 127.0.0.1. */
export async function startMqStandIn(options: MqStandInOptions = {}): Promise<MqStandIn> {
  const brokerId = options.brokerId ?? 'b-0a1b2c3d-4e5f-6789-abcd-ef0123456789';
  const configurationId = options.configurationId ?? 'c-0a1b2c3d-4e5f-6789-abcd-ef0123456789';
  const created = new Date().toISOString();
  const revisions: Revision[] = [{ revision: 1, data: '', description: 'initial', created }];
  const broker: BrokerState = {
    brokerId,
    brokerName: 'warren-standin',
    brokerState: 'RUNNING',
    current: { id: configurationId, revision: 1 },
    history: [],
    actionsRequired: [],
    reboots: 0,
  };
  const calls: string[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const api = { broker, revisions, configurationId, rebootMs: options.rebootMs ?? 1500, timers };
  const server: Server = createServer((req, res) => {
    void handle(req, res, api, calls);
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    brokerId,
    configurationId,
    broker: () => structuredClone(broker),
    revisionText: (revision) => {
      const found = revisions.find((item) => item.revision === revision);
      return found ? Buffer.from(found.data, 'base64').toString('utf8') : undefined;
    },
    calls,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type Api = {
  broker: BrokerState;
  revisions: Revision[];
  configurationId: string;
  rebootMs: number;
  timers: Set<NodeJS.Timeout>;
};

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  api: Api,
  calls: string[],
): Promise<void> {
  try {
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256')) {
      throw new ApiError(403, 'ForbiddenException', 'request is not signed (SigV4)');
    }
    const body = await readJson(req);
    const url = new URL(req.url ?? '/', 'http://standin');
    const answer = route(req.method ?? 'GET', url.pathname, body, api, calls);
    send(res, 200, answer);
  } catch (error) {
    const failure =
      error instanceof ApiError
        ? error
        : new ApiError(500, 'InternalServerErrorException', String(error));
    res.setHeader('x-amzn-errortype', failure.type);
    send(res, failure.status, { errorAttribute: failure.type, message: failure.message });
  }
}

function route(
  method: string,
  path: string,
  body: Record<string, unknown>,
  api: Api,
  calls: string[],
): unknown {
  const configuration = /^\/v1\/configurations\/([^/]+)$/.exec(path);
  const revision = /^\/v1\/configurations\/([^/]+)\/revisions\/(\d+)$/.exec(path);
  const broker = /^\/v1\/brokers\/([^/]+)(\/reboot)?$/.exec(path);
  if (method === 'PUT' && configuration)
    return record(
      calls,
      'UpdateConfiguration',
      updateConfiguration(api, decodeURIComponent(configuration[1] ?? ''), body),
    );
  if (method === 'GET' && revision)
    return record(
      calls,
      'DescribeConfigurationRevision',
      describeRevision(api, Number(revision[2])),
    );
  if (broker) {
    const id = decodeURIComponent(broker[1] ?? '');
    if (id !== api.broker.brokerId)
      throw new ApiError(404, 'NotFoundException', `broker ${id} not found`);
    if (method === 'GET' && !broker[2]) return record(calls, 'DescribeBroker', describeBroker(api));
    if (method === 'PUT' && !broker[2])
      return record(calls, 'UpdateBroker', updateBroker(api, body));
    if (method === 'POST' && broker[2]) return record(calls, 'RebootBroker', rebootBroker(api));
  }
  throw new ApiError(
    404,
    'NotFoundException',
    `${method} ${path} is not an operation of this stand-in`,
  );
}

function record(calls: string[], name: string, answer: unknown): unknown {
  calls.push(name);
  return answer;
}

function updateConfiguration(api: Api, id: string, body: Record<string, unknown>): unknown {
  if (id !== api.configurationId)
    throw new ApiError(404, 'NotFoundException', `configuration ${id} not found`);
  const data = body['data'];
  if (typeof data !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) {
    throw new ApiError(400, 'BadRequestException', 'data must be base64');
  }
  const latest: Revision = {
    revision: (api.revisions.at(-1)?.revision ?? 0) + 1,
    data,
    description: typeof body['description'] === 'string' ? body['description'] : '',
    created: new Date().toISOString(),
  };
  api.revisions.push(latest);
  const summary = {
    revision: latest.revision,
    description: latest.description,
    created: latest.created,
  };
  return {
    arn: `arn:aws:mq:us-east-1:123456789012:configuration:${id}`,
    id,
    name: 'warren',
    created: latest.created,
    latestRevision: summary,
    warnings: [],
  };
}

function describeRevision(api: Api, revision: number): unknown {
  const found = api.revisions.find((item) => item.revision === revision);
  if (!found) throw new ApiError(404, 'NotFoundException', `revision ${revision} not found`);
  return {
    configurationId: api.configurationId,
    created: found.created,
    data: found.data,
    description: found.description,
  };
}

function updateBroker(api: Api, body: Record<string, unknown>): unknown {
  const wanted = body['configuration'] as { id?: unknown; revision?: unknown } | undefined;
  if (
    wanted?.id !== api.configurationId ||
    !api.revisions.some((item) => item.revision === wanted.revision)
  ) {
    throw new ApiError(404, 'NotFoundException', 'configuration id or revision not found');
  }
  api.broker.pending = { id: api.configurationId, revision: Number(wanted.revision) };
  return { brokerId: api.broker.brokerId, configuration: api.broker.pending };
}

function rebootBroker(api: Api): unknown {
  if (api.broker.brokerState === 'REBOOT_IN_PROGRESS') {
    throw new ApiError(409, 'ConflictException', 'broker is already rebooting');
  }
  api.broker.brokerState = 'REBOOT_IN_PROGRESS';
  api.broker.reboots += 1;
  const timer = setTimeout(() => {
    api.timers.delete(timer);
    finishReboot(api);
  }, api.rebootMs);
  api.timers.add(timer);
  return {};
}

/** Applies the pending revision; an invalid `aws.arns.*` value needs action from the user. */
function finishReboot(api: Api): void {
  const broker = api.broker;
  if (broker.pending) {
    broker.history.push(broker.current);
    broker.current = broker.pending;
    delete broker.pending;
  }
  const text = Buffer.from(
    api.revisions.find((item) => item.revision === broker.current.revision)?.data ?? '',
    'base64',
  ).toString('utf8');
  const badArn = text
    .split('\n')
    .map((line) => /^\s*aws\.arns\.([\w.]+)\s*=\s*(\S+)/.exec(line))
    .find((match) => match !== null && !isPlausibleArn(match[2] ?? ''));
  broker.actionsRequired = badArn
    ? [
        {
          actionRequiredCode: 'RABBITMQ_INVALID_ARN_HTTP',
          actionRequiredInfo: `aws.arns.${badArn[1]} is not a valid ARN`,
        },
      ]
    : [];
  broker.brokerState = badArn ? 'CRITICAL_ACTION_REQUIRED' : 'RUNNING';
}

function describeBroker(api: Api): unknown {
  const broker = api.broker;
  return {
    brokerId: broker.brokerId,
    brokerName: broker.brokerName,
    brokerArn: `arn:aws:mq:us-east-1:123456789012:broker:${broker.brokerName}:${broker.brokerId}`,
    brokerState: broker.brokerState,
    engineType: 'RABBITMQ',
    engineVersion: '4.2',
    deploymentMode: 'SINGLE_INSTANCE',
    configurations: {
      current: broker.current,
      history: broker.history,
      ...(broker.pending ? { pending: broker.pending } : {}),
    },
    actionsRequired: broker.actionsRequired,
    created: new Date(0).toISOString(),
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ApiError(400, 'BadRequestException', 'body is not JSON');
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    })
    .end(text);
}
