import type { Claims } from '../mint.js';
import {
  forged,
  signedToken,
  type CaughtBy,
  type ForgeCase,
  type ForgeCategory,
  type ForgeKit,
} from './kit.js';

/** An IdP-signed token for the target identity with `change` applied to its claims. */
function idpToken(kit: ForgeKit, change: (kit: ForgeKit) => Claims) {
  const claims = { ...kit.fullClaims(), ...change(kit) };
  return forged(kit, kit.idp.mint(claims, { issuedAt: kit.nowSeconds }));
}

function claimCase(
  category: ForgeCategory,
  variant: string,
  title: string,
  reference: string,
  change: (kit: ForgeKit) => Claims,
  extra: { expected?: 'reject' | 'accept'; caughtBy?: CaughtBy; assumes?: string } = {},
): ForgeCase {
  const expected = extra.expected ?? 'reject';
  return {
    id: `forge.${category}.${variant}`,
    category,
    title,
    reference,
    expected,
    ...(expected === 'reject' ? { caughtBy: extra.caughtBy ?? 'claims' } : {}),
    ...(extra.assumes === undefined ? {} : { assumes: extra.assumes }),
    build: (kit) => idpToken(kit, change),
  };
}

const exp = 'RFC 7519 §4.1.4 (reject on or after exp, small leeway)';
const nbf = 'RFC 7519 §4.1.5 (reject before nbf, small leeway)';
const iat = 'RFC 7519 §4.1.6; RFC 8725 §3.10';
const skewNote = (kit: ForgeKit) => kit.clockSkewSeconds;

const validity: ForgeCase[] = [
  claimCase(
    'validity',
    'control-valid',
    'a plain valid IdP token for the target',
    'RFC 7519 §7.2',
    () => ({}),
    {
      expected: 'accept',
    },
  ),
  claimCase('validity', 'expired-long-ago', 'IdP token that expired a day ago', exp, (kit) => ({
    iat: kit.nowSeconds - 86_400 - 300,
    nbf: kit.nowSeconds - 86_400 - 300,
    exp: kit.nowSeconds - 86_400,
  })),
  claimCase(
    'validity',
    'exp-at-skew-edge',
    'exp exactly now - skew (expired at the leeway edge)',
    exp,
    (kit) => ({
      iat: kit.nowSeconds - 600,
      nbf: kit.nowSeconds - 600,
      exp: kit.nowSeconds - skewNote(kit),
    }),
    { assumes: 'clock tolerance = the kit clockSkewSeconds' },
  ),
  claimCase(
    'validity',
    'exp-beyond-skew',
    'exp 1 s beyond the skew window',
    exp,
    (kit) => ({
      iat: kit.nowSeconds - 600,
      nbf: kit.nowSeconds - 600,
      exp: kit.nowSeconds - skewNote(kit) - 1,
    }),
    { assumes: 'clock tolerance = the kit clockSkewSeconds' },
  ),
  claimCase(
    'validity',
    'control-exp-inside-skew',
    'exp half a skew in the past: still accepted',
    exp,
    (kit) => ({
      iat: kit.nowSeconds - 600,
      nbf: kit.nowSeconds - 600,
      exp: kit.nowSeconds - Math.floor(skewNote(kit) / 2),
    }),
    { expected: 'accept', assumes: 'clock tolerance = the kit clockSkewSeconds' },
  ),
  claimCase('validity', 'nbf-far-future', 'nbf a day ahead', nbf, (kit) => ({
    nbf: kit.nowSeconds + 86_400,
    exp: kit.nowSeconds + 86_400 + 300,
  })),
  claimCase(
    'validity',
    'nbf-beyond-skew',
    'nbf just beyond the skew window (+ margin)',
    nbf,
    (kit) => ({
      nbf: kit.nowSeconds + skewNote(kit) + kit.marginSeconds,
    }),
    { assumes: 'clock tolerance = the kit clockSkewSeconds' },
  ),
  claimCase(
    'validity',
    'control-nbf-inside-skew',
    'nbf half a skew ahead: still accepted',
    nbf,
    (kit) => ({
      nbf: kit.nowSeconds + Math.floor(skewNote(kit) / 2),
    }),
    { expected: 'accept', assumes: 'clock tolerance = the kit clockSkewSeconds' },
  ),
  claimCase(
    'validity',
    'iat-beyond-skew',
    'iat in the future beyond the skew window (+ margin)',
    iat,
    (kit) => ({
      iat: kit.nowSeconds + skewNote(kit) + kit.marginSeconds,
    }),
    { assumes: 'the verifier refuses a future iat (jose: maxTokenAge set)' },
  ),
  claimCase(
    'validity',
    'exp-as-string',
    'exp written as a string, far in the future',
    'RFC 7519 §2 (NumericDate is a number)',
    (kit) => ({
      exp: String(kit.nowSeconds + 3_600),
    }),
  ),
  claimCase(
    'validity',
    'nbf-as-string',
    'nbf written as a string',
    'RFC 7519 §2 (NumericDate is a number)',
    (kit) => ({
      nbf: String(kit.nowSeconds + 3_600),
    }),
  ),
  claimCase('validity', 'exp-before-nbf', 'exp before nbf, both around now', exp, (kit) => ({
    nbf: kit.nowSeconds + 3_600,
    exp: kit.nowSeconds + 1_800,
  })),
];

const audReference = 'RFC 7519 §4.1.3, §7.2; RFC 8725 §3.9';
const issReference = 'RFC 7519 §4.1.1; RFC 8725 §3.8; RFC 8414 §3.3 (exact match)';

const audienceIssuer: ForgeCase[] = [
  claimCase(
    'audience-issuer',
    'aud-other-service',
    'aud "grafana" (token for another service)',
    audReference,
    () => ({ aud: 'grafana' }),
  ),
  claimCase(
    'audience-issuer',
    'aud-other-environment',
    'aud "rabbitmq-staging"',
    audReference,
    () => ({ aud: 'rabbitmq-staging' }),
  ),
  claimCase(
    'audience-issuer',
    'aud-prefix-extended',
    'aud "rabbitmq.evil" (prefix match trap)',
    audReference,
    (kit) => ({ aud: `${kit.idp.audience}.evil` }),
  ),
  claimCase(
    'audience-issuer',
    'aud-wrong-case',
    'aud in upper case (aud is case-sensitive)',
    audReference,
    (kit) => ({ aud: kit.idp.audience.toUpperCase() }),
  ),
  claimCase(
    'audience-issuer',
    'aud-array-without-ours',
    'aud ["grafana","vault"]',
    audReference,
    () => ({ aud: ['grafana', 'vault'] }),
  ),
  claimCase('audience-issuer', 'aud-empty-string', 'aud ""', audReference, () => ({ aud: '' })),
  claimCase('audience-issuer', 'aud-missing', 'no aud claim', audReference, () => ({
    aud: undefined,
  })),
  claimCase(
    'audience-issuer',
    'iss-staging',
    'iss "https://idp.staging.example", signed by this IdP key',
    issReference,
    () => ({ iss: 'https://idp.staging.example' }),
  ),
  claimCase(
    'audience-issuer',
    'iss-trailing-slash',
    'iss with a trailing slash',
    issReference,
    (kit) => ({ iss: `${kit.idp.issuer}/` }),
  ),
  claimCase(
    'audience-issuer',
    'iss-upper-case-scheme',
    'iss with an upper-case scheme',
    issReference,
    (kit) => ({ iss: kit.idp.issuer.replace('http://', 'HTTP://') }),
  ),
  claimCase(
    'audience-issuer',
    'iss-https',
    'iss with https instead of http',
    issReference,
    (kit) => ({ iss: kit.idp.issuer.replace('http://', 'https://') }),
  ),
  claimCase('audience-issuer', 'iss-missing', 'no iss claim', issReference, () => ({
    iss: undefined,
  })),
  {
    id: 'forge.audience-issuer.staging-idp-key',
    category: 'audience-issuer',
    title: 'a token of the staging IdP (its own key and kid, iss staging)',
    reference: `${issReference}; RFC 7515 §4.1.4`,
    expected: 'reject',
    caughtBy: 'key-lookup',
    build: (kit) => {
      const header = { alg: 'ES256', kid: kit.attacker.staging.kid, typ: 'JWT' };
      const claims = kit.fullClaims({ iss: 'https://idp.staging.example' });
      return forged(kit, signedToken(header, claims, 'ES256', kit.attacker.staging.privateKey));
    },
  },
];

const missingReference = 'RFC 7519 §4.1; the demo claims sub, tenant_id, workload';

const missing: ForgeCase[] = (['exp', 'sub', 'iat', 'tenant_id', 'workload'] as const).map(
  (claim) =>
    claimCase(
      'missing-claim',
      claim.replace('_', '-'),
      `no "${claim}" claim`,
      missingReference,
      () => ({ [claim]: undefined }),
      {
        assumes: `the verifier requires "${claim}"`,
      },
    ),
);

/** Time, audience, issuer and required-claim cases (IdP-signed, wrong claims). */
export const claimCases: readonly ForgeCase[] = [...validity, ...audienceIssuer, ...missing];
