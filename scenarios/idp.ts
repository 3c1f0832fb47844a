/**
 * Adapts harness/idp's running test IdP to what the runner needs (IdpControl): minting with
 * exact claims, JWKS modes, rotation, request counting, and forged tokens from the forge toolkit.
 */
import type { RunningIdp } from '../harness/idp/index.js';
import { algCases } from '../harness/idp/forge/cases-alg.js';
import { claimCases } from '../harness/idp/forge/cases-claims.js';
import { ecdsaCases } from '../harness/idp/forge/cases-ecdsa.js';
import { headerCases } from '../harness/idp/forge/cases-header.js';
import { payloadCases } from '../harness/idp/forge/cases-payload.js';
import { createForgeKit } from '../harness/idp/forge/kit.js';
import type { ForgeCase, ForgeKit } from '../harness/idp/forge/kit.js';
import type { IdpControl, JwksState } from './identity.js';

/** Every forge builder, each with a stable id (`forge.<family>.<variant>`) and a reference. */
export const forgeCases: readonly ForgeCase[] = [
  ...algCases,
  ...ecdsaCases,
  ...headerCases,
  ...payloadCases,
  ...claimCases,
];

const MODES: Record<JwksState, 'ok' | 'broken' | 'empty' | 'unreachable'> = {
  normal: 'ok',
  broken: 'broken',
  empty: 'empty',
  unreachable: 'unreachable',
};

/** Options of idpControl. */
export interface IdpControlOptions {
  /** The backend's clock tolerance, seconds, which time-boundary forgeries straddle. */
  clockSkewSeconds: number;
}

/**
 * A kit for one build: attacker material is made once per run (RSA key generation is slow), but
 * "now" and the claimed identities are taken at build time, so time boundaries stay sharp.
 */
function kitAt(
  base: ForgeKit,
  claims: Record<string, unknown>,
  own: Record<string, unknown>,
): ForgeKit {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const idp = base.idp;
  return {
    ...base,
    claims,
    ownClaims: own,
    nowSeconds,
    fullClaims: (overrides = {}) =>
      idp.claimsFor({ ...claims, ...overrides }, { issuedAt: nowSeconds }),
    legitToken: (alg = 'ES256') => idp.mint(claims, { alg, issuedAt: nowSeconds }),
    ownToken: (alg = 'ES256') => idp.mint(own, { alg, issuedAt: nowSeconds }),
  };
}

/** An IdpControl over a running test IdP, with the forge toolkit prepared once. */
export async function idpControl(idp: RunningIdp, options: IdpControlOptions): Promise<IdpControl> {
  const base = await createForgeKit({ idp, clockSkewSeconds: options.clockSkewSeconds });
  const cases = new Map(forgeCases.map((forgeCase) => [forgeCase.id, forgeCase]));
  return {
    issuer: idp.issuer,
    jwksUrl: idp.jwksUrl,
    mint: (claims, header) =>
      Promise.resolve(idp.mint(claims, header === undefined ? {} : { header })),
    forgeIds: () => [...cases.keys()],
    forge: (id, input) => {
      const forgeCase = cases.get(id);
      if (forgeCase === undefined)
        return Promise.reject(new Error(`no forge builder with id "${id}"`));
      return Promise.resolve(
        forgeCase.build(kitAt(base, input.claims, input.ownClaims ?? input.claims)),
      );
    },
    rotate: async (alg = 'ES256') => {
      idp.rotate(alg);
    },
    setJwks: (state) => idp.setJwksMode(MODES[state]),
    jwksRequests: () => idp.counters().jwks,
  };
}

/**
 * Retires keys left published by rotations (keeps each alg's current key), so repeated runs do
 * not grow the JWKS without bound.
 */
export function retireRotatedKeys(idp: RunningIdp): number {
  const published = idp.keys().filter((key) => key.state === 'published');
  for (const key of published) idp.retire(key.kid);
  return published.length;
}
