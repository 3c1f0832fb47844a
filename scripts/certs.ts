// Entry point for the private CA: `npm run certs -- <command> [flags]` (see certs/README.md).
import { parseArgs } from 'node:util';

import type {
  CertificateAuthority,
  ExtendedKeyUsageChoice,
  InventoryEntry,
  IssuedCertificate,
  KeyAlgorithm,
  RevocationReason,
} from '../certs/index.js';
import { evaluateInventory, expectedBrokerUsername, openCa } from '../certs/index.js';
import { ErrorCode, isWarrenError, WarrenError } from '../lib/errors.js';

const usage = `usage: npm run certs -- <command> [flags]
  init          [--algorithm ecdsa-p256|ed25519|rsa-2048] [--trust-domain warren.test]
  issue-server  --name N (--dns HOST | --ip ADDR)... [--days 365] [--key-algorithm A]
                [--eku serverAuth|clientAuth|none]
  issue-client  --name N --cn CN [--o ORG] [--ou UNIT] [--c CC] [--spiffe NS/SA | --spiffe-id URI]
                [--dns HOST]... [--ip ADDR]... [--uri URI]... [--days 90]
                [--not-before ISO] [--not-after ISO] [--eku clientAuth|serverAuth|none]
  revoke        NAME|SERIAL [--reason unspecified|keyCompromise|superseded|...]
  crl           [--refresh]      print the CRL paths (re-sign them with --refresh)
  rotate                         new CA generation; the old one stays trusted
  retire        --generation N   drop generation N from the trust bundle
  inventory     [--json] [--warn-days 30] [--fail-days 7]
  username      --name N [--from distinguished_name|common_name|uri_san]
Common: --dir DIR (default .warren/ca; WARREN_STATE_DIR moves .warren).
Exit codes: 0 ok; inventory 1 = a certificate under --warn-days, 2 = under --fail-days;
64 bad command or flag; 70 any other error.`;

const exitCodes = { ok: 0, warn: 1, fail: 2, usage: 64, error: 70 } as const;

const options = {
  dir: { type: 'string' },
  algorithm: { type: 'string' },
  'trust-domain': { type: 'string' },
  name: { type: 'string' },
  dns: { type: 'string', multiple: true },
  ip: { type: 'string', multiple: true },
  uri: { type: 'string', multiple: true },
  cn: { type: 'string' },
  o: { type: 'string' },
  ou: { type: 'string' },
  c: { type: 'string' },
  spiffe: { type: 'string' },
  'spiffe-id': { type: 'string' },
  days: { type: 'string' },
  'not-before': { type: 'string' },
  'not-after': { type: 'string' },
  eku: { type: 'string' },
  'key-algorithm': { type: 'string' },
  reason: { type: 'string' },
  refresh: { type: 'boolean' },
  generation: { type: 'string' },
  json: { type: 'boolean' },
  'warn-days': { type: 'string' },
  'fail-days': { type: 'string' },
  from: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = ReturnType<
  typeof parseArgs<{ options: typeof options; allowPositionals: true }>
>['values'];

function badFlag(message: string): WarrenError {
  return new WarrenError(ErrorCode.BadOption, message);
}

function required(flags: Flags, flag: 'name' | 'cn' | 'generation'): string {
  const value = flags[flag];
  if (value === undefined || value === '') throw badFlag(`--${flag} is required`);
  return value;
}

function oneOf<T extends string>(
  flag: string,
  text: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (text === undefined) return undefined;
  const found = allowed.find((candidate) => candidate === text);
  if (found === undefined)
    throw badFlag(`--${flag} must be one of ${allowed.join(', ')}, got ${text}`);
  return found;
}

function wholeNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0)
    throw badFlag(`--${flag} wants a whole number, got ${text}`);
  return value;
}

function date(flag: string, text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const value = new Date(text);
  if (Number.isNaN(value.getTime()))
    throw badFlag(`--${flag} wants an ISO date (2027-01-31T00:00:00Z), got ${text}`);
  return value;
}

const keyAlgorithms: readonly KeyAlgorithm[] = ['ecdsa-p256', 'ed25519', 'rsa-2048'];
const ekus: readonly ExtendedKeyUsageChoice[] = ['clientAuth', 'serverAuth', 'none'];
const reasons: readonly RevocationReason[] = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'privilegeWithdrawn',
];

function open(flags: Flags): Promise<CertificateAuthority> {
  const algorithm = oneOf('algorithm', flags.algorithm, keyAlgorithms);
  return openCa({
    ...(flags.dir !== undefined && { dir: flags.dir }),
    ...(algorithm !== undefined && { algorithm }),
    ...(flags['trust-domain'] !== undefined && { trustDomain: flags['trust-domain'] }),
  });
}

function leafOptions(flags: Flags) {
  const validityDays = wholeNumber('days', flags.days);
  const notBefore = date('not-before', flags['not-before']);
  const notAfter = date('not-after', flags['not-after']);
  const keyAlgorithm = oneOf('key-algorithm', flags['key-algorithm'], keyAlgorithms);
  const extendedKeyUsage = oneOf('eku', flags.eku, ekus);
  return {
    name: required(flags, 'name'),
    dnsNames: flags.dns ?? [],
    ipAddresses: flags.ip ?? [],
    ...(validityDays !== undefined && { validityDays }),
    ...(notBefore !== undefined && { notBefore }),
    ...(notAfter !== undefined && { notAfter }),
    ...(keyAlgorithm !== undefined && { keyAlgorithm }),
    ...(extendedKeyUsage !== undefined && { extendedKeyUsage }),
  };
}

function spiffeId(flags: Flags): {
  spiffeId?: string | { namespace: string; serviceAccount: string };
} {
  if (flags.spiffe !== undefined && flags['spiffe-id'] !== undefined) {
    throw badFlag('give either --spiffe NS/SA or --spiffe-id URI, not both');
  }
  if (flags['spiffe-id'] !== undefined) return { spiffeId: flags['spiffe-id'] };
  if (flags.spiffe === undefined) return {};
  const [namespace, serviceAccount, extra] = flags.spiffe.split('/');
  if (!namespace || !serviceAccount || extra !== undefined) {
    throw badFlag(`--spiffe wants NAMESPACE/SERVICE_ACCOUNT (acme/orders), got ${flags.spiffe}`);
  }
  return { spiffeId: { namespace, serviceAccount } };
}

function printIssued(cert: IssuedCertificate): void {
  console.log(JSON.stringify(cert, null, 2));
}

function formatTable(rows: readonly InventoryEntry[]): string {
  const header = ['NAME', 'KIND', 'GEN', 'SERIAL', 'SUBJECT', 'SANS', 'NOT AFTER', 'DAYS', 'STATE'];
  const lines = rows.map((row) => [
    row.name,
    row.kind,
    String(row.generation),
    row.serialHex,
    row.subject,
    [...row.sans.dns, ...row.sans.ip, ...row.sans.uri].join(' ') || '-',
    row.notAfter.slice(0, 10),
    String(row.daysLeft),
    stateOf(row),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => (line[column] ?? '').length)),
  );
  return [header, ...lines]
    .map((line) =>
      line
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function stateOf(row: InventoryEntry): string {
  const states = [
    row.revoked ? 'revoked' : '',
    row.current ? '' : 'replaced',
    row.trusted ? '' : 'retired',
    row.deliberatelyInvalid ? 'deliberately-invalid' : '',
  ].filter(Boolean);
  return states.join(',') || 'ok';
}

async function inventory(flags: Flags): Promise<number> {
  const warnDays = wholeNumber('warn-days', flags['warn-days']) ?? 30;
  const failDays = wholeNumber('fail-days', flags['fail-days']) ?? 7;
  if (failDays > warnDays) throw badFlag('--fail-days must not exceed --warn-days');
  const ca = await open(flags);
  const rows = await ca.inventory();
  const report = evaluateInventory(rows, { warnDays, failDays });
  if (flags.json) {
    const findings = report.findings.map((finding) => ({
      name: finding.entry.name,
      serialHex: finding.entry.serialHex,
      level: finding.level,
    }));
    console.log(
      JSON.stringify(
        { status: report.status, warnDays, failDays, findings, certificates: rows },
        null,
        2,
      ),
    );
  } else {
    console.log(formatTable(rows));
    for (const finding of report.findings) {
      console.log(
        `${finding.level.toUpperCase()}: ${finding.entry.name} expires in ${finding.entry.daysLeft} days`,
      );
    }
    console.log(`status: ${report.status} (warn under ${warnDays} days, fail under ${failDays})`);
  }
  return exitCodes[report.status];
}

async function run(
  command: string | undefined,
  positionals: string[],
  flags: Flags,
): Promise<number> {
  switch (command) {
    case 'init': {
      const ca = await open(flags);
      console.log(
        JSON.stringify(
          {
            dir: ca.dir,
            algorithm: ca.algorithm,
            trustDomain: ca.trustDomain,
            activeGeneration: ca.activeGeneration,
            trustBundle: ca.trustBundlePath,
            trustRoots: ca.trustRootsPath,
            crl: ca.crlPaths(),
          },
          null,
          2,
        ),
      );
      return exitCodes.ok;
    }
    case 'issue-server': {
      const ca = await open(flags);
      printIssued(await ca.issueServerCertificate(leafOptions(flags)));
      return exitCodes.ok;
    }
    case 'issue-client': {
      const ca = await open(flags);
      const subject = {
        commonName: required(flags, 'cn'),
        ...(flags.o !== undefined && { organization: flags.o }),
        ...(flags.ou !== undefined && { organizationalUnit: flags.ou }),
        ...(flags.c !== undefined && { country: flags.c }),
      };
      printIssued(
        await ca.issueClientCertificate({
          ...leafOptions(flags),
          subject,
          ...spiffeId(flags),
          uris: flags.uri ?? [],
        }),
      );
      return exitCodes.ok;
    }
    case 'revoke': {
      const target = positionals[0] ?? flags.name;
      if (target === undefined) throw badFlag('revoke wants a certificate name or serial');
      const ca = await open(flags);
      await ca.revoke(target, oneOf('reason', flags.reason, reasons));
      console.log(`revoked ${target}; CRLs rewritten: ${ca.crlPaths().bundle}`);
      return exitCodes.ok;
    }
    case 'crl': {
      const ca = await open(flags);
      if (flags.refresh) await ca.refreshCrls();
      console.log(JSON.stringify(ca.crlPaths(), null, 2));
      return exitCodes.ok;
    }
    case 'rotate': {
      const ca = await open(flags);
      const generation = await ca.rotate();
      console.log(
        `generation ${generation} now issues; earlier generations stay trusted until retired`,
      );
      return exitCodes.ok;
    }
    case 'retire': {
      const generation = wholeNumber('generation', required(flags, 'generation')) ?? 0;
      const ca = await open(flags);
      await ca.retire(generation);
      console.log(`generation ${generation} retired; trust bundle: ${ca.trustBundlePath}`);
      return exitCodes.ok;
    }
    case 'inventory':
      return inventory(flags);
    case 'username': {
      const ca = await open(flags);
      const name = required(flags, 'name');
      const cert = await ca.find(name);
      if (!cert) throw badFlag(`--name ${name}: no such certificate (see "inventory")`);
      const from =
        oneOf('from', flags.from, ['distinguished_name', 'common_name', 'uri_san'] as const) ??
        'distinguished_name';
      console.log(expectedBrokerUsername(cert, from));
      return exitCodes.ok;
    }
    default:
      throw badFlag(
        command === undefined ? 'a command is required' : `unknown command "${command}"`,
      );
  }
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ options, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`certs: ${(error as Error).message}\n${usage}`);
    process.exitCode = exitCodes.usage;
    return;
  }
  const [command, ...positionals] = parsed.positionals;
  if (parsed.values.help) {
    console.log(usage);
    return;
  }
  try {
    process.exitCode = await run(command, positionals, parsed.values);
  } catch (error) {
    if (isWarrenError(error, ErrorCode.BadOption)) {
      console.error(`certs: ${error.message}\n${usage}`);
      process.exitCode = exitCodes.usage;
    } else if (isWarrenError(error)) {
      console.error(`certs: ${error.code}: ${error.message}`);
      process.exitCode = exitCodes.error;
    } else {
      console.error('certs: unexpected failure', error);
      process.exitCode = exitCodes.error;
    }
  }
}

await main();
