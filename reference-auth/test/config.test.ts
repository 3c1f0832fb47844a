import { describe, expect, it } from 'vitest';
import { defaults, parseListen, resolveConfig } from '../config.js';
import { AuthErrorCode } from '../errors.js';

describe('configuration', () => {
  it('defaults to the shared constants', () => {
    const config = resolveConfig();
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8600 });
    expect(config.jwt.jwksUrl).toBe('http://127.0.0.1:8700/.well-known/jwks.json');
    expect(config.jwt.audiences).toEqual(['rabbitmq']);
    expect(config.jwt.algorithms.some((alg) => alg.startsWith('HS'))).toBe(false);
  });

  it('resolves flag over file over environment over default', () => {
    const env = {
      WARREN_AUTH_DECISION_TTL_SECONDS: '7',
      WARREN_AUTH_JWT_CLOCK_SKEW_SECONDS: '5',
      WARREN_AUTH_LISTEN: '127.0.0.1:9000',
    };
    const config = resolveConfig({
      env,
      file: { decisionTtlSeconds: 8 },
      flags: { listen: { host: '127.0.0.1', port: 9100 } },
    });
    expect(config.decisionTtlSeconds).toBe(8);
    expect(config.jwt.clockSkewSeconds).toBe(5);
    expect(config.listen.port).toBe(9100);
  });

  it('reads lists and booleans from the environment', () => {
    const config = resolveConfig({
      env: { WARREN_AUTH_JWT_AUDIENCES: 'rabbitmq, mq', WARREN_AUTH_WATCH_POLICY: 'false' },
    });
    expect(config.jwt.audiences).toEqual(['rabbitmq', 'mq']);
    expect(config.watchPolicy).toBe(false);
  });

  it.each([
    [{ flags: { decisionTtlSeconds: -1 } }, /"decisionTtlSeconds"/],
    [{ flags: { jwt: { algorithms: ['HS256'] } } }, /"jwt\.algorithms\.0"/],
    [{ flags: { jwt: { jwksUrl: 'ftp://x' } } }, /"jwt\.jwksUrl"/],
    [{ flags: { colour: 'blue' } }, /colour/],
    [
      { env: { WARREN_AUTH_CACHE_TTL_MS: 'soon' } },
      /WARREN_AUTH_CACHE_TTL_MS="soon" is not a number/,
    ],
  ])('rejects %j naming the option', (sources, expected) => {
    expect(() => resolveConfig(sources as never)).toThrow(expected);
    try {
      resolveConfig(sources as never);
    } catch (error) {
      expect((error as { code?: string }).code).toBe(AuthErrorCode.BadConfig);
    }
  });

  it('freezes the result and leaves the defaults untouched', () => {
    const config = resolveConfig({ flags: { decisionTtlSeconds: 9 } });
    expect(Object.isFrozen(config.jwt)).toBe(true);
    expect(() => {
      (config as { decisionTtlSeconds: number }).decisionTtlSeconds = 1;
    }).toThrow(TypeError);
    expect(defaults.decisionTtlSeconds).toBe(5);
  });

  it('parses --listen values', () => {
    expect(parseListen('0.0.0.0:8600')).toEqual({ host: '0.0.0.0', port: 8600 });
    expect(() => parseListen('8600')).toThrow(/HOST:PORT/);
  });
});
