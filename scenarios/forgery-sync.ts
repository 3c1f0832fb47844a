/**
 * Keeps `catalogue/forgery.yaml` in step with the forge toolkit: one scenario per builder, with
 * the builder's id, title and reference. The catalogue test prints the YAML of any missing
 * scenario so a reviewer can paste it (and read the builder beside it).
 */
import { stringify } from 'yaml';

import type { ForgeCase } from '../harness/idp/forge/kit.js';
import type { Scenario } from './model.js';

/** The catalogue entry a forge builder implies. */
export function forgeryScenarioFor(forgeCase: ForgeCase): Record<string, unknown> {
  const reject = forgeCase.expected === 'reject';
  return {
    id: forgeCase.id,
    title: `${reject ? 'Refused' : 'Accepted'}: ${forgeCase.title}`,
    reference: forgeCase.reference,
    tags: reject
      ? [
          'deny-first',
          forgeCase.category,
          ...(forgeCase.caughtBy ? [`caught-by-${forgeCase.caughtBy}`] : []),
        ]
      : ['control', forgeCase.category],
    ...(reject ? {} : { policy: 'dependent' }),
    given: { identity: 'producer', forge: forgeCase.id },
    when: [
      {
        login: {},
        expect: reject ? 'deny' : 'allow',
        ...(forgeCase.assumes === undefined ? {} : { note: `assumes: ${forgeCase.assumes}` }),
      },
    ],
  };
}

/** YAML for the builders that have no forgery scenario yet (empty when in step). */
export function missingForgeryYaml(
  cases: readonly ForgeCase[],
  catalogue: readonly Scenario[],
): string {
  const present = new Set(catalogue.filter((s) => s.category === 'forgery').map((s) => s.id));
  const missing = cases.filter((forgeCase) => !present.has(forgeCase.id)).map(forgeryScenarioFor);
  return missing.length === 0 ? '' : stringify(missing, { lineWidth: 100 });
}
