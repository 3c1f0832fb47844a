import type { Claims } from '../mint.js';
import { forged, signedToken, type ForgeCase, type ForgeCategory, type ForgeKit } from './kit.js';

/** An IdP-signed recipe: the target's legitimate claims with some changed. */
interface ClaimRecipe {
  category: ForgeCategory;
  variant: string;
  title: string;
  reference: string;
  /** Claims replacing the legitimate ones; `undefined` removes a claim. */
  claims: (kit: ForgeKit) => Claims;
  /** Default `reject` (caught by the claim checks). */
  expected?: 'reject' | 'accept';
  assumes?: string;
}

function claimCase(recipe: ClaimRecipe): ForgeCase {
  const { category, variant, claims, expected = 'reject', ...text } = recipe;
  return {
    id: `forge.${category}.${variant}`,
    category,
    ...text,
    expected,
    ...(expected === 'reject' ? { caughtBy: 'claims' as const } : {}),
    build: (kit) => {
      const now = kit.nowSeconds;
      const full = { ...kit.fullClaims(), ...claims(kit) };
      return forged(kit, kit.idp.mint(full, { issuedAt: now }));
    },
  };
}

const exp = 'RFC 7519 §4.1.4 (reject on or after exp, small leeway)';
const nbf = 'RFC 7519 §4.1.5 (reject before nbf, small leeway)';
const iat = 'RFC 7519 §4.1.6; RFC 8725 §3.10';
const numericDate = 'RFC 7519 §2 (NumericDate is a number)';
const skewAssumed = 'clock tolerance = the kit clockSkewSeconds';

/** Valid from ten minutes ago, so only `exp` decides. */
function issuedEarlier(kit: ForgeKit, expSeconds: number): Claims {
  return { iat: kit.nowSeconds - 600, nbf: kit.nowSeconds - 600, exp: expSeconds };
}

const validity: ForgeCase[] = [
  {
    variant: 'control-valid',
    title: 'a plain valid IdP token for the target',
    reference: 'RFC 7519 §7.2',
    claims: () => ({}),
    expected: 'accept' as const,
  },
  {
    variant: 'expired-long-ago',
    title: 'IdP token that expired a day ago',
    reference: exp,
    claims: (kit: ForgeKit) => ({
      iat: kit.nowSeconds - 86_700,
      nbf: kit.nowSeconds - 86_700,
      exp: kit.nowSeconds - 86_400,
    }),
  },
  {
    variant: 'exp-at-skew-edge',
    title: 'exp exactly now - skew (expired at the leeway edge)',
    reference: exp,
    claims: (kit: ForgeKit) => issuedEarlier(kit, kit.nowSeconds - kit.clockSkewSeconds),
    assumes: skewAssumed,
  },
  {
    variant: 'exp-beyond-skew',
    title: 'exp 1 s beyond the skew window',
    reference: exp,
    claims: (kit: ForgeKit) => issuedEarlier(kit, kit.nowSeconds - kit.clockSkewSeconds - 1),
    assumes: skewAssumed,
  },
  {
    variant: 'control-exp-inside-skew',
    title: 'exp half a skew in the past: still accepted',
    reference: exp,
    claims: (kit: ForgeKit) =>
      issuedEarlier(kit, kit.nowSeconds - Math.floor(kit.clockSkewSeconds / 2)),
    expected: 'accept' as const,
    assumes: skewAssumed,
  },
  {
    variant: 'nbf-far-future',
    title: 'nbf a day ahead',
    reference: nbf,
    claims: (kit: ForgeKit) => ({ nbf: kit.nowSeconds + 86_400, exp: kit.nowSeconds + 86_700 }),
  },
  {
    variant: 'nbf-beyond-skew',
    title: 'nbf just beyond the skew window (+ margin)',
    reference: nbf,
    claims: (kit: ForgeKit) => ({ nbf: kit.nowSeconds + kit.clockSkewSeconds + kit.marginSeconds }),
    assumes: skewAssumed,
  },
  {
    variant: 'control-nbf-inside-skew',
    title: 'nbf half a skew ahead: still accepted',
    reference: nbf,
    claims: (kit: ForgeKit) => ({ nbf: kit.nowSeconds + Math.floor(kit.clockSkewSeconds / 2) }),
    expected: 'accept' as const,
    assumes: skewAssumed,
  },
  {
    variant: 'iat-beyond-skew',
    title: 'iat in the future beyond the skew window (+ margin)',
    reference: iat,
    claims: (kit: ForgeKit) => ({ iat: kit.nowSeconds + kit.clockSkewSeconds + kit.marginSeconds }),
    assumes: 'the verifier refuses a future iat (jose: maxTokenAge set)',
  },
  {
    variant: 'exp-as-string',
    title: 'exp written as a string, an hour ahead',
    reference: numericDate,
    claims: (kit: ForgeKit) => ({ exp: String(kit.nowSeconds + 3_600) }),
  },
  {
    variant: 'nbf-as-string',
    title: 'nbf written as a string',
    reference: numericDate,
    claims: (kit: ForgeKit) => ({ nbf: String(kit.nowSeconds + 3_600) }),
  },
  {
    variant: 'exp-before-nbf',
    title: 'exp before nbf, both within the hour',
    reference: exp,
    claims: (kit: ForgeKit) => ({ nbf: kit.nowSeconds + 3_600, exp: kit.nowSeconds + 1_800 }),
  },
].map((recipe) => claimCase({ category: 'validity', ...recipe }));

const aud = 'RFC 7519 §4.1.3, §7.2; RFC 8725 §3.9';
const iss = 'RFC 7519 §4.1.1; RFC 8725 §3.8; RFC 8414 §3.3 (exact match)';
const stagingIssuer = 'https://idp.staging.example';

const audienceIssuer: ForgeCase[] = [
  ...[
    {
      variant: 'aud-other-service',
      title: 'aud "grafana" (a token for another service)',
      reference: aud,
      claims: () => ({ aud: 'grafana' }),
    },
    {
      variant: 'aud-other-environment',
      title: 'aud "rabbitmq-staging"',
      reference: aud,
      claims: () => ({ aud: 'rabbitmq-staging' }),
    },
    {
      variant: 'aud-prefix-extended',
      title: 'aud "rabbitmq.evil" (prefix match trap)',
      reference: aud,
      claims: (kit: ForgeKit) => ({ aud: `${kit.idp.audience}.evil` }),
    },
    {
      variant: 'aud-wrong-case',
      title: 'aud in upper case (aud is case-sensitive)',
      reference: aud,
      claims: (kit: ForgeKit) => ({ aud: kit.idp.audience.toUpperCase() }),
    },
    {
      variant: 'aud-array-without-ours',
      title: 'aud ["grafana","vault"]',
      reference: aud,
      claims: () => ({ aud: ['grafana', 'vault'] }),
    },
    { variant: 'aud-empty-string', title: 'aud ""', reference: aud, claims: () => ({ aud: '' }) },
    {
      variant: 'aud-missing',
      title: 'no aud claim',
      reference: aud,
      claims: () => ({ aud: undefined }),
    },
    {
      variant: 'iss-staging',
      title: `iss "${stagingIssuer}", signed by this IdP's key`,
      reference: iss,
      claims: () => ({ iss: stagingIssuer }),
    },
    {
      variant: 'iss-trailing-slash',
      title: 'iss with a trailing slash',
      reference: iss,
      claims: (kit: ForgeKit) => ({ iss: `${kit.idp.issuer}/` }),
    },
    {
      variant: 'iss-upper-case-scheme',
      title: 'iss with an upper-case scheme',
      reference: iss,
      claims: (kit: ForgeKit) => ({ iss: kit.idp.issuer.replace('http://', 'HTTP://') }),
    },
    {
      variant: 'iss-https',
      title: 'iss with https instead of http',
      reference: iss,
      claims: (kit: ForgeKit) => ({ iss: kit.idp.issuer.replace('http://', 'https://') }),
    },
    {
      variant: 'iss-missing',
      title: 'no iss claim',
      reference: iss,
      claims: () => ({ iss: undefined }),
    },
  ].map((recipe) => claimCase({ category: 'audience-issuer', ...recipe })),
  {
    id: 'forge.audience-issuer.staging-idp-key',
    category: 'audience-issuer',
    title: 'a token of the staging IdP (its own key and kid, iss staging)',
    reference: `${iss}; RFC 7515 §4.1.4`,
    expected: 'reject',
    caughtBy: 'key-lookup',
    build: (kit) => {
      const header = { alg: 'ES256', kid: kit.attacker.staging.kid, typ: 'JWT' };
      const claims = kit.fullClaims({ iss: stagingIssuer });
      return forged(kit, signedToken(header, claims, 'ES256', kit.attacker.staging.privateKey));
    },
  },
];

const missing: ForgeCase[] = (['exp', 'sub', 'iat', 'tenant_id', 'workload'] as const).map(
  (claim) =>
    claimCase({
      category: 'missing-claim',
      variant: claim.replace('_', '-'),
      title: `no "${claim}" claim`,
      reference: 'RFC 7519 §4.1; the demo claims sub, tenant_id, workload',
      claims: () => ({ [claim]: undefined }),
      assumes: `the verifier requires "${claim}"`,
    }),
);

/** Time, audience, issuer and required-claim cases (IdP-signed, wrong claims). */
export const claimCases: readonly ForgeCase[] = [...validity, ...audienceIssuer, ...missing];
