import {
  forged,
  headerOf,
  segmentsOf,
  signedToken,
  unsignedToken,
  withHeader,
  withPayload,
  type ForgeCase,
  type ForgeKit,
} from './kit.js';

const tamperReference = 'RFC 7515 §5.2 step 8; RFC 7519 §7.2';

/** The attacker's own valid token with its claims rewritten, signature kept. */
function tamperOwn(kit: ForgeKit, change: Record<string, unknown>) {
  const own = kit.ownToken();
  const claims = JSON.parse(Buffer.from(segmentsOf(own)[1], 'base64url').toString('utf8'));
  return forged(kit, withPayload(own, { ...claims, ...change }));
}

function tamperCase(variant: string, title: string, change: (kit: ForgeKit) => object): ForgeCase {
  return {
    id: `forge.tampering.${variant}`,
    category: 'tampering',
    title,
    reference: tamperReference,
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => tamperOwn(kit, { ...change(kit) }),
  };
}

const tampering: ForgeCase[] = [
  tamperCase('sub', "own token with sub changed to the target's, signature kept", (kit) => ({
    sub: kit.claims['sub'],
    workload: kit.claims['workload'],
  })),
  tamperCase('tenant', 'own token moved to the other tenant (globex), signature kept', (kit) => ({
    sub: kit.claims['sub'],
    tenant_id: 'globex',
  })),
  tamperCase('workload-admin', 'own token with workload "admin", signature kept', (kit) => ({
    sub: kit.claims['sub'],
    workload: 'admin',
  })),
  tamperCase('exp-extended', 'own token with exp pushed a year ahead, signature kept', (kit) => ({
    sub: kit.claims['sub'],
    exp: kit.nowSeconds + 365 * 86_400,
  })),
  {
    id: 'forge.tampering.kid-swapped',
    category: 'tampering',
    title: 'real ES256 token relabelled with the kid of the IdP RS256 key',
    reference: tamperReference,
    expected: 'reject',
    caughtBy: 'key-lookup',
    build: (kit) => {
      const token = kit.legitToken('ES256');
      const header = { ...headerOf(token), kid: kit.idp.currentKey('RS256').kid };
      return forged(kit, withHeader(token, header));
    },
  },
  {
    id: 'forge.tampering.alg-relabelled',
    category: 'tampering',
    title: 'real ES256 token relabelled RS256 with the RS256 kid',
    reference: `${tamperReference}; RFC 8725 §3.1`,
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => {
      const token = kit.legitToken('ES256');
      const header = { alg: 'RS256', kid: kit.idp.currentKey('RS256').kid, typ: 'JWT' };
      return forged(kit, withHeader(token, header));
    },
  },
  {
    id: 'forge.tampering.padded-base64',
    category: 'tampering',
    title: 'real token with its payload re-encoded as padded standard base64',
    reference: 'RFC 7515 §2 (base64url, no padding), §5.2 step 8',
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => {
      const [header, payload, signature] = segmentsOf(kit.legitToken());
      const standard = Buffer.from(payload, 'base64url').toString('base64');
      return forged(
        kit,
        `${header}.${standard.endsWith('=') ? standard : `${standard}=`}.${signature}`,
      );
    },
  },
  {
    id: 'forge.tampering.extra-segment',
    category: 'tampering',
    title: 'real token with a fourth segment appended',
    reference: 'RFC 7515 §7.1; RFC 7519 §7.2 step 1',
    expected: 'reject',
    caughtBy: 'format',
    build: (kit) => forged(kit, `${kit.legitToken()}.e30`),
  },
];

const duplicateReference = 'RFC 7515 §4; RFC 7519 §4; RFC 8259 §4';

/** A JSON object text with `member` appended after the existing members (a duplicate). */
function appendMember(json: object, member: string, value: unknown): string {
  const text = JSON.stringify(json);
  return `${text.slice(0, -1)},${JSON.stringify(member)}:${JSON.stringify(value)}}`;
}

/** A JSON object text with `member` first, then the object's own members. */
function prependMember(json: object, member: string, value: unknown): string {
  const text = JSON.stringify(json);
  return `{${JSON.stringify(member)}:${JSON.stringify(value)},${text.slice(1)}`;
}

const duplicates: ForgeCase[] = [
  {
    id: 'forge.duplicate-keys.payload-sub-appended',
    category: 'duplicate-keys',
    title: 'own token with a second "sub" (the target) appended, signature kept',
    reference: duplicateReference,
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => {
      const own = kit.ownToken();
      const claims = JSON.parse(Buffer.from(segmentsOf(own)[1], 'base64url').toString('utf8'));
      return forged(kit, withPayload(own, appendMember(claims, 'sub', kit.claims['sub'])));
    },
  },
  {
    id: 'forge.duplicate-keys.payload-sub-attacker-signed',
    category: 'duplicate-keys',
    title: 'two "sub" members (own, then target), attacker ES256 with the IdP kid',
    reference: duplicateReference,
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => {
      const header = { alg: 'ES256', kid: kit.idp.currentKey('ES256').kid, typ: 'JWT' };
      const payload = appendMember(kit.fullClaims(kit.ownClaims), 'sub', kit.claims['sub']);
      return forged(kit, signedToken(header, payload, 'ES256', kit.attacker.ec.privateKey));
    },
  },
  {
    id: 'forge.duplicate-keys.header-alg-none-last',
    category: 'duplicate-keys',
    title: 'header {"alg":"ES256","kid":…,"alg":"none"}, empty signature',
    reference: duplicateReference,
    expected: 'reject',
    caughtBy: 'algorithm',
    build: (kit) => {
      const header = { alg: 'ES256', kid: kit.idp.currentKey('ES256').kid, typ: 'JWT' };
      return forged(kit, unsignedToken(appendMember(header, 'alg', 'none'), kit.fullClaims()));
    },
  },
  {
    id: 'forge.duplicate-keys.header-alg-none-first',
    category: 'duplicate-keys',
    title: 'header {"alg":"none","alg":"ES256","kid":…}, empty signature',
    reference: duplicateReference,
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => {
      const header = { alg: 'ES256', kid: kit.idp.currentKey('ES256').kid, typ: 'JWT' };
      return forged(kit, unsignedToken(prependMember(header, 'alg', 'none'), kit.fullClaims()));
    },
  },
  {
    id: 'forge.duplicate-keys.idp-signed-last-wins',
    category: 'duplicate-keys',
    title: 'IdP-signed payload with "sub" twice (target first, own last): last one must count',
    reference: `${duplicateReference} (parsers reject or take the lexically last)`,
    expected: 'accept',
    assumes:
      'the verifier takes the last duplicate (RFC 7515 §4 and RFC 7519 §4 allow it); accepted as the own ' +
      'identity, never as the first "sub"',
    build: (kit) => {
      const header = { alg: 'ES256', kid: kit.idp.currentKey('ES256').kid, typ: 'JWT' };
      const claims = kit.fullClaims(kit.ownClaims);
      const payload = prependMember(claims, 'sub', kit.claims['sub']);
      return { token: kit.idp.signRaw(header, payload), username: String(kit.ownClaims['sub']) };
    },
  },
];

/** `depth` nested arrays around a number, as text (JSON.stringify would recurse). */
function nestedArrays(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

function withPadding(kit: ForgeKit, bytes: number) {
  const own = kit.ownToken();
  const claims = JSON.parse(Buffer.from(segmentsOf(own)[1], 'base64url').toString('utf8'));
  return forged(
    kit,
    withPayload(own, { ...claims, sub: kit.claims['sub'], pad: 'A'.repeat(bytes) }),
  );
}

const parsing: ForgeCase[] = [
  {
    id: 'forge.parsing.over-8-kib',
    category: 'parsing',
    title: 'tampered token just over 8 KiB (padding claim), signature kept',
    reference: 'RFC 7515 §5.2 step 8; CWE-770 (bound input before parsing)',
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => withPadding(kit, 6 * 1024 + 512),
  },
  {
    id: 'forge.parsing.over-64-kib',
    category: 'parsing',
    title: 'tampered token over 64 KiB (padding claim), signature kept',
    reference: 'RFC 7515 §5.2 step 8; CWE-770 (bound input before parsing)',
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => withPadding(kit, 50 * 1024),
  },
  {
    id: 'forge.parsing.deeply-nested-claim',
    category: 'parsing',
    title: 'tampered payload with a claim nested 5000 arrays deep, signature kept',
    reference: 'RFC 8259 §9 (parsers may limit nesting); CWE-674',
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => {
      const own = kit.ownToken();
      return forged(
        kit,
        withPayload(
          own,
          appendMember(kit.fullClaims(), 'nest', 0).replace(
            '"nest":0',
            `"nest":${nestedArrays(5000)}`,
          ),
        ),
      );
    },
  },
  {
    id: 'forge.parsing.deeply-nested-header',
    category: 'parsing',
    title: 'header with a member nested 5000 arrays deep, real signature kept',
    reference: 'RFC 8259 §9; CWE-674',
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => {
      const token = kit.legitToken();
      const header = appendMember(headerOf(token), 'x', 0).replace(
        '"x":0',
        `"x":${nestedArrays(5000)}`,
      );
      return forged(kit, withHeader(token, header));
    },
  },
  {
    id: 'forge.parsing.payload-not-json',
    category: 'parsing',
    title: 'IdP-signed token whose payload is not JSON',
    reference: 'RFC 7519 §7.2 steps 9-10',
    expected: 'reject',
    caughtBy: 'format',
    build: (kit) => {
      const header = { alg: 'ES256', kid: kit.idp.currentKey('ES256').kid, typ: 'JWT' };
      return forged(kit, kit.idp.signRaw(header, `sub=${String(kit.claims['sub'])}`));
    },
  },
  {
    id: 'forge.parsing.payload-array',
    category: 'parsing',
    title: 'IdP-signed token whose payload is a JSON array of claim sets',
    reference: 'RFC 7519 §7.2 step 10 (the claims set is a JSON object)',
    expected: 'reject',
    caughtBy: 'format',
    build: (kit) => {
      const header = { alg: 'ES256', kid: kit.idp.currentKey('ES256').kid, typ: 'JWT' };
      return forged(kit, kit.idp.signRaw(header, JSON.stringify([kit.fullClaims()])));
    },
  },
  {
    id: 'forge.parsing.invalid-base64url',
    category: 'parsing',
    title: 'payload segment with characters outside base64url (* and !)',
    reference: 'RFC 7515 §2, §7.1',
    expected: 'reject',
    caughtBy: 'signature',
    build: (kit) => {
      const [header, payload, signature] = segmentsOf(kit.legitToken());
      return forged(kit, `${header}.${payload.slice(0, 8)}*!${payload.slice(8)}.${signature}`);
    },
  },
];

/** Tampering, duplicate members, size and structure abuse. */
export const payloadCases: readonly ForgeCase[] = [...tampering, ...duplicates, ...parsing];
