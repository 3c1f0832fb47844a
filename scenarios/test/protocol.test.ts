import { describe, expect, it } from 'vitest';

import { encodeForm, encodeFormComponent } from '../../harness/auth-http/encoding.js';
import { paramsFor } from '../protocol/encode.js';
import { judgeReply, readAsBroker } from '../protocol/reply.js';
import { compare, printable } from '../protocol/run.js';
import { scrubTokens } from '../report.js';
import type { BackendPath } from '../model.js';

describe('the broker encoding', () => {
  it.each([
    ['acme', 'acme'],
    ['/', '%2F'],
    ['a b', 'a+b'],
    ['a+b', 'a%2Bb'],
    ['A-Za-z0-9._~', 'A-Za-z0-9._~'],
    ['ø', '%C3%B8'],
    ['*#', '%2A%23'],
    ['\n', '%0A'],
  ])('encodes %j as %s', (value, encoded) => {
    expect(encodeFormComponent(value)).toBe(encoded);
  });

  it('sends EXTERNAL logins without a password key at all', () => {
    const params = paramsFor({ path: 'user', username: 'spiffe://warren.test/ns/acme/sa/x' });
    expect(params.map(([key]) => key)).toEqual(['username']);
  });

  it('echoes the login tags space-joined and names the topic variable map', () => {
    const encoded = encodeForm(
      paramsFor({
        path: 'topic',
        username: 'u',
        vhost: '/',
        name: 'x',
        permission: 'write',
        routingKey: 'a.b',
        variableMap: { username: 'u', vhost: '/' },
        tags: ['management', 'monitoring'],
      }),
    );
    expect(encoded).toBe(
      'username=u&vhost=%2F&resource=topic&name=x&permission=write&routing_key=a.b&' +
        'variable_map.username=u&variable_map.vhost=%2F&tags=management+monitoring',
    );
  });
});

describe('reading replies', () => {
  const cases: Array<[BackendPath, number, string, string, string | null]> = [
    ['user', 200, 'allow', 'allow', null],
    ['user', 200, 'allow management monitoring', 'allow', null],
    ['user', 200, 'deny', 'deny', null],
    ['vhost', 200, 'allow', 'allow', null],
    ['user', 200, 'allow\n', 'allow', 'not exactly'],
    ['user', 200, 'allowed', 'allow', 'not exactly'],
    ['user', 200, 'allow superuser', 'allow', 'broker-safe'],
    ['user', 200, 'deny expired', 'refused-error', '4.3'],
    ['vhost', 200, 'deny expired', 'crash', '4.3'],
    ['vhost', 200, 'allow management', 'crash', 'not exactly'],
    ['resource', 200, '', 'crash', 'not exactly'],
    ['vhost', 403, 'deny', 'deny', 'status 403'],
    ['user', 500, 'allow', 'refused-error', 'status 500'],
    ['topic', 201, 'allow', 'allow', null],
    ['user', 200, ' ALLOW ', 'allow', 'not exactly'],
  ];

  it.each(cases)(
    '%s %i %j: the broker reads %s; problem %s',
    (path, status, body, kind, problem) => {
      const verdict = judgeReply(path, status, Buffer.from(body));
      expect(verdict.reading.kind).toBe(kind);
      if (problem === null) expect(verdict.formatProblem).toBeNull();
      else expect(verdict.formatProblem).toContain(problem);
    },
  );

  it('reads `allowed` as a login with the tag "ed", as the broker does', () => {
    expect(readAsBroker('user', 200, Buffer.from('allowed'))).toEqual({
      kind: 'allow',
      tags: ['ed'],
    });
  });
});

describe('comparing with expectations', () => {
  const allow = judgeReply('user', 200, Buffer.from('allow'));
  const allowTags = judgeReply('user', 200, Buffer.from('allow management'));
  const deny = judgeReply('vhost', 200, Buffer.from('deny'));
  const malformedDeny = judgeReply('vhost', 200, Buffer.from('deny\n'));

  it('requires exactly the profile tags for a plain allow on the user path', () => {
    expect(compare('allow', allow, true, []).ok).toBe(true);
    expect(compare('allow', allowTags, true, []).ok).toBe(false);
    expect(compare('allow', allowTags, true, ['management']).ok).toBe(true);
  });

  it('fails a malformed reply whatever it decided, unless the step is lenient', () => {
    expect(compare('deny', malformedDeny, true, []).ok).toBe(false);
    expect(compare('not-allow', malformedDeny, false, []).ok).toBe(true);
  });

  it('accepts either decision for `any`, but not a malformed one', () => {
    expect(compare('any', allow, true, []).ok).toBe(true);
    expect(compare('any', deny, true, []).ok).toBe(true);
    expect(compare('any', malformedDeny, true, []).ok).toBe(false);
  });
});

describe('keeping tokens out of reports', () => {
  const token = `eyJhbGciOiJFUzI1NiJ9.${'eyJzdWIiOiJhY21lIn0'.repeat(20)}.c2lnbmF0dXJl`;

  it('redacts a credential before a long reply is cut short', () => {
    const reply = Buffer.from(`{"message":"Route GET:/x?password=${token} not found"}`);
    const printed = printable({ secrets: [token] }, reply);
    expect(printed).toContain('<redacted sha256:');
    expect(printed).not.toContain('eyJzdWIi');
  });

  it('masks the front of a token cut to two segments as a last line of defence', () => {
    const cut = token.slice(0, 60);
    expect(cut.split('.')).toHaveLength(2);
    expect(scrubTokens(`reply ${cut}…`)).toBe('reply <redacted jwt>…');
  });
});
