import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Recorder } from '../recorder/index.js';
import { describeCall, startRecordingBackend, startRecordingProxy } from '../recorder/index.js';

const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('the recording backend', () => {
  let backend: Recorder;

  beforeAll(async () => {
    backend = await startRecordingBackend((call) =>
      call.params['username'] === 'alice' ? 'allow' : { status: 200, body: 'deny' },
    );
  });
  afterAll(() => backend.close());

  it('records a POST form body and answers by its rule', async () => {
    backend.clear();
    const response = await fetch(`${backend.url}/auth/user`, {
      method: 'POST',
      headers: form,
      body: 'username=alice&password=p%2Fw+x',
    });

    expect(await response.text()).toBe('allow');
    expect(backend.calls).toMatchObject([
      {
        seq: expect.any(Number),
        method: 'POST',
        path: '/auth/user',
        params: { username: 'alice', password: 'p/w x' },
        rawParams: 'username=alice&password=p%2Fw+x',
        reply: { status: 200, body: 'allow' },
      },
    ]);
  });

  it('records a GET query string the same way', async () => {
    backend.clear();
    const response = await fetch(`${backend.url}/auth/vhost?username=bob&vhost=%2F&ip=`);

    expect(await response.text()).toBe('deny');
    expect(backend.callsTo('/vhost')[0]?.params).toEqual({ username: 'bob', vhost: '/', ip: '' });
  });

  it('redacts the password when describing a call', async () => {
    backend.clear();
    await fetch(`${backend.url}/auth/user?username=alice&password=hunter2`);

    expect(describeCall(backend.calls[0]!)).not.toContain('hunter2');
    expect(describeCall(backend.calls[0]!)).toContain('password=<redacted>');
  });
});

describe('the recording proxy', () => {
  let target: Recorder;
  let proxy: Recorder;

  beforeAll(async () => {
    target = await startRecordingBackend((call) =>
      call.path === '/auth/topic' ? 'allow' : 'deny',
    );
    proxy = await startRecordingProxy({ target: target.url });
  });
  afterAll(async () => {
    await proxy.close();
    await target.close();
  });

  it('forwards method, path and body unchanged and records the answer', async () => {
    const body = 'username=a&routing_key=orders.%2A';
    const response = await fetch(`${proxy.url}/auth/topic`, {
      method: 'POST',
      headers: form,
      body,
    });

    expect(await response.text()).toBe('allow');
    expect(target.calls[0]).toMatchObject({ method: 'POST', path: '/auth/topic', rawParams: body });
    expect(proxy.calls[0]).toMatchObject({
      rawParams: body,
      reply: { status: 200, body: 'allow' },
    });
  });

  it('answers 502 when the target is down, so the broker refuses rather than allows', async () => {
    const orphan = await startRecordingProxy({ target: 'http://127.0.0.1:9' });
    const response = await fetch(`${orphan.url}/auth/user?username=a&password=b`);
    await orphan.close();

    expect(response.status).toBe(502);
    expect(orphan.calls[0]?.reply?.status).toBe(502);
  });
});
