/**
 * Built-in scenarios, plain scenario objects validated by defineScenario like any user file.
 * CLI overrides (target, rate, duration) are applied afterwards by applyOverrides. The TLS storms
 * also need a client certificate, issued when the scenario is prepared (prepareBuiltinScenario).
 */
import { openCa, type CertificateAuthority } from '../../certs/index.js';
import { ErrorCode, WarrenError } from '../../lib/errors.js';
import { defineScenario, type Scenario, type ScenarioFile } from '../engine/scenario.js';
import { certificateServices } from '../targets/auth-http.js';

/** The usual SLO: p95 decision time under 10 ms, errors under 0.1 %, every check passing. */
const sloThresholds = {
  http_req_duration: ['p(95)<10', 'p(99)<25 each 10s'],
  http_req_failed: ['rate<0.001'],
  checks: ['rate>0.999'],
};

/** The reference service's decision listener. */
export const referenceUrl = 'http://127.0.0.1:8600';

/** The 3.10 harness broker's TLS listener (default instance), which demands a client certificate. */
export const harnessAmqpsUrl = 'amqps://127.0.0.1:5711';

/** Connection time SLO of the storms through a broker (TLS adds a handshake, well inside it). */
const connectThresholds = {
  amqp_connect_duration: ['p(95)<50', 'p(99)<100 each 10s'],
  checks: ['rate>0.999'],
};

/**
 * Built-in scenarios that present a Warren-issued client certificate: the harness TLS listener
 * sets `fail_if_no_peer_cert`, so without one no handshake completes, whatever the mechanism.
 */
export const clientCertificateScenarios: ReadonlySet<string> = new Set([
  'connect-storm-tls',
  'connect-storm-mtls',
]);

/** Built-in scenarios by name. */
export const builtinScenarios: Record<string, ScenarioFile> = {
  'decision-storm': {
    name: 'decision-storm',
    description:
      'simulated connections at a constant high rate, each replaying the broker’s calls ' +
      '(user → vhost → resources → topics) with a fresh JWT',
    executor: 'constant-arrival-rate',
    rate: 200,
    duration: '30s',
    maxVUs: 1000,
    target: { kind: 'auth-http', url: referenceUrl, users: 500 },
    thresholds: sloThresholds,
  },
  'connect-storm': {
    name: 'connect-storm',
    description:
      'AMQP connections through a real broker (default: the 3.10 harness broker on 5710), each ' +
      'timed by phase up to its first confirmed publish; PLAIN with a fresh JWT',
    executor: 'constant-arrival-rate',
    rate: 50,
    duration: '20s',
    maxVUs: 500,
    target: { kind: 'amqp-connect', url: 'amqp://127.0.0.1:5710', users: 500 },
    thresholds: connectThresholds,
  },
  'connect-storm-tls': {
    name: 'connect-storm-tls',
    description:
      'connect-storm over TLS with PLAIN and a fresh JWT, presenting a client certificate issued ' +
      'by the Warren CA (.warren/ca) because the listener demands one; the backend still sees ' +
      'only the PLAIN username. Default: the 3.10 harness broker on 5711',
    executor: 'constant-arrival-rate',
    rate: 50,
    duration: '20s',
    maxVUs: 500,
    target: { kind: 'amqp-connect', url: harnessAmqpsUrl, mechanism: 'PLAIN', users: 500 },
    thresholds: connectThresholds,
  },
  'connect-storm-mtls': {
    name: 'connect-storm-mtls',
    description:
      'connect-storm over mutual TLS with SASL EXTERNAL: the identity is the client ' +
      'certificate’s SPIFFE ID (spiffe://warren.test/ns/acme/sa/invoice-producer, issued by the ' +
      'Warren CA); start the broker with --cert-login-from uri_san. Default: 3.10 on 5711',
    executor: 'constant-arrival-rate',
    rate: 50,
    duration: '20s',
    maxVUs: 500,
    target: { kind: 'amqp-connect', url: harnessAmqpsUrl, mechanism: 'EXTERNAL', users: 500 },
    thresholds: connectThresholds,
  },
  'cache-herd': {
    name: 'cache-herd',
    description:
      'a herd around the broker’s auth-cache TTL (15 s by default): the same users reconnect in ' +
      'bursts just after their cached logins expire, so every burst misses the cache at once; ' +
      'point it at a broker with `cache` in front of `http` and read the server-side calls',
    executor: 'ramping-arrival-rate',
    startRate: 100,
    stages: [
      { target: 100, duration: '2s' },
      { target: 1, duration: '1s' },
      { target: 1, duration: '13s' },
      { target: 100, duration: '1s' },
      { target: 100, duration: '2s' },
      { target: 1, duration: '1s' },
    ],
    maxVUs: 1000,
    target: { kind: 'amqp-connect', url: 'amqp://127.0.0.1:5710', users: 200 },
    thresholds: {
      amqp_connect_duration: ['p(95)<50', 'p(99)<100 each 5s'],
      checks: ['rate>0.999'],
    },
  },
  steady: {
    name: 'steady',
    description: 'steady, modest connection churn: the baseline the storms are compared with',
    executor: 'constant-arrival-rate',
    rate: 20,
    duration: '60s',
    maxVUs: 200,
    target: { kind: 'auth-http', url: referenceUrl, users: 100 },
    thresholds: sloThresholds,
  },
  'deploy-storm': {
    name: 'deploy-storm',
    description:
      'a shaped storm: everyone reconnects after a restart, then staggered waves with jitter; ' +
      '5 % invalid and 5 % expired tokens mixed in',
    executor: 'ramping-arrival-rate',
    startRate: 0,
    stages: [
      { target: 400, duration: '2s' },
      { target: 400, duration: '4s' },
      { target: 40, duration: '3s' },
      { target: 200, duration: '3s' },
      { target: 40, duration: '3s' },
      { target: 200, duration: '3s' },
      { target: 40, duration: '12s' },
    ],
    maxVUs: 2000,
    target: {
      kind: 'auth-http',
      url: referenceUrl,
      users: 1000,
      credentials: { valid: 0.9, invalid: 0.05, expired: 0.05 },
    },
    thresholds: sloThresholds,
  },
};

/**
 * Builds a built-in scenario by name, as defined: the TLS storms come without their client
 * certificate (see {@link prepareBuiltinScenario}).
 */
export function builtinScenario(name: string): Scenario {
  const file = builtinScenarios[name];
  if (!file) {
    throw new WarrenError(
      ErrorCode.BadOption,
      `--scenario ${name}: no such built-in scenario; choose one of ` +
        `${Object.keys(builtinScenarios).join(', ')}, or give a .yaml, .json or .ts file`,
    );
  }
  return defineScenario(file, `built-in scenario ${name}`);
}

/** Extra inputs of {@link prepareBuiltinScenario}. */
export interface PrepareOptions {
  /** CA issuing the client certificate; default `openCa()` (.warren/ca), the harness brokers' CA. */
  ca?: CertificateAuthority;
}

/**
 * Builds a built-in scenario ready to run: for the TLS storms, issues a fresh client certificate
 * from the CA the harness brokers trust (one per run, so an earlier one that expired or was
 * revoked never fails a storm) and points the target's `tls` at it and at the CA's trust bundle.
 */
export async function prepareBuiltinScenario(
  name: string,
  options: PrepareOptions = {},
): Promise<Scenario> {
  const scenario = builtinScenario(name);
  if (!clientCertificateScenarios.has(name)) return scenario;
  return withClientCertificate(scenario, options.ca ?? (await openCa()));
}

/**
 * A copy of an `amqp-connect` scenario presenting a client certificate for its tenant's
 * workload: CN the workload's service, SPIFFE ID `spiffe://<trust domain>/ns/<tenant>/sa/<service>`
 * (the identity the demo policy knows), issued as `load-<tenant>-<service>`.
 */
export async function withClientCertificate(
  scenario: Scenario,
  ca: CertificateAuthority,
): Promise<Scenario> {
  const target = scenario.target;
  if (target.kind !== 'amqp-connect') {
    throw new WarrenError(
      ErrorCode.BadOption,
      `scenario ${scenario.name}: a client certificate needs an amqp-connect target, ` +
        `not ${target.kind}`,
    );
  }
  const service = certificateServices[target.workload];
  const certificate = await ca.issueClientCertificate({
    name: `load-${target.tenant}-${service}`,
    subject: { organization: 'Warren load', commonName: service },
    spiffeId: { namespace: target.tenant, serviceAccount: service },
  });
  return {
    ...scenario,
    target: {
      ...target,
      tls: {
        caPath: certificate.trustBundlePath,
        certPath: certificate.chainPath,
        keyPath: certificate.keyPath,
      },
    },
  };
}
