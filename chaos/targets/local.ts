/**
 * The local target (default): the project's own parts, started and torn down by each drill on
 * loopback ports of their own, so a drill never touches anyone else's broker or service:
 *
 *   test IdP (harness/idp, ephemeral port)
 *   fault proxy `auth` in front of reference-auth (HTTP mode)
 *   RabbitMQ (harness/broker, instance `chaos-3-10` or `chaos-4-0`) whose HTTP backend is the proxy
 *   reference-auth (a child process the drill controls: kill, SIGSTOP, restart), started last so
 *   it knows the broker's management URL: it evicts expired, revoked and killed logins there
 *   as the run's own eviction operator (reference-auth/ops/eviction-operator.ts)
 *
 * Operations offered to drills: auth.stop, auth.pause, auth.restore, auth.admin (the admin API
 * with the run's own token), broker.restart, amqp.attempt, amqp.open, idp.rotate, idp.retire,
 * idp.jwks-mode.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { openCa, type CertificateAuthority } from '../../certs/index.js';
import type { ClientTls } from '../../harness/amqp/index.js';
import {
  refreshBrokerCrls,
  runCtl,
  missingHostPackages,
  startBroker,
  stopBroker,
  brokerLogTail,
} from '../../harness/broker/index.js';
import type { BrokerVersion, RunningBroker } from '../../harness/broker/index.js';
import { startIdp, type JwksMode, type RunningIdp } from '../../harness/idp/index.js';
import {
  createEvictionOperator,
  withEvictionOperator,
  type EvictionOperatorCredentials,
} from '../../reference-auth/ops/eviction-operator.js';
import { demoPolicyPath } from '../../reference-auth/policy/load.js';
import { repoRoot, stateDir } from '../../lib/paths.js';
import { ErrorCode, WarrenError } from '../../lib/errors.js';

import { ManagedProcess } from '../faults/process.js';
import { FaultProxy } from '../faults/proxy.js';
import { freePort } from '../resources.js';

import {
  AmqpSessions,
  idpPrincipals,
  type PrincipalResolver,
  type ResolvedPrincipal,
} from './amqp-sessions.js';
import type { StartedTarget, Target, TargetDescription, TargetOperation } from './target.js';

export interface LocalTargetOptions {
  /** Name in the journal; default `local`. */
  name?: string;
  /** RabbitMQ version; default '3.10' (host package; 4.0 needs its debootstrap root). */
  brokerVersion?: BrokerVersion;
  /** Broker instance name; default `chaos-3-10` / `chaos-4-0` (its own ports and folders). */
  instance?: string;
  /** The broker's `auth_http` request and connection timeouts; default 2000 ms. */
  authTimeoutMs?: number;
  /** Put the broker's `cache` backend in front of `http`; default off. */
  cache?: boolean;
  /**
   * Chain the broker's `internal` backend after http (fail-open), with one internal user that
   * principal `internal` logs in as: shows what a fallback backend lets in. Default false.
   */
  fallbackInternal?: boolean;
  /** JWT clock tolerance of the reference service; default 1 s (the service's own: 30 s). */
  clockSkewSeconds?: number;
  /**
   * Give reference-auth the broker's management URL and a per-run eviction operator, so it
   * closes expired, revoked and killed logins' connections. Default true; false reproduces the
   * gap (RABBITMQ.md section 3): open sessions outlive their tokens.
   */
  eviction?: boolean;
}

/** Capabilities the local target offers. */
const capabilities = ['auth', 'auth-proxy', 'broker', 'amqp', 'idp', 'ca', 'ca-rotation'];

/** Parts of the project not wired into the local target yet, and what they wait on. */
const notWired: Record<string, string> = {
  fallback: 'needs a target file with kind: local and fallbackInternal: true',
};

/** The broker instance: one per version, since an instance keeps the version it was made with. */
function instanceOf(options: LocalTargetOptions): string {
  return options.instance ?? `chaos-${(options.brokerVersion ?? '3.10').replace('.', '-')}`;
}

/** Capabilities of a local target with these options. */
function capabilitiesOf(options: LocalTargetOptions): string[] {
  return [...capabilities, ...(options.fallbackInternal ? ['fallback'] : [])];
}

/** The default target: loopback only, non-production by construction. */
export function localTarget(options: LocalTargetOptions = {}): Target {
  const description: TargetDescription = {
    kind: 'local',
    name: options.name ?? 'local',
    nonProduction: true,
  };
  return {
    description,
    missing: async (wanted) => {
      const reasons: Record<string, string> = {};
      const packages = wanted.includes('broker')
        ? missingHostPackages(options.brokerVersion ?? '3.10')
        : [];
      for (const name of wanted) {
        if (name === 'broker' && packages.length > 0)
          reasons[name] = `missing packages: ${packages.join(', ')} (npm run setup)`;
        else if (!capabilitiesOf(options).includes(name))
          reasons[name] = notWired[name] ?? `unknown capability "${name}"`;
      }
      return reasons;
    },
    start: (signal) => startLocal(description, options, signal),
  };
}

/** Everything one local run started, for operations and teardown. */
interface LocalParts {
  idp?: RunningIdp;
  /** The drills' own CA (stateDir('chaos', 'ca')), so revocations never touch others' CA. */
  ca?: CertificateAuthority;
  /** Password of the internal fallback user (random per run; only with `fallbackInternal`). */
  internalPassword: string;
  /** CA generation that issued before `ca.rotate-begin`, retired by `ca.rotate-end`. */
  previousGeneration?: number;
  /** True when the broker chains `internal` after http. */
  internalUsers?: boolean;
  /** TLS material per certificate principal, issued fresh on first use in each run. */
  certs: Map<string, ResolvedPrincipal>;
  auth?: ManagedProcess;
  proxy?: FaultProxy;
  broker?: RunningBroker;
  amqp?: AmqpSessions;
  authPort: number;
  /** The run's eviction operator (random password, in reference-auth's environment only). */
  operator?: EvictionOperatorCredentials;
  /** Policy copy with the operator's scrypt hash (stateDir('chaos', 'reference-auth')). */
  policyFile?: string;
  /** During an overlapped rotation: the previous key, still signing while the new one is announced. */
  signingKid?: string;
  adminUrl: string;
  adminToken: string;
}

async function startLocal(
  description: TargetDescription,
  options: LocalTargetOptions,
  signal: AbortSignal,
): Promise<StartedTarget> {
  const parts: LocalParts = {
    authPort: 0,
    internalPassword: randomBytes(18).toString('hex'),
    certs: new Map(),
    adminUrl: '',
    adminToken: randomBytes(24).toString('hex'),
  };
  const stop = () => stopParts(parts, options);
  try {
    parts.idp = await startIdp({ port: 0, keysDir: stateDir('chaos', 'idp') });
    parts.ca = await openCa({ dir: stateDir('chaos', 'ca') });
    parts.internalUsers = options.fallbackInternal === true;
    signal.throwIfAborted();
    // The broker first (it asks nothing of the backend while booting), so reference-auth can be
    // given the management URL at start.
    const [authPort, adminPort] = [await freePort(), await freePort()];
    parts.authPort = authPort;
    parts.adminUrl = `http://127.0.0.1:${adminPort}`;
    parts.proxy = await FaultProxy.start({
      mode: 'http',
      upstream: { host: '127.0.0.1', port: parts.authPort },
    });
    signal.throwIfAborted();
    parts.broker = await startBroker(brokerOptions(parts, options), { ca: parts.ca });
    const broker = parts.broker;
    signal.throwIfAborted();
    if (options.eviction ?? true) await prepareEvictionOperator(parts, options);
    parts.auth = await startAuth(parts, options, adminPort);
    parts.amqp = new AmqpSessions(
      () => broker.endpoints.amqpUrl,
      withCertificates(
        parts,
        idpPrincipals(parts.idp, () => parts.signingKid),
      ),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    description,
    vars: {
      amqpUrl: parts.broker.endpoints.amqpUrl,
      managementUrl: parts.broker.endpoints.managementUrl,
      authUrl: `http://127.0.0.1:${parts.authPort}`,
      authProxyUrl: parts.proxy.url,
      adminUrl: parts.adminUrl,
      idpUrl: parts.idp.issuer,
      authTimeoutMs: options.authTimeoutMs ?? 2000,
      eviction: parts.operator ? 'on' : 'off',
    },
    capabilities: new Set(capabilitiesOf(options)),
    operations: operationsOf(parts, options),
    proxies: new Map([['auth', parts.proxy]]),
    recentLogs: async (count) => ({
      'reference-auth': parts.auth?.recentLines(count) ?? [],
      broker: brokerLogTail(instanceOf(options), count).split('\n'),
    }),
    stop,
  };
}

/**
 * A fresh eviction operator for this run: random password, its scrypt hash in a policy copy
 * (mode 0600) under stateDir. The password exists only in memory and in the child's environment,
 * so it works nowhere but this run's reference-auth.
 */
async function prepareEvictionOperator(
  parts: LocalParts,
  options: LocalTargetOptions,
): Promise<void> {
  parts.operator = await createEvictionOperator();
  const dir = stateDir('chaos', 'reference-auth');
  await mkdir(dir, { recursive: true });
  parts.policyFile = join(dir, `policy-${instanceOf(options)}.yaml`);
  const policy = withEvictionOperator(await readFile(demoPolicyPath, 'utf8'), parts.operator);
  await writeFile(parts.policyFile, policy, { mode: 0o600 });
}

/** reference-auth's management settings: the drill broker's API and the run's operator. */
function managementEnv(parts: LocalParts): Record<string, string> {
  if (!parts.operator || !parts.broker) return {};
  return {
    WARREN_AUTH_MANAGEMENT_URL: parts.broker.endpoints.managementUrl,
    WARREN_AUTH_MANAGEMENT_USERNAME: parts.operator.username,
    WARREN_AUTH_MANAGEMENT_PASSWORD: parts.operator.password,
  };
}

async function startAuth(
  parts: LocalParts,
  options: LocalTargetOptions,
  adminPort: number,
): Promise<ManagedProcess> {
  const authPort = parts.authPort;
  const idp = parts.idp as RunningIdp;
  const auth = new ManagedProcess('reference-auth', {
    command: [
      process.execPath,
      '--import',
      'tsx',
      join(repoRoot, 'scripts', 'reference-auth.ts'),
      '--listen',
      `127.0.0.1:${authPort}`,
      ...(parts.policyFile ? ['--config', parts.policyFile] : []),
    ],
    cwd: repoRoot,
    // Configuration by environment (reference-auth/config.ts): this run's IdP, admin port and
    // token, management API and operator. Secrets never appear in argv (visible in ps) nor in
    // the journal.
    env: {
      WARREN_AUTH_JWT_ISSUERS: idp.issuer,
      WARREN_AUTH_JWT_JWKS_URL: idp.jwksUrl,
      WARREN_AUTH_JWT_CLOCK_SKEW_SECONDS: String(options.clockSkewSeconds ?? 1),
      WARREN_AUTH_ADMIN_PORT: String(adminPort),
      WARREN_AUTH_ADMIN_TOKEN: parts.adminToken,
      WARREN_AUTH_WATCH_POLICY: 'false',
      ...managementEnv(parts),
    },
    ready: { tcp: { host: '127.0.0.1', port: authPort } },
    readyTimeoutMs: 30_000,
  });
  await auth.start();
  return auth;
}

function brokerOptions(parts: LocalParts, options: LocalTargetOptions) {
  const proxy = parts.proxy as FaultProxy;
  const fallback = options.fallbackInternal === true;
  return {
    fallbackInternal: fallback,
    internalUsers: fallback
      ? [{ username: internalUser, password: parts.internalPassword, vhosts: ['acme'] }]
      : [],
    version: options.brokerVersion ?? ('3.10' as const),
    instance: instanceOf(options),
    backendUrl: proxy.url,
    authTimeoutMs: options.authTimeoutMs ?? 2000,
    cache: options.cache ?? false,
    // EXTERNAL logins take the SPIFFE ID (URI SAN #0), as the demo policy declares them.
    certLoginFrom: 'uri_san' as const,
    crlCheck: true,
  };
}

function operationsOf(
  parts: LocalParts,
  options: LocalTargetOptions,
): Record<string, TargetOperation> {
  const auth = parts.auth as ManagedProcess;
  const idp = parts.idp as RunningIdp;
  const amqp = parts.amqp as AmqpSessions;
  return {
    'auth.stop': async () => {
      await auth.kill();
      return { state: auth.state };
    },
    'auth.pause': async () => {
      auth.pause();
      return { state: auth.state };
    },
    'auth.restore': async () => {
      if (auth.state === 'paused') auth.resume();
      else if (auth.state !== 'running') await auth.start();
      return { state: auth.state, pid: auth.pid ?? null, restarts: auth.restarts };
    },
    'auth.admin': (args, signal) => adminRequest(parts, args, signal),
    'auth.evictions': async () => evictionsLogged(auth),
    'broker.restart': async () => {
      const started = performance.now();
      await stopBroker(instanceOf(options));
      parts.broker = await startBroker(brokerOptions(parts, options), {
        ca: parts.ca,
      });
      return { elapsedMs: Math.round(performance.now() - started), bootMs: parts.broker.bootMs };
    },
    'amqp.attempt': (args) => amqp.attempt(args),
    'amqp.open': (args) => amqp.open(args),
    'amqp.burst': (args) => amqp.burst(args),
    'amqp.prepare-queue': (args) => amqp.prepareQueue(args),
    'amqp.publish-confirmed': (args) => amqp.publishConfirmed(args),
    'amqp.check-delivery': (args) => amqp.checkDelivery(args),
    'auth.kill-switch': (args, signal) =>
      adminRequest(parts, { method: 'POST', path: '/kill-switch', body: args }, signal),
    'auth.kill-switch-release-all': (_args, signal) => releaseKillSwitches(parts, signal),
    // An overlapped rotation: `announceOnly` publishes the new key but keeps signing with the
    // previous one until `idp.sign-with-new-key`, so verifiers can learn the new key first.
    'idp.rotate': async (args) => {
      const previous = idp.currentKey().kid;
      const kid = idp.rotate().kid;
      parts.signingKid = args['announceOnly'] === true ? previous : undefined;
      return { kid, previous, signingKid: parts.signingKid ?? kid };
    },
    'idp.sign-with-new-key': async () => {
      parts.signingKid = undefined;
      return { signingKid: idp.currentKey().kid };
    },
    'idp.retire-previous': async () => {
      const current = idp.currentKey();
      const previous = idp
        .keys()
        .filter(
          (key) => key.alg === current.alg && key.kid !== current.kid && key.state !== 'retired',
        );
      for (const key of previous) idp.retire(key.kid);
      return { retired: previous.map((key) => key.kid), current: current.kid };
    },
    'idp.jwks-mode': async (args) => {
      await idp.setJwksMode(String(args['mode'] ?? 'ok') as JwksMode);
      return idp.jwksMode();
    },
    'idp.counters': async () => idp.counters(),
    'ca.revoke': async (args) => {
      const { name } = certName(String(args['principal'] ?? ''));
      await (parts.ca as CertificateAuthority).revoke(name, 'keyCompromise');
      // The broker checks CRLs at handshake only (RABBITMQ.md section 4): copy the new ones in.
      await refreshBrokerCrls(parts.broker as RunningBroker, parts.ca as CertificateAuthority);
      return { revoked: name };
    },
    'ca.reissue': async (args, signal) => {
      const principal = String(args['principal'] ?? '');
      await restoreCertificateIdentity(parts, principal, signal);
      parts.certs.delete(principal);
      await issueCertificate(parts, principal);
      return { reissued: certName(principal).name };
    },
    // Rotation with overlap: the new generation joins the trust bundle, the broker re-reads it
    // without a restart (Erlang ssl PEM cache cleared); the end retires the old generation after
    // the broker's own server certificate moved to the new one.
    'ca.rotate-begin': async () => {
      const ca = parts.ca as CertificateAuthority;
      parts.previousGeneration = ca.activeGeneration;
      const generation = await ca.rotate();
      await reloadBrokerTls(parts);
      return { generation, previous: parts.previousGeneration };
    },
    'ca.rotate-end': async () => {
      const ca = parts.ca as CertificateAuthority;
      const broker = parts.broker as RunningBroker;
      const server = await ca.issueServerCertificate({
        name: `broker-${broker.options.instance}`,
        dnsNames: ['localhost'],
        ipAddresses: ['127.0.0.1'],
      });
      await copyFile(server.chainPath, broker.tls.serverChainPath);
      await copyFile(server.keyPath, broker.tls.serverKeyPath);
      if (parts.previousGeneration !== undefined) await ca.retire(parts.previousGeneration);
      await reloadBrokerTls(parts);
      return { retired: parts.previousGeneration ?? null, active: ca.activeGeneration };
    },
    // Forced close of the holder's connections, as a deployment does it: the certificate
    // identity is revoked in reference-auth (admin API), which denies its checks and closes its
    // connections through the management API (DELETE /api/connections/username/{user}). With
    // `eviction: false` nothing closes them: the drill shows the gap.
    'broker.evict': async (args, signal) => {
      const { username } = certName(String(args['principal'] ?? ''));
      await adminRequest(
        parts,
        { method: 'POST', path: '/revocations', body: { kind: 'certificate', identity: username } },
        signal,
      );
      return { evicted: username, by: parts.operator ? 'reference-auth' : 'none (eviction off)' };
    },
  };
}

/** The internal-database user of a fallback chain (principal `internal`). */
const internalUser = 'chaos-internal';

const certPattern = /^cert:([a-z0-9-]+)\/([a-z0-9-]+)$/;

/** `cert:TENANT/SERVICE` → certificate name and the SPIFFE ID the broker logs in as. */
function certName(principal: string): {
  name: string;
  tenant: string;
  service: string;
  username: string;
} {
  const match = certPattern.exec(principal);
  if (!match)
    throw new WarrenError(
      ErrorCode.BadInput,
      `principal "${principal}" is not cert:TENANT/SERVICE`,
    );
  const [, tenant = '', service = ''] = match;
  return {
    name: `chaos-${tenant}-${service}`,
    tenant,
    service,
    username: `spiffe://warren.test/ns/${tenant}/sa/${service}`,
  };
}

/**
 * Copies the CA's trust bundle and CRLs into the broker's TLS folder and clears the node's
 * PEM cache, so the next handshake reads them (the listener keeps running).
 */
async function reloadBrokerTls(parts: LocalParts): Promise<void> {
  const ca = parts.ca as CertificateAuthority;
  const broker = parts.broker as RunningBroker;
  await copyFile(ca.trustBundlePath, broker.tls.caBundlePath);
  await refreshBrokerCrls(broker, ca);
  const result = await runCtl(broker.node, ['eval', 'ssl:clear_pem_cache().']);
  if (result.code !== 0)
    throw new WarrenError(ErrorCode.Broker, `ssl:clear_pem_cache() failed (${result.code})`);
}

/** Adds `cert:TENANT/SERVICE` principals (EXTERNAL over mutual TLS) to `base`. */
function withCertificates(parts: LocalParts, base: PrincipalResolver): PrincipalResolver {
  return async (principal) => {
    if (principal === 'internal') {
      if (!(parts.internalUsers ?? false)) {
        throw new WarrenError(
          ErrorCode.BadInput,
          'principal "internal" needs a local target with fallbackInternal: true',
        );
      }
      return {
        login: { mechanism: 'PLAIN', username: internalUser, password: parts.internalPassword },
        vhost: 'acme',
      };
    }
    if (!principal.startsWith('cert:')) return base(principal);
    const known = parts.certs.get(principal) ?? (await issueCertificate(parts, principal));
    // Clients trust whatever the CA distributes now (both roots during a rotation), so a
    // refusal after a rotation is the broker's verdict on the client certificate.
    const ca = await readFile((parts.ca as CertificateAuthority).trustBundlePath, 'utf8');
    return { ...known, tls: { ...(known.tls as ClientTls), ca } };
  };
}

/** Issues (or replaces) the principal's client certificate and keeps its TLS material. */
async function issueCertificate(parts: LocalParts, principal: string): Promise<ResolvedPrincipal> {
  const { name, tenant, service } = certName(principal);
  const ca = parts.ca as CertificateAuthority;
  const issued = await ca.issueClientCertificate({
    name,
    subject: { organization: 'Warren', commonName: service },
    spiffeId: { namespace: tenant, serviceAccount: service },
  });
  const tls = await ca.nodeTlsOptions(issued);
  const resolved: ResolvedPrincipal = {
    login: { mechanism: 'EXTERNAL' },
    vhost: tenant,
    tls: { ca: tls.ca, cert: tls.cert, key: tls.key },
    url: (parts.broker as RunningBroker).endpoints.amqpsUrl,
  };
  parts.certs.set(principal, resolved);
  return resolved;
}

/** The reference service's admin API with this run's bearer token. */
async function adminRequest(
  parts: LocalParts,
  args: Readonly<Record<string, unknown>>,
  signal: AbortSignal,
): Promise<unknown> {
  const method = String(args['method'] ?? 'GET');
  const path = String(args['path'] ?? '/status');
  if (!path.startsWith('/'))
    throw new WarrenError(ErrorCode.BadInput, `auth.admin: path "${path}" must start with "/"`);
  const response = await fetch(`${parts.adminUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${parts.adminToken}`,
      ...(args['body'] ? { 'content-type': 'application/json' } : {}),
    },
    body: args['body'] === undefined ? undefined : JSON.stringify(args['body']),
    signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]),
  });
  const text = await response.text();
  if (!response.ok)
    throw new WarrenError(
      ErrorCode.ProcessFailed,
      `auth.admin ${method} ${path}: ${response.status} ${text.slice(0, 200)}`,
    );
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
}

/**
 * The evictions reference-auth logged (its info lines, at most the last 400 of the child's
 * output): username, trigger, status and the management API's request time.
 */
function evictionsLogged(auth: ManagedProcess): { evictions: Record<string, unknown>[] } {
  const evictions: Record<string, unknown>[] = [];
  for (const line of auth.recentLines(400)) {
    if (!line.includes('"eviction"')) continue;
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      const { eviction, username, status, durationMs, lagMs, msg } = record;
      evictions.push({ eviction, username, status, durationMs, lagMs, msg });
    } catch {
      // Not a JSON log line (pretty-printed or torn): nothing to report from it.
    }
  }
  return { evictions };
}

/** Lifts a `broker.evict` revocation of the principal's identity, if there is one. */
async function restoreCertificateIdentity(
  parts: LocalParts,
  principal: string,
  signal: AbortSignal,
): Promise<void> {
  const { username } = certName(principal);
  const response = await fetch(`${parts.adminUrl}/revocations/restore`, {
    method: 'POST',
    headers: { authorization: `Bearer ${parts.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'certificate', identity: username }),
    signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]),
  });
  await response.body?.cancel();
  if (response.status !== 204 && response.status !== 404)
    throw new WarrenError(
      ErrorCode.ProcessFailed,
      `auth.admin POST /revocations/restore: ${response.status}`,
    );
}

/** Releases every kill-switch rule (a rollback cannot know the ids the method created). */
async function releaseKillSwitches(parts: LocalParts, signal: AbortSignal): Promise<unknown> {
  const listed = (await adminRequest(parts, { path: '/kill-switch' }, signal)) as {
    body: { rules: { id: string }[] };
  };
  for (const rule of listed.body.rules) {
    await adminRequest(parts, { method: 'DELETE', path: `/kill-switch/${rule.id}` }, signal);
  }
  return { released: listed.body.rules.map((rule) => rule.id) };
}

/** Newest first; every part is attempted even when an earlier one fails. */
async function stopParts(parts: LocalParts, options: LocalTargetOptions): Promise<void> {
  const errors: string[] = [];
  const attempt = async (what: string, action: () => Promise<unknown>) => {
    await action().catch((error: unknown) => errors.push(`${what}: ${String(error)}`));
  };
  await attempt('amqp sessions', async () => parts.amqp?.closeAll());
  if (parts.broker) await attempt('broker', () => stopBroker(instanceOf(options)));
  await attempt('auth proxy', async () => parts.proxy?.close());
  await attempt('reference-auth', async () => parts.auth?.stop());
  await attempt('idp', async () => parts.idp?.stop());
  if (errors.length > 0)
    throw new WarrenError(ErrorCode.ProcessFailed, `local target teardown: ${errors.join('; ')}`);
}
