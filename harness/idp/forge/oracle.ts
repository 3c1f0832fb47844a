import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';

import { idpAlgs } from '../keys.js';
import type { ForgeKit } from './kit.js';

/** The claims the demo setup requires on every token. */
export const requiredDemoClaims = ['exp', 'iat', 'sub', 'tenant_id', 'workload'] as const;

/** The verdict of the reference verification, with jose's error code on a reject. */
export interface OracleVerdict {
  verdict: 'accept' | 'reject';
  code?: string;
  sub?: unknown;
}

/**
 * Verifies `token` the way a correct backend would: the IdP's JWKS, its three algorithms only,
 * exact issuer and audience, `typ` JWT, the demo's required claims, a clock tolerance of the
 * kit's skew and a bounded token age (which also refuses a future `iat`). The forgery catalogue's
 * `expected` verdicts are stated against this; the tests hold them to it.
 */
export async function verifyAsReference(token: string, kit: ForgeKit): Promise<OracleVerdict> {
  const jwks = createLocalJWKSet(kit.idp.jwks() as JSONWebKeySet);
  try {
    const { payload } = await jwtVerify(token, jwks, {
      algorithms: [...idpAlgs],
      issuer: kit.idp.issuer,
      audience: kit.idp.audience,
      typ: 'JWT',
      requiredClaims: [...requiredDemoClaims],
      clockTolerance: kit.clockSkewSeconds,
      maxTokenAge: '1 day',
      currentDate: new Date(kit.nowSeconds * 1000),
    });
    return { verdict: 'accept', sub: payload.sub };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { verdict: 'reject', code: typeof code === 'string' ? code : String(error) };
  }
}
