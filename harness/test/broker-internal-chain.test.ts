import { describe, expect, it } from 'vitest';

import { ErrorCode, isWarrenError } from '../../lib/errors.js';
import type { BrokerOptions } from '../broker/index.js';
import { resolveBrokerOptions } from '../broker/index.js';
import { redactOptions } from '../broker/options.js';
import { renderBrokerConfig } from './config-fixture.js';

function authLines(conf: string): string[] {
  return conf.split('\n').filter((line) => /^auth_(backends|http|cache)\./.test(line));
}

describe('the internal-only auth chain (authBackend: internal)', () => {
  it.each(['3.10', '4.0'] as const)(
    'lets the internal database alone decide on %s, with no HTTP key left in the file',
    (version) => {
      const { conf } = renderBrokerConfig({ version, authBackend: 'internal' });

      expect(authLines(conf)).toEqual(['auth_backends.1 = internal']);
    },
  );

  it('keeps the listeners, mechanisms and mutual TLS of the default chain', () => {
    const internal = renderBrokerConfig({ version: '3.10', authBackend: 'internal' });
    const http = renderBrokerConfig({ version: '3.10' });

    const withoutAuth = (conf: string) =>
      conf.split('\n').filter((line) => !/^(auth_|#)/.test(line));
    expect(withoutAuth(internal.conf)).toEqual(withoutAuth(http.conf));
    expect(internal.conf).toContain('auth_mechanisms.1 = EXTERNAL\nauth_mechanisms.2 = PLAIN\n');
    expect(internal.advanced).toBe(http.advanced);
  });

  it('leaves the default chain unchanged: http first, and no authBackend recorded', () => {
    const resolved = resolveBrokerOptions({ version: '4.0' });
    const explicit = resolveBrokerOptions({ version: '4.0', authBackend: 'http' });

    expect(authLines(renderBrokerConfig({ version: '4.0' }).conf)[0]).toBe(
      'auth_backends.1 = http',
    );
    // state.json of brokers started before the option existed must still match a fresh start.
    expect('authBackend' in redactOptions(resolved)).toBe(false);
    expect(JSON.stringify(redactOptions(explicit))).toBe(JSON.stringify(redactOptions(resolved)));
  });

  it('records the internal chain, so a running broker is not reused for the HTTP chain', () => {
    const internal = redactOptions(
      resolveBrokerOptions({ version: '3.10', authBackend: 'internal' }),
    );
    const http = redactOptions(resolveBrokerOptions({ version: '3.10' }));

    expect(internal.authBackend).toBe('internal');
    expect(JSON.stringify(internal)).not.toBe(JSON.stringify(http));
  });

  it.each([
    { field: 'authBackend', options: { version: '3.10', authBackend: 'ldap' } },
    { field: 'cache', options: { version: '3.10', authBackend: 'internal', cache: true } },
    {
      field: 'fallbackInternal',
      options: { version: '4.0', authBackend: 'internal', fallbackInternal: true },
    },
  ])('refuses $field when it contradicts the chain, naming it', ({ field, options }) => {
    let caught: unknown;
    try {
      resolveBrokerOptions(options as BrokerOptions);
    } catch (error) {
      caught = error;
    }

    expect(isWarrenError(caught, ErrorCode.BadOption)).toBe(true);
    expect((caught as Error).message).toContain(`broker option ${field}:`);
  });
});
