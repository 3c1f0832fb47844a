/**
 * Broker mode: real AMQP 0-9-1 clients (amqplib, Nagle off) through local RabbitMQ 3.10 and 4.0
 * brokers whose HTTP auth backend is the backend under test. Scenarios open vhosts, declare,
 * bind, publish and consume, and the broker's outcome (ok, 403 at login, 530 on the vhost, a
 * channel closed with 403, a closed connection, a failed TLS handshake) must match.
 */
import type { ChannelModel, ConfirmChannel } from 'amqplib';

import type { CertificateAuthority } from '../../certs/index.js';
import { openCa } from '../../certs/index.js';
import { clientTlsFromFiles, closeOutcome, connectAmqp } from '../../harness/amqp/index.js';
import type { AmqpOutcome, ClientTls } from '../../harness/amqp/index.js';
import { refreshBrokerCrls, startBroker, stopBroker } from '../../harness/broker/index.js';
import { describeCall, startRecordingProxy } from '../../harness/recorder/index.js';
import type { Recorder } from '../../harness/recorder/index.js';
import type { RunningBroker } from '../../harness/broker/index.js';
import { stateDir } from '../../lib/paths.js';
import type { IdpControl, LoginIdentity } from '../identity.js';
import { resolveIdentity } from '../identity.js';
import { stepAction } from '../model.js';
import type { BrokerExpect, RabbitmqVersion, Scenario, Step } from '../model.js';
import type { Profile } from '../profile.js';
import type { TranscriptEntry } from '../results.js';
import { MissingVariable, fill } from '../template.js';

/** Options of startBrokerMode. */
export interface BrokerModeOptions {
  /** Backend the brokers call (`auth_http.*_path` = this URL + the profile's paths). */
  backendUrl: string;
  profile: Profile;
  idp: IdpControl;
  versions: readonly RabbitmqVersion[];
  /** Progress lines (broker boot). */
  log?: (line: string) => void;
  /** Broker instance names start with this; default `conformance` (tests use their own). */
  instancePrefix?: string;
  /**
   * Put a recording proxy between the brokers and the backend, so spy-mode runs can report the
   * exact calls per operation. Default false.
   */
  spy?: boolean;
}

/** A step that only a broker Warren started itself can run (not a staging broker). */
class NeedsLocalBroker extends Error {}

/** Where nothing listens: the probe brokers' auth service is "down" (connections refused). */
const DEAD_BACKEND_URL = 'http://127.0.0.1:9';

/** Started brokers and a function that runs one scenario on one of them. */
export interface BrokerMode {
  run(scenario: Scenario, version: RabbitmqVersion, mode: 'broker' | 'spy'): Promise<BrokerOutcome>;
  stop(): Promise<void>;
}

export interface BrokerOutcome {
  status: 'passed' | 'failed' | 'skipped';
  reason?: string;
  transcript: TranscriptEntry[];
}

interface Certificates {
  ca: CertificateAuthority;
  otherCa: CertificateAuthority;
}

/**
 * Starts one broker per version (instances `conformance-3-10`, `conformance-4-0`): 3.10 asks
 * the backend over GET (RabbitMQ's default), 4.0 over POST, so a run covers both; EXTERNAL
 * usernames come from the URI SAN (the SPIFFE ID), as the demo policy expects.
 */
export async function startBrokerMode(options: BrokerModeOptions): Promise<BrokerMode> {
  const certificates: Certificates = {
    ca: await openCa({ dir: stateDir('conformance', 'ca') }),
    otherCa: await openCa({ dir: stateDir('conformance', 'other-ca') }),
  };
  const brokers = new Map<RabbitmqVersion, RunningBroker>();
  const recorder =
    options.spy === true
      ? await startRecordingProxy({ target: options.backendUrl, timeoutMs: 10_000 })
      : undefined;
  const brokerBackendUrl = recorder?.url ?? options.backendUrl;
  try {
    for (const version of options.versions) {
      options.log?.(
        `broker mode: starting RabbitMQ ${version} against ${options.backendUrl}` +
          (recorder === undefined ? '' : ` (through the recording proxy ${recorder.url})`),
      );
      const broker = await startBroker(
        {
          version,
          instance: `${options.instancePrefix ?? 'conformance'}-${version.replace('.', '-')}`,
          backendUrl: brokerBackendUrl,
          backendPaths: options.profile.backend.paths,
          httpMethod: version === '3.10' ? 'get' : 'post',
          certLoginFrom: 'uri_san',
        },
        { ca: certificates.ca },
      );
      brokers.set(version, broker);
    }
  } catch (error) {
    for (const broker of brokers.values()) await stopBroker(broker).catch(() => undefined);
    await recorder?.close();
    throw error;
  }
  const probes = new Map<RabbitmqVersion, Promise<RunningBroker>>();
  const probeFor = (version: RabbitmqVersion): Promise<RunningBroker> => {
    let probe = probes.get(version);
    if (probe === undefined) {
      options.log?.(
        `broker mode: starting the fail-closed probe broker ${version} (http → internal, backend down)`,
      );
      probe = startBroker(
        {
          version,
          instance: `${options.instancePrefix ?? 'conformance'}-probe-${version.replace('.', '-')}`,
          backendUrl: DEAD_BACKEND_URL,
          backendPaths: options.profile.backend.paths,
          certLoginFrom: 'uri_san',
          // The chain a fail-open deployment has: when the auth service is down the broker asks
          // its internal database next (RABBITMQ.md section 2). It must still admit nobody.
          fallbackInternal: true,
        },
        { ca: certificates.ca },
      );
      probes.set(version, probe);
    }
    return probe;
  };
  return {
    run: (scenario, version, mode) => {
      const broker = brokers.get(version);
      if (broker === undefined) {
        return Promise.resolve({
          status: 'skipped',
          reason: `no ${version} broker in this run`,
          transcript: [],
        });
      }
      const probe = (): Promise<RunningBroker> => probeFor(version);
      if (mode === 'spy' && recorder === undefined) {
        return Promise.resolve({
          status: 'skipped',
          reason: 'spy mode was not set up',
          transcript: [],
        });
      }
      const spy = mode === 'spy' ? recorder : undefined;
      return runBrokerScenario(scenario, {
        broker,
        amqpUrl: broker.endpoints.amqpUrl,
        probe,
        certificates,
        ...options,
        ...(spy ? { recorder: spy } : {}),
      });
    },
    stop: async () => {
      const started: RunningBroker[] = [...brokers.values()];
      for (const probe of probes.values()) {
        const broker = await probe.catch(() => undefined);
        if (broker !== undefined) started.push(broker);
      }
      for (const broker of started) await stopBroker(broker).catch(() => undefined);
      await recorder?.close();
    },
  };
}

/** A broker Warren did not start (`--broker URL --management URL`). */
export interface StagingBroker {
  /** `amqp://host:port` (PLAIN logins with tokens go there). */
  amqpUrl: string;
  /** Management API base URL; checked for reachability at start. */
  managementUrl: string;
  /** The version the results are labelled with. */
  version: RabbitmqVersion;
}

/**
 * Broker mode against a staging broker: PLAIN scenarios only (its CA, certificate login and
 * auth chain are not Warren's to change); the rest are skipped with the reason. Spy mode needs
 * the recording proxy between broker and backend, so it is skipped too.
 */
export async function stagingBrokerMode(
  options: BrokerModeOptions,
  staging: StagingBroker,
): Promise<BrokerMode> {
  try {
    await fetch(new URL('/api/overview', staging.managementUrl), {
      signal: AbortSignal.timeout(5000),
    });
  } catch (error) {
    throw new Error(`management API ${staging.managementUrl} does not answer`, { cause: error });
  }
  const certificates: Certificates = {
    ca: await openCa({ dir: stateDir('conformance', 'ca') }),
    otherCa: await openCa({ dir: stateDir('conformance', 'other-ca') }),
  };
  const skip = (reason: string): Promise<BrokerOutcome> =>
    Promise.resolve({ status: 'skipped', reason, transcript: [] });
  return {
    run: (scenario, version, mode) => {
      if (version !== staging.version) return skip(`the staging broker is ${staging.version}`);
      if (mode === 'spy') return skip('spy mode needs local brokers behind the recording proxy');
      return runBrokerScenario(scenario, {
        ...options,
        amqpUrl: staging.amqpUrl,
        certificates,
        probe: () => Promise.reject(new NeedsLocalBroker('fail-closed probes need a local broker')),
      });
    },
    stop: () => Promise.resolve(),
  };
}

interface BrokerContext extends BrokerModeOptions {
  /** The local broker; absent for a staging broker given by URL. */
  broker?: RunningBroker;
  /** The AMQP URL PLAIN connections go to (the local broker's, or the staging broker's). */
  amqpUrl: string;
  /** The fail-closed probe broker of the same version, started on first use. */
  probe: () => Promise<RunningBroker>;
  certificates: Certificates;
  /** Spy mode: the proxy that saw every call the broker made. */
  recorder?: Recorder;
}

interface Session {
  identity: LoginIdentity;
  connection?: ChannelModel;
  channel?: ConfirmChannel;
  lastError?: Error;
}

/** Runs one scenario's broker operations; stops at the first unexpected outcome. */
export async function runBrokerScenario(
  scenario: Scenario,
  context: BrokerContext,
): Promise<BrokerOutcome> {
  const transcript: TranscriptEntry[] = [];
  const vars: Record<string, string> = {
    ...context.profile.vars,
    unique: `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    issuer: context.idp.issuer,
    audience: context.profile.token.audience,
  };
  let session: Session;
  try {
    const identity = await resolveIdentity(scenario.given, {
      profile: context.profile,
      idp: context.idp,
      vars,
      time: {
        nowSeconds: Math.floor(Date.now() / 1000),
        skewSeconds: context.profile.token.clockSkewSeconds,
        lifetimeSeconds: context.profile.token.lifetimeSeconds,
      },
    });
    session = { identity };
  } catch (error) {
    if (error instanceof MissingVariable)
      return { status: 'skipped', reason: error.message, transcript };
    throw error;
  }
  try {
    for (const [index, raw] of scenario.when.entries()) {
      const step = fill(raw, vars);
      const action = stepAction(step);
      const callsBefore = context.recorder?.calls.length ?? 0;
      let observed: Observed;
      try {
        observed = await runOperation(step, session, context);
      } catch (error) {
        if (error instanceof NeedsLocalBroker) {
          return { status: 'skipped', reason: error.message, transcript };
        }
        throw error;
      }
      const calls = await spiedCalls(context.recorder, callsBefore);
      const expected = step.outcome ?? 'ok';
      const ok = observed.outcome === expected;
      transcript.push({
        step: index + 1,
        action,
        request: describeOperation(step),
        expected,
        observed: observed.outcome,
        ok,
        ...(observed.detail === undefined ? {} : { detail: observed.detail }),
        ...(calls === undefined ? {} : { calls }),
      });
      if (!ok) {
        return {
          status: 'failed',
          reason: `step ${index + 1} (${action}): expected ${expected}, observed ${observed.outcome}`,
          transcript,
        };
      }
    }
    return { status: 'passed', transcript };
  } finally {
    await session.connection?.close().catch(() => undefined);
  }
}

/**
 * The calls made during one operation. The broker answers the client after its backend calls
 * return, so they are recorded by then; a short settle lets a trailing call (a second user-path
 * call through the cache backend) land. Passwords are redacted by describeCall.
 */
async function spiedCalls(
  recorder: Recorder | undefined,
  from: number,
): Promise<string[] | undefined> {
  if (recorder === undefined) return undefined;
  await new Promise((resolve) => setTimeout(resolve, 50));
  return recorder.calls.slice(from).map(describeCall);
}

function describeOperation(step: Step): string {
  const action = stepAction(step);
  return `${action} ${JSON.stringify(step[action])}`;
}

interface Observed {
  outcome: BrokerExpect;
  detail?: string;
}

async function runOperation(
  step: Step,
  session: Session,
  context: BrokerContext,
): Promise<Observed> {
  if (step.connect !== undefined) return connect(step.connect, session, context);
  if (session.connection === undefined) {
    return {
      outcome: 'connection-closed',
      detail: 'no open connection (an earlier connect failed)',
    };
  }
  try {
    const channel = session.channel ?? (await openChannel(session));
    if (step.declare !== undefined) {
      const declare = step.declare;
      if (declare.kind === 'exchange')
        await channel.assertExchange(declare.name, declare.type ?? 'topic', { durable: false });
      else await channel.assertQueue(declare.name, { durable: false });
    } else if (step.bind !== undefined) {
      await channel.bindQueue(step.bind.queue, step.bind.exchange, step.bind.key);
    } else if (step.publish !== undefined) {
      channel.publish(step.publish.exchange, step.publish.key, Buffer.from('warren'));
      await channel.waitForConfirms();
    } else if (step.consume !== undefined) {
      await channel.consume(step.consume.queue, () => undefined, { noAck: true });
    } else {
      return {
        outcome: 'connection-closed',
        detail: `${stepAction(step)} is a protocol step; broker mode cannot run it`,
      };
    }
    return { outcome: 'ok' };
  } catch (error) {
    session.channel = undefined;
    // The channel's close frame (with its reply code) arrives as an 'error' event; the call
    // itself only learns "channel closed". Let the event land, then prefer it.
    await new Promise((resolve) => setImmediate(resolve));
    const cause = session.lastError ?? error;
    session.lastError = undefined;
    return classifyOperationError(cause, session);
  }
}

async function openChannel(session: Session): Promise<ConfirmChannel> {
  const connection = session.connection as ChannelModel;
  const channel = await connection.createConfirmChannel();
  // A channel error closes the channel; the failing call reports it, the event is expected.
  channel.on('error', (error: Error) => {
    session.lastError = error;
  });
  session.channel = channel;
  return channel;
}

/** 403 closes the channel (ACCESS_REFUSED); 541/320 close the whole connection. */
function classifyOperationError(error: unknown, session: Session): Observed {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  if (code === 403 || /403/.test(message)) return { outcome: 'access-refused', detail: message };
  if (/Connection closed|connection closed|541|320/i.test(message)) {
    session.connection = undefined;
    return { outcome: 'connection-closed', detail: message };
  }
  return { outcome: 'channel-closed', detail: message };
}

async function connect(
  request: NonNullable<Step['connect']>,
  session: Session,
  context: BrokerContext,
): Promise<Observed> {
  const mechanism =
    request.mechanism ?? (session.identity.kind === 'external' ? 'external' : 'plain');
  const local = context.broker;
  if (local === undefined && (mechanism === 'external' || request.broker === 'backend-down')) {
    throw new NeedsLocalBroker(
      'certificate logins and fail-closed probes need a local broker (its CA and chain are Warren’s)',
    );
  }
  const broker = request.broker === 'backend-down' ? await context.probe() : local;
  let outcome: AmqpOutcome;
  if (mechanism === 'plain') {
    outcome = await connectAmqp({
      url: broker?.endpoints.amqpUrl ?? context.amqpUrl,
      login: {
        mechanism: 'PLAIN',
        username: request.credentials?.username ?? session.identity.username,
        password: request.credentials?.password ?? session.identity.password ?? '',
      },
      vhost: request.vhost,
      timeoutMs: 10_000,
    });
  } else {
    if (broker === undefined) throw new NeedsLocalBroker('EXTERNAL needs a local broker');
    const certificate = request.certificate ?? 'valid';
    const tls = await clientTls(certificate, session.identity, { ...context, broker });
    outcome = await connectAmqp({
      url: broker.endpoints.amqpsUrl,
      login: { mechanism: 'EXTERNAL' },
      vhost: request.vhost,
      tls,
      timeoutMs: 10_000,
    });
  }
  return observeConnect(outcome, session);
}

function observeConnect(outcome: AmqpOutcome, session: Session): Observed {
  switch (outcome.kind) {
    case 'connected':
      session.connection = outcome.connection;
      outcome.connection.on('error', (error: Error) => {
        session.lastError = error;
      });
      return { outcome: 'ok', detail: `connected in ${outcome.elapsedMs} ms` };
    case 'refused':
      return {
        outcome: 'access-refused',
        detail: `403 at login: ${outcome.message.slice(0, 160)}`,
      };
    case 'closed':
      return {
        outcome: outcome.replyCode === 530 ? 'not-allowed' : 'connection-closed',
        detail: `${outcome.replyCode}: ${outcome.message.slice(0, 160)}`,
      };
    case 'tls-failure':
      return { outcome: 'handshake-failed', detail: `TLS ${outcome.alert ?? outcome.errorCode}` };
    case 'socket-error':
      void closeOutcome(outcome);
      // amqplib reports a connection.close answering connection.open (vhost refused, 530)
      // without its reply code; nothing else closes the connection at that point.
      if (/Expected ConnectionOpenOk; got <ConnectionClose/.test(outcome.message)) {
        return {
          outcome: 'not-allowed',
          detail: 'connection.close in reply to connection.open (vhost refused)',
        };
      }
      return {
        outcome: /ECONNRESET|EPIPE/.test(outcome.errorCode)
          ? 'handshake-failed'
          : 'connection-closed',
        detail: `${outcome.errorCode}: ${outcome.message.slice(0, 160)}`,
      };
  }
}

/** Client certificates per scenario need: issued once per name by the run's CA (or another CA). */
async function clientTls(
  kind: 'valid' | 'none' | 'expired' | 'other-ca' | 'revoked',
  identity: LoginIdentity,
  context: BrokerContext & { broker: RunningBroker },
): Promise<ClientTls> {
  const caPath = context.broker.tls.caBundlePath;
  if (kind === 'none') return clientTlsFromFiles({ caPath });
  const { ca, otherCa } = context.certificates;
  const spiffe = identity.username.startsWith('spiffe://') ? identity.username : undefined;
  const base =
    identity.username
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(-40) || 'anonymous';
  const issuer = kind === 'other-ca' ? otherCa : ca;
  const name = `conformance-${kind}-${base}`;
  const past = new Date(Date.now() - 2 * 86_400_000);
  const cert = await issuer.issueClientCertificate({
    name,
    subject: { commonName: base, organization: 'Warren conformance' },
    ...(spiffe === undefined ? {} : { uris: [spiffe] }),
    ...(kind === 'expired'
      ? { notBefore: new Date(past.getTime() - 86_400_000), notAfter: past }
      : {}),
  });
  if (kind === 'revoked') {
    await ca.revoke(name);
    await refreshBrokerCrls(context.broker, ca);
  }
  return clientTlsFromFiles({ caPath, certPath: cert.chainPath, keyPath: cert.keyPath });
}
