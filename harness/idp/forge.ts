/**
 * The forged-token toolkit: recipes for tokens a backend must refuse (and a few controls it must
 * accept), each with a stable id, a one-line title and the clause or advisory it encodes.
 * Written from RFC 7515/7517/7518/7519/7797/8725 and public advisories; no third-party lists.
 *
 *   const kit = await createForgeKit({ idp });
 *   for (const recipe of forgeCatalogue) {
 *     const { token, username } = recipe.build(kit); // present as AMQP PLAIN password
 *   }
 */
import { ErrorCode, WarrenError } from '../../lib/errors.js';
import { algCases } from './forge/cases-alg.js';
import { claimCases } from './forge/cases-claims.js';
import { ecdsaCases } from './forge/cases-ecdsa.js';
import { headerCases } from './forge/cases-header.js';
import type { ForgeCase, ForgedToken, ForgeKit } from './forge/kit.js';
import { payloadCases } from './forge/cases-payload.js';

export { createForgeKit, demoClaims, demoOwnClaims } from './forge/kit.js';
export type {
  CaughtBy,
  ForgeCase,
  ForgeCategory,
  ForgedToken,
  ForgeInput,
  ForgeKit,
} from './forge/kit.js';
export type { AttackerKey, AttackerMaterial } from './forge/attacker.js';
export { derSignature, p256Order, rawSignature, splitRawSignature } from './forge/cases-ecdsa.js';
export { requiredDemoClaims, verifyAsReference } from './forge/oracle.js';
export type { OracleVerdict } from './forge/oracle.js';

/** Every recipe, in a stable order; ids are unique. */
export const forgeCatalogue: readonly ForgeCase[] = Object.freeze([
  ...algCases,
  ...ecdsaCases,
  ...headerCases,
  ...payloadCases,
  ...claimCases,
]);

/** The recipe with this id; fails with WARREN_ERR_BAD_OPTION naming the id otherwise. */
export function forgeCase(id: string): ForgeCase {
  const found = forgeCatalogue.find((recipe) => recipe.id === id);
  if (found === undefined) {
    throw new WarrenError(ErrorCode.BadOption, `no forgery recipe ${id} (see forgeCatalogue ids)`);
  }
  return found;
}

/** Builds the token of recipe `id` with `kit`. */
export function buildForgery(kit: ForgeKit, id: string): ForgedToken {
  return forgeCase(id).build(kit);
}
