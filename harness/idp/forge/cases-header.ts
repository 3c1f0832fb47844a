import { base64url, encodeSegment, signBytes } from '../jws.js';
import { forged, signedToken, withHeader, type ForgeCase, type ForgeKit } from './kit.js';

function attackerEs(kit: ForgeKit, header: Record<string, unknown>, claims = kit.fullClaims()) {
  const full = { alg: 'ES256', typ: 'JWT', ...header };
  return forged(kit, signedToken(full, claims, 'ES256', kit.attacker.ec.privateKey));
}

function idpKid(kit: ForgeKit): string {
  return kit.idp.currentKey('ES256').kid;
}

const embeddedReference = 'RFC 7515 §4.1.3; RFC 8725 §3.10; CVE-2018-0114';

const embeddedKey: ForgeCase[] = [
  {
    id: 'forge.embedded-key.jwk-ec',
    category: 'embedded-key',
    title: 'ES256 by an attacker key that the header carries as jwk',
    reference: embeddedReference,
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => attackerEs(kit, { jwk: kit.attacker.ec.publicJwk }),
  },
  {
    id: 'forge.embedded-key.jwk-ec-existing-kid',
    category: 'embedded-key',
    title: 'embedded attacker jwk plus the kid of the IdP ES256 key',
    reference: embeddedReference,
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => attackerEs(kit, { kid: idpKid(kit), jwk: kit.attacker.ec.publicJwk }),
  },
  {
    id: 'forge.embedded-key.jwk-rsa',
    category: 'embedded-key',
    title: 'RS256 by an attacker key that the header carries as jwk',
    reference: embeddedReference,
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => {
      const header = { alg: 'RS256', typ: 'JWT', jwk: kit.attacker.rsa.publicJwk };
      return forged(
        kit,
        signedToken(header, kit.fullClaims(), 'RS256', kit.attacker.rsa.privateKey),
      );
    },
  },
  {
    id: 'forge.embedded-key.jwk-oct',
    category: 'embedded-key',
    title: 'HS256 with the HMAC secret itself embedded as an oct jwk',
    reference: `${embeddedReference}; RFC 7518 §6.4`,
    expected: 'reject',
    caughtBy: 'algorithm',
    build: (kit) => {
      const secret = Buffer.from('warren-attacker-chosen-secret-32b');
      const header = { alg: 'HS256', typ: 'JWT', jwk: { kty: 'oct', k: base64url(secret) } };
      return forged(kit, signedToken(header, kit.fullClaims(), 'HS256', secret));
    },
  },
];

const remoteReference = 'RFC 7515 §4.1.2, §4.1.5; RFC 8725 §3.10 (SSRF, untrusted key URLs)';

const remoteKey: ForgeCase[] = [
  {
    id: 'forge.remote-key.jku-attacker',
    category: 'remote-key',
    title: "jku pointing at the attacker's JWKS (hosted, requests counted), attacker kid",
    reference: remoteReference,
    expected: 'reject',
    caughtBy: 'key-lookup',
    build: (kit) =>
      attackerEs(kit, { kid: kit.attacker.ec.kid, jku: `${kit.attackerBaseUrl}/jwks.json` }),
  },
  {
    id: 'forge.remote-key.jku-attacker-existing-kid',
    category: 'remote-key',
    title: "jku pointing at the attacker's JWKS, kid of the IdP ES256 key",
    reference: remoteReference,
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => attackerEs(kit, { kid: idpKid(kit), jku: `${kit.attackerBaseUrl}/jwks.json` }),
  },
  {
    id: 'forge.remote-key.jku-unresolvable',
    category: 'remote-key',
    title: 'jku pointing at an unresolvable host (a fetching backend stalls or errors)',
    reference: remoteReference,
    expected: 'reject',
    caughtBy: 'key-lookup',
    build: (kit) =>
      attackerEs(kit, { kid: kit.attacker.ec.kid, jku: 'http://jwks.attacker.invalid/keys' }),
  },
  {
    id: 'forge.remote-key.x5u-attacker',
    category: 'remote-key',
    title: "x5u pointing at the attacker's self-signed certificate (hosted, counted)",
    reference: remoteReference,
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => attackerEs(kit, { x5u: `${kit.attackerBaseUrl}/cert.pem` }),
  },
  {
    id: 'forge.remote-key.x5c-self-signed',
    category: 'remote-key',
    title: 'x5c carrying a self-signed attacker certificate, signed by its key',
    reference: 'RFC 7515 §4.1.6; RFC 8725 §3.10',
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => attackerEs(kit, { x5c: [kit.attacker.certificateDer.toString('base64')] }),
  },
  {
    id: 'forge.remote-key.x5c-existing-kid',
    category: 'remote-key',
    title: 'x5c self-signed attacker certificate plus the kid of the IdP ES256 key',
    reference: 'RFC 7515 §4.1.6; RFC 8725 §3.10',
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) =>
      attackerEs(kit, { kid: idpKid(kit), x5c: [kit.attacker.certificateDer.toString('base64')] }),
  },
];

const kidReference = 'RFC 7515 §4.1.4; RFC 8725 §3.10 (kid is attacker input)';

function kidCase(
  variant: string,
  title: string,
  kid: unknown,
  sign: 'attacker-es256' | { hmacKey: string },
): ForgeCase {
  return {
    id: `forge.kid-injection.${variant}`,
    category: 'kid-injection',
    title,
    reference: kidReference,
    expected: 'reject',
    caughtBy: sign === 'attacker-es256' ? 'key-lookup' : 'algorithm',
    build: (kit) => {
      if (sign === 'attacker-es256') return attackerEs(kit, { kid });
      const header = { alg: 'HS256', typ: 'JWT', kid };
      return forged(kit, signedToken(header, kit.fullClaims(), 'HS256', sign.hmacKey));
    },
  };
}

const kidInjection: ForgeCase[] = [
  kidCase(
    'path-traversal-dev-null',
    'kid "../../../../../../dev/null", HS256 with the empty key /dev/null yields',
    '../../../../../../dev/null',
    { hmacKey: '' },
  ),
  kidCase(
    'path-traversal-known-file',
    'kid naming /proc/sys/kernel/randomize_va_space, HS256 keyed with its usual content',
    '../../../../../../proc/sys/kernel/randomize_va_space',
    { hmacKey: '2\n' },
  ),
  kidCase(
    'sql-union',
    "kid \"x' UNION SELECT 'warren-key' -- \", HS256 keyed with the selected value",
    "x' UNION SELECT 'warren-key' -- ",
    { hmacKey: 'warren-key' },
  ),
  kidCase(
    'sql-tautology',
    "kid \"x' OR '1'='1\", attacker ES256",
    "x' OR '1'='1",
    'attacker-es256',
  ),
  kidCase(
    'command-substitution',
    'kid "$(sleep 5)", attacker ES256',
    '$(sleep 5)',
    'attacker-es256',
  ),
  kidCase(
    'command-separator',
    'kid "key; sleep 5 #", attacker ES256',
    'key; sleep 5 #',
    'attacker-es256',
  ),
  kidCase('empty-hmac', 'kid "" with HS256 and an empty key', '', { hmacKey: '' }),
  kidCase('empty', 'kid "" with attacker ES256', '', 'attacker-es256'),
  kidCase('very-long', 'kid of 16 KiB, attacker ES256', 'k'.repeat(16 * 1024), 'attacker-es256'),
  kidCase('number', 'kid as a JSON number, attacker ES256', 1, 'attacker-es256'),
  kidCase(
    'object',
    'kid as an object {"$ne": null} (NoSQL operator)',
    { $ne: null },
    'attacker-es256',
  ),
  {
    id: 'forge.kid-injection.nul-suffix',
    category: 'kid-injection',
    title: 'kid of the IdP ES256 key followed by a NUL and a path',
    reference: kidReference,
    expected: 'reject',
    caughtBy: 'key-lookup',
    build: (kit) => attackerEs(kit, { kid: `${idpKid(kit)}\u0000../../etc/passwd` }),
  },
];

function idpSigned(kit: ForgeKit, header: Record<string, unknown>) {
  const full = { alg: 'ES256', kid: idpKid(kit), typ: 'JWT', ...header };
  return forged(kit, kit.idp.signRaw(full, kit.fullClaims(), { alg: 'ES256' }));
}

const headerMembers: ForgeCase[] = [
  {
    id: 'forge.header.crit-unknown',
    category: 'header',
    title: 'IdP-signed, crit names an extension no verifier knows',
    reference: 'RFC 7515 §4.1.11 (unknown crit → invalid)',
    expected: 'reject',
    caughtBy: 'header',
    build: (kit) => idpSigned(kit, { crit: ['warren-ext'], 'warren-ext': true }),
  },
  {
    id: 'forge.header.crit-registered-name',
    category: 'header',
    title: 'IdP-signed, crit lists "alg" (a name the spec defines)',
    reference: 'RFC 7515 §4.1.11 (crit MUST NOT list spec-defined names)',
    expected: 'reject',
    caughtBy: 'header',
    build: (kit) => idpSigned(kit, { crit: ['alg'] }),
  },
  {
    id: 'forge.header.crit-empty',
    category: 'header',
    title: 'IdP-signed, crit is the empty list',
    reference: 'RFC 7515 §4.1.11 (the empty list MUST NOT be used)',
    expected: 'reject',
    caughtBy: 'header',
    build: (kit) => idpSigned(kit, { crit: [] }),
  },
  {
    id: 'forge.header.b64-false-idp-signed',
    category: 'header',
    title: 'IdP-signed per RFC 7797: b64 false, crit ["b64"] (unencoded payload in a JWT)',
    reference: 'RFC 7797 §3, §6; RFC 7519 §7.2 (a JWT payload is base64url)',
    expected: 'reject',
    caughtBy: 'header',
    build: (kit) => {
      const header = { alg: 'ES256', kid: idpKid(kit), typ: 'JWT', b64: false, crit: ['b64'] };
      // RFC 7797 §3: the signing input is the header segment, '.', and the payload bytes as
      // they are. The base64url text stands in for the payload so it holds no '.' (§5.2).
      const input = `${encodeSegment(header)}.${encodeSegment(kit.fullClaims())}`;
      const key = kit.idp.currentKey('ES256');
      const signature = signBytes('ES256', key.privateKey, Buffer.from(input));
      return forged(kit, `${input}.${base64url(signature)}`);
    },
  },
  {
    id: 'forge.header.b64-false-tampered',
    category: 'header',
    title: 'real token whose header gained b64 false and crit ["b64"], signature kept',
    reference: 'RFC 7797 §3, §6; RFC 7515 §5.2 step 8',
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => {
      const header = { alg: 'ES256', kid: idpKid(kit), typ: 'JWT', b64: false, crit: ['b64'] };
      return forged(kit, withHeader(kit.legitToken(), header));
    },
  },
  {
    id: 'forge.header.typ-other-jwt-kind',
    category: 'header',
    title: 'IdP-signed with typ "secevent+jwt" (a different kind of JWT)',
    reference: 'RFC 8725 §2.8, §3.11 (explicit typing); RFC 8417 §2.3',
    expected: 'reject',
    caughtBy: 'header',
    assumes: 'the verifier requires typ "JWT", the only typ the test IdP issues',
    build: (kit) => idpSigned(kit, { typ: 'secevent+jwt' }),
  },
  {
    id: 'forge.header.typ-jwe',
    category: 'header',
    title: 'IdP-signed with typ "JWE"',
    reference: 'RFC 8725 §3.11; RFC 7515 §4.1.9',
    expected: 'reject',
    caughtBy: 'header',
    assumes: 'the verifier requires typ "JWT", the only typ the test IdP issues',
    build: (kit) => idpSigned(kit, { typ: 'JWE' }),
  },
];

/** Key-carrying headers, kid injection, crit, b64 and typ. */
export const headerCases: readonly ForgeCase[] = [
  ...embeddedKey,
  ...remoteKey,
  ...kidInjection,
  ...headerMembers,
];
