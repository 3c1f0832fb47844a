// Entry point for the test IdP: `npm run idp -- serve|token|rotate|retire|jwks [flags]`.
import { parseArgs } from 'node:util';

import {
  defaultAudience,
  defaultIdpPort,
  idpAlgs,
  openIdpMinter,
  startIdp,
  type Claims,
  type IdpAlg,
  type JwksMode,
} from '../harness/idp/index.js';
import { ErrorCode, isWarrenError, WarrenError } from '../lib/errors.js';

const usage = `usage: npm run idp -- <command> [flags]
  serve  [--port ${defaultIdpPort}] [--audience ${defaultAudience}]   run the IdP until Ctrl-C
         [--jwks-mode ok|broken|unreachable|slow|empty] [--delay-ms 5000]
  token  --sub NAME [--claim k=v]... [--claim-json k=JSON]... [--alg ES256|RS256|EdDSA]
         [--expires-in 300] [--port ${defaultIdpPort}] [--audience ${defaultAudience}]
         prints only the token
  rotate [--alg ES256]   new current key (the old one stays published until retired)
  retire --kid KID       remove a key from the JWKS
  jwks                   print the JWKS a backend will fetch
Keys live in .warren/idp (WARREN_STATE_DIR overrides).`;

const options = {
  port: { type: 'string' },
  audience: { type: 'string' },
  sub: { type: 'string' },
  claim: { type: 'string', multiple: true },
  'claim-json': { type: 'string', multiple: true },
  alg: { type: 'string' },
  'expires-in': { type: 'string' },
  kid: { type: 'string' },
  'jwks-mode': { type: 'string' },
  'delay-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = ReturnType<
  typeof parseArgs<{ options: typeof options; allowPositionals: true }>
>['values'];

function badFlag(message: string): WarrenError {
  return new WarrenError(ErrorCode.BadOption, message);
}

function parseInteger(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0)
    throw badFlag(`--${flag} wants a whole number, got ${text}`);
  return value;
}

function parseAlg(text: string | undefined): IdpAlg {
  if (text === undefined) return 'ES256';
  const alg = idpAlgs.find((candidate) => candidate === text);
  if (alg === undefined) throw badFlag(`--alg must be one of ${idpAlgs.join(', ')}, got ${text}`);
  return alg;
}

function splitPair(flag: string, pair: string): [string, string] {
  const at = pair.indexOf('=');
  if (at <= 0) throw badFlag(`--${flag} wants key=value, got ${pair}`);
  return [pair.slice(0, at), pair.slice(at + 1)];
}

function parseClaims(flags: Flags): Claims {
  const claims: Claims = {};
  for (const pair of flags.claim ?? []) {
    const [key, value] = splitPair('claim', pair);
    claims[key] = value;
  }
  for (const pair of flags['claim-json'] ?? []) {
    const [key, text] = splitPair('claim-json', pair);
    try {
      claims[key] = JSON.parse(text);
    } catch {
      throw badFlag(`--claim-json ${key}: the value is not JSON (quote strings: ${key}='"x"')`);
    }
  }
  if (flags.sub !== undefined) claims['sub'] = flags.sub;
  if (claims['sub'] === undefined) throw badFlag('token needs --sub (the AMQP username)');
  return claims;
}

function minterOptions(flags: Flags) {
  return {
    port: parseInteger('port', flags.port, defaultIdpPort),
    audience: flags.audience ?? defaultAudience,
  };
}

const jwksModes: readonly JwksMode[] = ['ok', 'broken', 'unreachable', 'slow', 'empty'];

function parseJwksMode(text: string | undefined): JwksMode {
  if (text === undefined) return 'ok';
  const mode = jwksModes.find((candidate) => candidate === text);
  if (mode === undefined) throw badFlag(`--jwks-mode must be one of ${jwksModes.join(', ')}`);
  return mode;
}

async function serve(flags: Flags): Promise<void> {
  const mode = parseJwksMode(flags['jwks-mode']);
  const delayMs = parseInteger('delay-ms', flags['delay-ms'], 5000);
  const idp = await startIdp(minterOptions(flags));
  await idp.setJwksMode(mode, { delayMs });
  console.log(`test IdP listening; configure your backend with:
  issuer     ${idp.issuer}
  audience   ${idp.audience}
  JWKS URL   ${idp.jwksUrl}
  discovery  ${idp.discoveryUrl}
  algorithms ${idpAlgs.join(', ')}
  JWKS mode  ${mode}
keys: ${idp.keysDir}   (Ctrl-C stops)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await idp.stop();
}

function token(flags: Flags): void {
  const minter = openIdpMinter(minterOptions(flags));
  const expiresInSeconds = parseInteger('expires-in', flags['expires-in'], 300);
  console.log(minter.mint(parseClaims(flags), { alg: parseAlg(flags.alg), expiresInSeconds }));
}

function rotate(flags: Flags): void {
  const key = openIdpMinter(minterOptions(flags)).rotate(parseAlg(flags.alg));
  console.log(`new current ${key.alg} key: kid ${key.kid} (the previous one stays published)`);
}

function retire(flags: Flags): void {
  if (flags.kid === undefined) throw badFlag('retire needs --kid (see `npm run idp -- jwks`)');
  const key = openIdpMinter(minterOptions(flags)).retire(flags.kid);
  console.log(`retired ${key.alg} key ${key.kid}`);
}

function jwks(flags: Flags): void {
  console.log(JSON.stringify(openIdpMinter(minterOptions(flags)).jwks(), null, 2));
}

const commands: Record<string, (flags: Flags) => void | Promise<void>> = {
  serve,
  token,
  rotate,
  retire,
  jwks,
};

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ options, allowPositionals: true });
  const command = commands[positionals[0] ?? ''];
  if (values.help === true || command === undefined) {
    console.error(usage);
    return values.help === true ? 0 : 2;
  }
  await command(values);
  return 0;
}

function isUsageError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return isWarrenError(error, ErrorCode.BadOption) || String(code).startsWith('ERR_PARSE_ARGS');
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Usage mistakes exit 2 with the message; other known failures 1; the unexpected, 1 with
    // the stack. No message here carries a key or a token.
    const known = isWarrenError(error) || isUsageError(error);
    console.error(known ? `idp: ${(error as Error).message}` : error);
    process.exitCode = isUsageError(error) ? 2 : 1;
  },
);
