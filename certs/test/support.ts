import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { IssuedCertificate } from '../index.js';

const execFileAsync = promisify(execFile);

/** Result of `openssl verify`: ok, or the numeric X509_V_ERR code it reported. */
export interface VerifyResult {
  ok: boolean;
  errorCode?: number;
  output: string;
}

/** Runs `openssl verify -x509_strict` for a purpose, optionally with CRL checks at every level. */
export async function opensslVerify(params: {
  cert: Pick<IssuedCertificate, 'certPath' | 'chainPath'>;
  caFile: string;
  purpose: 'sslserver' | 'sslclient';
  crlFile?: string;
  attime?: Date;
}): Promise<VerifyResult> {
  const args = ['verify', '-x509_strict', '-purpose', params.purpose, '-CAfile', params.caFile];
  args.push('-untrusted', params.cert.chainPath);
  if (params.crlFile) args.push('-crl_check_all', '-CRLfile', params.crlFile);
  if (params.attime) args.push('-attime', String(Math.floor(params.attime.getTime() / 1000)));
  args.push(params.cert.certPath);
  try {
    const { stdout, stderr } = await execFileAsync('openssl', args);
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    const match = /error (\d+) at \d+ depth/.exec(output);
    return { ok: false, ...(match && { errorCode: Number(match[1]) }), output };
  }
}

/** OpenSSL's X509_V_ERR codes the tests expect. */
export const X509VerifyError = {
  unableToGetIssuerCertLocally: 20,
  certNotYetValid: 9,
  certHasExpired: 10,
  certRevoked: 23,
  invalidPurpose: 26,
} as const;

/** Runs openssl with arguments and returns stdout. */
export async function openssl(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('openssl', args);
  return stdout;
}

/** A fresh temporary folder and its cleanup, for one test file's CA. */
export async function temporaryDir(
  prefix: string,
): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `warren-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
