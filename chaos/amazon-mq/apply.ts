/**
 * Applying a configuration to an Amazon MQ broker and rebooting it, with `@aws-sdk/client-mq`:
 * UpdateConfiguration (new revision) → UpdateBroker (revision pending) → RebootBroker → poll
 * DescribeBroker until RUNNING with nothing pending and no action required (RABBITMQ.md
 * section 5). Reboot alone is also a chaos fault. Tested only against the local stand-in.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  DescribeBrokerCommand,
  MqClient,
  RebootBrokerCommand,
  UpdateBrokerCommand,
  UpdateConfigurationCommand,
} from '@aws-sdk/client-mq';

import { ErrorCode, WarrenError } from '../../lib/errors.js';

export interface MqClientOptions {
  /** AWS region; required by the SDK even against the stand-in. */
  region: string;
  /** Endpoint override, e.g. the local stand-in's `http://127.0.0.1:PORT`. */
  endpoint?: string;
  /**
   * Fixed credentials for the stand-in only. Against AWS leave unset: the SDK's default chain
   * (environment, profile, role) applies and Warren never sees the secret.
   */
  standInCredentials?: boolean;
}

/** An MqClient; silences the SDK's Node 20 end-of-support warning (DEPENDENCIES.md). */
export function createMqClient(options: MqClientOptions): MqClient {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  return new MqClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.standInCredentials
      ? { credentials: { accessKeyId: 'WARRENSTANDIN', secretAccessKey: 'stand-in-not-a-secret' } }
      : {}),
    maxAttempts: 2,
  });
}

export interface PollOptions {
  /** Between DescribeBroker calls; default 5000 ms (AWS), use ~50 ms against the stand-in. */
  pollIntervalMs?: number;
  /** Give up after; default 1_200_000 ms (a real reboot takes minutes). */
  deadlineMs?: number;
  signal?: AbortSignal;
}

/** What a broker looked like when polling ended. */
export interface BrokerSnapshot {
  brokerState: string;
  current?: { id?: string; revision?: number };
  pending?: { id?: string; revision?: number };
  actionsRequired: { code: string; info: string }[];
}

/** Result of `applyConfiguration`. */
export interface ApplyResult {
  revision: number;
  /** From RebootBroker to RUNNING with the revision current. */
  rebootMs: number;
  broker: BrokerSnapshot;
}

/** Uploads `text` as a new revision, makes it pending, reboots, waits until it is current. */
export async function applyConfiguration(
  client: MqClient,
  target: { brokerId: string; configurationId: string; description?: string },
  text: string,
  poll: PollOptions = {},
): Promise<ApplyResult> {
  const updated = await client.send(
    new UpdateConfigurationCommand({
      ConfigurationId: target.configurationId,
      Data: Buffer.from(text, 'utf8').toString('base64'),
      Description: target.description ?? 'Warren: HTTP auth and certificate login',
    }),
  );
  const revision = updated.LatestRevision?.Revision;
  if (revision === undefined)
    throw new WarrenError(ErrorCode.Broker, 'UpdateConfiguration returned no revision');
  await client.send(
    new UpdateBrokerCommand({
      BrokerId: target.brokerId,
      Configuration: { Id: target.configurationId, Revision: revision },
    }),
  );
  const pending = await describe(client, target.brokerId);
  if (pending.pending?.revision !== revision) {
    throw new WarrenError(
      ErrorCode.Broker,
      `broker ${target.brokerId} does not show revision ${revision} as pending`,
    );
  }
  const reboot = await rebootBroker(client, target.brokerId, poll);
  if (reboot.broker.current?.revision !== revision) {
    throw new WarrenError(
      ErrorCode.Broker,
      `broker ${target.brokerId} runs revision ${reboot.broker.current?.revision}, not ${revision}`,
    );
  }
  return { revision, rebootMs: reboot.elapsedMs, broker: reboot.broker };
}

/**
 * RebootBroker, then polls until RUNNING with nothing pending. A broker that ends in an
 * action-required state fails with WARREN_ERR_BROKER naming the action (e.g.
 * RABBITMQ_INVALID_ARN_HTTP); one that never settles, with WARREN_ERR_TIMEOUT.
 */
export async function rebootBroker(
  client: MqClient,
  brokerId: string,
  poll: PollOptions = {},
): Promise<{ elapsedMs: number; broker: BrokerSnapshot; states: string[] }> {
  const started = performance.now();
  await client.send(new RebootBrokerCommand({ BrokerId: brokerId }));
  const deadline = started + (poll.deadlineMs ?? 1_200_000);
  const states: string[] = [];
  for (;;) {
    await sleep(poll.pollIntervalMs ?? 5000, undefined, { signal: poll.signal });
    const broker = await describe(client, brokerId);
    if (states.at(-1) !== broker.brokerState) states.push(broker.brokerState);
    if (broker.actionsRequired.length > 0 && broker.brokerState !== 'REBOOT_IN_PROGRESS') {
      const actions = broker.actionsRequired
        .map((action) => `${action.code}: ${action.info}`)
        .join('; ');
      throw new WarrenError(
        ErrorCode.Broker,
        `broker ${brokerId} needs action after reboot: ${actions}`,
      );
    }
    if (broker.brokerState === 'RUNNING' && broker.pending === undefined && states.length > 1) {
      return { elapsedMs: Math.round(performance.now() - started), broker, states };
    }
    if (performance.now() > deadline) {
      throw new WarrenError(
        ErrorCode.Timeout,
        `broker ${brokerId} did not come back RUNNING within ${poll.deadlineMs ?? 1_200_000} ms (states: ${states.join(' → ')})`,
      );
    }
  }
}

/** DescribeBroker reduced to what Warren judges. */
export async function describe(client: MqClient, brokerId: string): Promise<BrokerSnapshot> {
  const answer = await client.send(new DescribeBrokerCommand({ BrokerId: brokerId }));
  return {
    brokerState: answer.BrokerState ?? 'UNKNOWN',
    ...(answer.Configurations?.Current
      ? {
          current: {
            id: answer.Configurations.Current.Id,
            revision: answer.Configurations.Current.Revision,
          },
        }
      : {}),
    ...(answer.Configurations?.Pending
      ? {
          pending: {
            id: answer.Configurations.Pending.Id,
            revision: answer.Configurations.Pending.Revision,
          },
        }
      : {}),
    actionsRequired: (answer.ActionsRequired ?? []).map((action) => ({
      code: action.ActionRequiredCode ?? '',
      info: action.ActionRequiredInfo ?? '',
    })),
  };
}
