import { describe, expect, it } from 'vitest';

import { amqpSocketOptions, classifyFailure, connectAmqp } from '../amqp/index.js';

describe('connection outcomes', () => {
  it.each([
    {
      message:
        'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused"',
      code: undefined,
      expected: { kind: 'refused', replyCode: 403 },
    },
    {
      message: 'Expected ConnectionOpenOk; got <ConnectionClose channel:0 {"replyCode":530,"x":1}>',
      code: undefined,
      expected: { kind: 'closed', replyCode: 530 },
    },
    {
      message: 'ssl alert',
      code: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
      expected: { kind: 'tls-failure', alert: 'certificate_revoked' },
    },
    {
      message: 'connect ECONNREFUSED 127.0.0.1:1',
      code: 'ECONNREFUSED',
      expected: { kind: 'socket-error', errorCode: 'ECONNREFUSED' },
    },
  ])('sorts "$message" as $expected.kind', ({ message, code, expected }) => {
    const error = Object.assign(new Error(message), code ? { code } : {});

    expect(classifyFailure(error, 1)).toMatchObject(expected);
  });

  it('reports a closed port as a socket error instead of throwing', async () => {
    const outcome = await connectAmqp({
      url: 'amqp://127.0.0.1:9',
      login: { mechanism: 'PLAIN', username: 'a', password: 'b' },
    });

    expect(outcome).toMatchObject({ kind: 'socket-error', errorCode: 'ECONNREFUSED' });
  });

  it('always turns Nagle off and keeps TLS at 1.2 or newer unless told otherwise', () => {
    const options = amqpSocketOptions({
      url: 'amqps://127.0.0.1:1',
      login: { mechanism: 'EXTERNAL' },
      tls: { ca: 'ca-pem' },
    });

    expect(options).toMatchObject({ noDelay: true, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    expect(options.credentials.mechanism).toBe('EXTERNAL');
  });
});
