/**
 * The Amazon MQ path, against Warren's LOCAL STAND-IN of the MQ API (AWS is unreachable here):
 * the real `@aws-sdk/client-mq` client talks to it over HTTP with SigV4 signing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  applyConfiguration,
  createMqClient,
  describe as describeBroker,
  rebootBroker,
} from '../amazon-mq/apply.js';
import { generateAmazonMqConfig, type AmazonMqConfigOptions } from '../amazon-mq/config.js';
import { startMqStandIn, type MqStandIn } from '../amazon-mq/standin.js';

const arns = {
  assumeRole: 'arn:aws:iam::123456789012:role/warren-mq-files',
  clientCa: 'arn:aws:s3:::warren-certs/workload-ca.pem',
  authServerCa: 'arn:aws:s3:::warren-certs/auth-server-ca.pem',
  authClientCert: 'arn:aws:s3:::warren-certs/broker-client.pem',
  authClientKey: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:warren-broker-key',
};
const base: AmazonMqConfigOptions = {
  authUrl: 'https://auth.example.com/',
  arns,
  authServerName: 'auth.example.com',
};

describe('the Amazon MQ configuration generator', () => {
  const text = generateAmazonMqConfig(base);

  it.each([
    'auth_backends.1 = cache',
    'auth_cache.cached_backend = http',
    'auth_http.user_path = https://auth.example.com/auth/user',
    'auth_http.topic_path = https://auth.example.com/auth/topic',
    'aws.arns.assume_role_arn = arn:aws:iam::123456789012:role/warren-mq-files',
    'aws.arns.auth_http.ssl_options.cacertfile = arn:aws:s3:::warren-certs/auth-server-ca.pem',
    'aws.arns.auth_http.ssl_options.keyfile = arn:aws:secretsmanager:us-east-1:123456789012:secret:warren-broker-key',
    'aws.arns.ssl_options.cacertfile = arn:aws:s3:::warren-certs/workload-ca.pem',
    'auth_mechanisms.1 = EXTERNAL',
    'ssl_cert_login_san_type = uri',
    'auth_http.ssl_options.sni = auth.example.com',
  ])('writes "%s"', (line) => {
    expect(text.split('\n')).toContain(line);
  });

  it('never chains the internal backend after http (an outage must not fall through)', () => {
    expect(text).not.toMatch(/auth_backends\.\d+ = internal/);
  });

  it.each([
    ['authUrl', { ...base, authUrl: 'http://auth.example.com' }],
    ['authUrl', { ...base, authUrl: 'https://user:pw@auth.example.com' }],
    ['arns.assumeRole', { ...base, arns: { ...arns, assumeRole: 'warren-role' } }],
    ['arns.clientCa', { ...base, arns: { ...arns, clientCa: 's3://bucket/ca.pem' } }],
    ['arns.authClientCert', { ...base, arns: { ...arns, authClientKey: undefined } }],
  ] as const)('refuses a bad %s, naming the field', (field, options) => {
    expect(() => generateAmazonMqConfig(options)).toThrowError(
      expect.objectContaining({
        code: 'WARREN_ERR_BAD_OPTION',
        message: expect.stringContaining(`${field}:`) as string,
      }) as Error,
    );
  });
});

describe('applying a configuration through the MQ API (local stand-in)', () => {
  let standIn: MqStandIn;
  const poll = { pollIntervalMs: 30, deadlineMs: 5000 };

  beforeAll(async () => {
    standIn = await startMqStandIn({ rebootMs: 200 });
  });
  afterAll(() => standIn.close());

  const client = () =>
    createMqClient({ region: 'us-east-1', endpoint: standIn.endpoint, standInCredentials: true });
  const target = () => ({ brokerId: standIn.brokerId, configurationId: standIn.configurationId });

  it('uploads a revision, makes it pending, reboots and waits until it is current', async () => {
    const text = generateAmazonMqConfig(base);
    const result = await applyConfiguration(client(), target(), text, poll);
    expect(result.revision).toBe(2);
    expect(result.broker).toMatchObject({
      brokerState: 'RUNNING',
      current: { revision: 2 },
      actionsRequired: [],
    });
    expect(result.rebootMs).toBeGreaterThanOrEqual(200);
    expect(standIn.revisionText(2)).toBe(text);
    expect(standIn.calls).toEqual([
      'UpdateConfiguration',
      'UpdateBroker',
      'DescribeBroker',
      'RebootBroker',
      ...standIn.calls.slice(4),
    ]);
    expect(standIn.calls.slice(4).every((call) => call === 'DescribeBroker')).toBe(true);
  });

  it('reports the action the broker needs when an ARN is invalid', async () => {
    const broken = generateAmazonMqConfig(base).replace(
      'arn:aws:s3:::warren-certs/workload-ca.pem',
      'not-an-arn',
    );
    await expect(applyConfiguration(client(), target(), broken, poll)).rejects.toMatchObject({
      code: 'WARREN_ERR_BROKER',
      message: expect.stringContaining('RABBITMQ_INVALID_ARN_HTTP') as string,
    });
    expect(standIn.broker().brokerState).toBe('CRITICAL_ACTION_REQUIRED');
    // A good revision clears it again.
    await applyConfiguration(client(), target(), generateAmazonMqConfig(base), poll);
    expect(standIn.broker()).toMatchObject({ brokerState: 'RUNNING', actionsRequired: [] });
  });

  it('reboots as a fault and measures the time until RUNNING', async () => {
    const result = await rebootBroker(client(), standIn.brokerId, poll);
    expect(result.states).toEqual(['REBOOT_IN_PROGRESS', 'RUNNING']);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(200);
  });

  it('refuses a second reboot while one runs (ConflictException)', async () => {
    const mq = client();
    await rebootBroker(mq, standIn.brokerId, { ...poll, deadlineMs: 1 }).catch(() => undefined);
    await expect(rebootBroker(mq, standIn.brokerId, poll)).rejects.toMatchObject({
      name: 'ConflictException',
    });
    expect((await describeBroker(mq, standIn.brokerId)).brokerState).toBe('REBOOT_IN_PROGRESS');
  });

  it('refuses unsigned requests, as AWS does', async () => {
    const response = await fetch(`${standIn.endpoint}/v1/brokers/${standIn.brokerId}`);
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toBe('ForbiddenException');
  });
});
