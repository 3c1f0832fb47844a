import * as x509 from './x509.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, WarrenError } from '../lib/errors.js';
import { stateDir } from '../lib/paths.js';
import type { CaGeneration } from './authority.js';
import {
  addDays,
  certificatePem,
  createGeneration,
  generationPaths,
  loadGeneration,
  newSerialHex,
} from './authority.js';
import { withDirLock } from './lock.js';
import { crlsNeedRefresh, publishTrust } from './publish.js';
import type { ExtendedKeyUsageChoice } from './extensions.js';
import { leafExtensions } from './extensions.js';
import type { IssuedCertificate } from './issued.js';
import { describeIssued, issuedPaths } from './issued.js';
import type { KeyAlgorithm } from './keys.js';
import { generateKeyPair, keyAlgorithms, privateKeyToPem, signingParams } from './keys.js';
import type { SubjectFields } from './names.js';
import {
  badOption,
  buildSubjectName,
  checkCertificateName,
  checkSanValues,
  spiffeIdUri,
} from './names.js';
import type { InventoryEntry } from './inventory.js';
import { buildInventory } from './inventory.js';
import type { CaState, GenerationRecord, IssuedRecord, RevocationReason } from './state.js';
import { readState, writeFileAtomic, writeState } from './state.js';
import type {
  ClientCertificateRequest,
  CrlPaths,
  OpenCaOptions,
  ServerCertificateRequest,
  ValidityOptions,
} from './requests.js';

const defaultValidityDays = { server: 365, client: 90 } as const;
const clockSkewMs = 5 * 60_000;

/**
 * Opens the CA in `dir`, creating generation 1 (root + intermediate) on first use. The files
 * persist; later calls load them. One process at a time should change a CA folder.
 */
export async function openCa(options: OpenCaOptions = {}): Promise<CertificateAuthority> {
  const dir = options.dir ?? stateDir('ca');
  const now = options.now ?? (() => new Date());
  const algorithm = options.algorithm ?? 'ecdsa-p256';
  if (!keyAlgorithms.includes(algorithm)) {
    throw badOption('algorithm', `must be one of ${keyAlgorithms.join(', ')}`);
  }
  // Under the folder lock: parallel test files opening the same default folder must not both
  // create a generation 1 and overwrite each other's keys.
  return withDirLock(dir, async () => {
    const existing = await readState(dir);
    if (existing) {
      const ca = new CertificateAuthority(dir, existing, await loadTrusted(dir, existing), now);
      // A CA folder can sit unused for weeks; its CRLs must not lapse, or every peer that
      // checks them (Node, OpenSSL, Erlang's crl_check) refuses every client.
      if (await crlsNeedRefresh(ca.crlPaths(), now())) await ca.publish();
      return ca;
    }
    const trustDomain = options.trustDomain ?? 'warren.test';
    const first = await createGeneration({
      dir,
      generation: 1,
      algorithm,
      trustDomain,
      now: now(),
    });
    const state: CaState = {
      format: 1,
      algorithm,
      trustDomain,
      generations: [first.record],
      issued: [],
    };
    const ca = new CertificateAuthority(dir, state, [first], now);
    await ca.publish();
    return ca;
  });
}

/** Loads every non-retired generation, reusing those already loaded (keys are slow to parse). */
async function loadTrusted(
  dir: string,
  state: CaState,
  loaded: readonly CaGeneration[] = [],
): Promise<CaGeneration[]> {
  const trusted = state.generations.filter((record) => record.status !== 'retired');
  return Promise.all(
    trusted.map(async (record) => {
      const known = loaded.find((generation) => generation.record.generation === record.generation);
      // The record must be the object inside `state`: publishing bumps its cRLNumbers in place.
      return known ? { ...known, record } : loadGeneration(dir, record, state.algorithm);
    }),
  );
}

/** A private CA with one or more generations of root + intermediate. See certs/README.md. */
export class CertificateAuthority {
  private queue: Promise<unknown> = Promise.resolve();

  /** @internal use {@link openCa}. */
  constructor(
    /** The CA folder. */
    readonly dir: string,
    private state: CaState,
    private generations: CaGeneration[],
    private readonly now: () => Date,
  ) {}

  /** Key algorithm of the CA's own keys. */
  get algorithm(): KeyAlgorithm {
    return this.state.algorithm;
  }

  /** SPIFFE trust domain. */
  get trustDomain(): string {
    return this.state.trustDomain;
  }

  /** Root and intermediate certificates of every trusted generation (for `ca` / `cacertfile`). */
  get trustBundlePath(): string {
    return join(this.dir, 'trust-bundle.pem');
  }

  /** Root certificates only, of every trusted generation. */
  get trustRootsPath(): string {
    return join(this.dir, 'trust-roots.pem');
  }

  /** The generation that issues new certificates. */
  get activeGeneration(): number {
    return this.active().record.generation;
  }

  /** Issues a TLS server certificate (EKU serverAuth, DNS and IP SANs). */
  issueServerCertificate(request: ServerCertificateRequest): Promise<IssuedCertificate> {
    return this.change(async () => {
      const dnsNames = request.dnsNames ?? [];
      const ipAddresses = request.ipAddresses ?? [];
      if (dnsNames.length + ipAddresses.length === 0) {
        throw badOption('dnsNames', 'a server certificate needs at least one DNS name or IP');
      }
      const subject = request.subject ?? {
        organization: 'Warren',
        commonName: dnsNames[0] ?? request.name,
      };
      return this.issue('server', request, {
        subject,
        sans: { dnsNames, ipAddresses, uris: [] },
        extendedKeyUsage: request.extendedKeyUsage ?? 'serverAuth',
      });
    });
  }

  /** Issues a client certificate for a workload (EKU clientAuth, DN, SPIFFE URI SAN). */
  issueClientCertificate(request: ClientCertificateRequest): Promise<IssuedCertificate> {
    return this.change(async () => {
      if (request.subject === undefined)
        throw badOption('subject', 'a subject with CN is required');
      const uris = [
        ...(request.spiffeId === undefined
          ? []
          : [spiffeIdUri(request.spiffeId, this.trustDomain)]),
        ...(request.uris ?? []),
      ];
      return this.issue('client', request, {
        subject: request.subject,
        sans: { dnsNames: request.dnsNames ?? [], ipAddresses: request.ipAddresses ?? [], uris },
        extendedKeyUsage: request.extendedKeyUsage ?? 'clientAuth',
      });
    });
  }

  /** The current certificate issued under `name`, or undefined. */
  find(name: string): Promise<IssuedCertificate | undefined> {
    return this.serialize(async () => {
      await this.reload();
      const record = this.state.issued.find((entry) => entry.name === name && entry.current);
      if (!record) return undefined;
      const paths = issuedPaths(this.dir, name);
      const certificate = new x509.X509Certificate(await readFile(paths.certPath, 'utf8'));
      return describeIssued(certificate, record, paths, this.trustBundlePath);
    });
  }

  /**
   * Revokes a certificate by name (its current certificate) or by serial (hex, any case; a leaf
   * or an intermediate), then rewrites the CRLs of every CA level. Revoking twice is harmless.
   */
  revoke(nameOrSerial: string, reason: RevocationReason = 'unspecified'): Promise<void> {
    return this.change(async () => {
      const at = this.now().toISOString();
      const serial = nameOrSerial.toLowerCase().replace(/:/g, '');
      const leaf =
        this.state.issued.find((entry) => entry.name === nameOrSerial && entry.current) ??
        this.state.issued.find((entry) => entry.serialHex === serial);
      const generation = this.state.generations.find(
        (entry) => entry.intermediateSerialHex === serial,
      );
      if (leaf) {
        leaf.revoked ??= { at, reason };
      } else if (generation) {
        generation.intermediateRevoked ??= { at, reason };
      } else {
        throw badOption('nameOrSerial', `no certificate named or with serial "${nameOrSerial}"`);
      }
      await this.publish();
    });
  }

  /** Paths of the CRL files (rewritten by revoke, rotate, retire and refreshCrls). */
  crlPaths(): CrlPaths {
    const paths = generationPaths(this.dir, this.activeGeneration);
    return {
      root: paths.rootCrl,
      intermediate: paths.intermediateCrl,
      bundle: join(this.dir, 'crl', 'bundle.pem'),
      files: this.generations.flatMap((generation) => {
        const files = generationPaths(this.dir, generation.record.generation);
        return [files.rootCrl, files.intermediateCrl];
      }),
      hashedDir: join(this.dir, 'crl', 'hashed'),
    };
  }

  /**
   * Options for `tls.createServer` / `tls.connect` presenting `cert` and trusting this CA:
   * key, chain, trust bundle and (with `withCrls`) one CRL per CA level of every trusted
   * generation, as Node needs them. Reads the files now; call again after revoke or rotate.
   */
  async nodeTlsOptions(
    cert: Pick<IssuedCertificate, 'keyPath' | 'chainPath'>,
    options: { withCrls?: boolean } = {},
  ): Promise<{ key: string; cert: string; ca: string; crl?: string[] }> {
    const [key, chain, trust] = await Promise.all(
      [cert.keyPath, cert.chainPath, this.trustBundlePath].map((path) => readFile(path, 'utf8')),
    );
    const base = { key: key ?? '', cert: chain ?? '', ca: trust ?? '' };
    if (!options.withCrls) return base;
    const crl = await Promise.all(this.crlPaths().files.map((path) => readFile(path, 'utf8')));
    return { ...base, crl };
  }

  /** Re-signs every CRL with a fresh thisUpdate/nextUpdate (they expire after 30 days). */
  refreshCrls(): Promise<void> {
    return this.change(() => this.publish());
  }

  /**
   * Starts a new generation (root + intermediate) that issues from now on; the previous ones
   * stay trusted (in the bundle) until retired. Returns the new generation number.
   */
  rotate(): Promise<number> {
    return this.change(async () => {
      const generation = Math.max(...this.state.generations.map((g) => g.generation)) + 1;
      const created = await createGeneration({
        dir: this.dir,
        generation,
        algorithm: this.algorithm,
        trustDomain: this.trustDomain,
        now: this.now(),
      });
      for (const record of this.state.generations) {
        if (record.status === 'active') record.status = 'trusted';
      }
      this.state.generations.push(created.record);
      this.generations.push(created);
      await this.publish();
      return generation;
    });
  }

  /** Removes a generation from the trust bundle and CRLs. The active generation cannot retire. */
  retire(generation: number): Promise<void> {
    return this.change(async () => {
      const record = this.state.generations.find((entry) => entry.generation === generation);
      if (!record) throw badOption('generation', `no CA generation ${generation}`);
      if (record.status === 'active') {
        throw badOption('generation', `generation ${generation} is active; rotate first`);
      }
      record.status = 'retired';
      this.generations = this.generations.filter((g) => g.record.generation !== generation);
      await this.publish();
    });
  }

  /** Every certificate of this CA: each generation's root and intermediate, then leaves in issue order. */
  inventory(): Promise<InventoryEntry[]> {
    return this.serialize(async () => {
      await this.reload();
      return buildInventory(this.dir, this.state, this.now());
    });
  }

  private async issue(
    kind: IssuedRecord['kind'],
    request: ValidityOptions & { name: string },
    profile: {
      subject: SubjectFields;
      sans: { dnsNames: string[]; ipAddresses: string[]; uris: string[] };
      extendedKeyUsage: ExtendedKeyUsageChoice;
    },
  ): Promise<IssuedCertificate> {
    checkCertificateName(request.name);
    checkSanValues(profile.sans.dnsNames, profile.sans.ipAddresses, profile.sans.uris);
    const subjectName = buildSubjectName(profile.subject);
    const { notBefore, notAfter } = this.validityWindow(kind, request);
    const keyAlgorithm = request.keyAlgorithm ?? this.algorithm;
    if (!keyAlgorithms.includes(keyAlgorithm)) {
      throw badOption('keyAlgorithm', `must be one of ${keyAlgorithms.join(', ')}`);
    }

    const issuer = this.active();
    const keys = await generateKeyPair(keyAlgorithm);
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: newSerialHex(),
      subject: subjectName,
      issuer: issuer.intermediate.certificate.subjectName,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: issuer.intermediate.key,
      signingAlgorithm: signingParams(this.algorithm),
      extensions: await leafExtensions({
        subjectKey: keys.publicKey,
        issuerKeyId: issuer.intermediate.keyId,
        algorithm: keyAlgorithm,
        extendedKeyUsage: profile.extendedKeyUsage,
        sans: profile.sans,
      }),
    });

    const paths = issuedPaths(this.dir, request.name);
    const leafPem = certificatePem(certificate);
    await writeFileAtomic(paths.keyPath, await privateKeyToPem(keys.privateKey), 0o600);
    await writeFileAtomic(paths.certPath, leafPem, 0o644);
    await writeFileAtomic(
      paths.chainPath,
      leafPem + certificatePem(issuer.intermediate.certificate),
      0o644,
    );
    await writeFileAtomic(paths.archivePath(certificate.serialNumber), leafPem, 0o644);

    const record = this.recordIssued(kind, request.name, certificate, issuer.record, notBefore);
    await writeState(this.dir, this.state);
    return describeIssued(certificate, record, paths, this.trustBundlePath);
  }

  private recordIssued(
    kind: IssuedRecord['kind'],
    name: string,
    certificate: x509.X509Certificate,
    generation: GenerationRecord,
    notBefore: Date,
  ): IssuedRecord {
    const now = this.now();
    for (const entry of this.state.issued) {
      if (entry.name === name) entry.current = false;
    }
    const record: IssuedRecord = {
      name,
      serialHex: certificate.serialNumber,
      kind,
      generation: generation.generation,
      issuedAt: now.toISOString(),
      current: true,
      deliberatelyInvalid: certificate.notAfter <= now || notBefore > now,
    };
    this.state.issued.push(record);
    return record;
  }

  private validityWindow(
    kind: IssuedRecord['kind'],
    request: ValidityOptions,
  ): { notBefore: Date; notAfter: Date } {
    const days = request.validityDays ?? defaultValidityDays[kind];
    if (!Number.isFinite(days) || days <= 0) {
      throw badOption('validityDays', 'must be a positive number of days');
    }
    const notBefore = request.notBefore ?? new Date(this.now().getTime() - clockSkewMs);
    const notAfter = request.notAfter ?? addDays(notBefore, days);
    if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
      throw badOption('notBefore/notAfter', 'must be valid dates');
    }
    if (notAfter <= notBefore) throw badOption('notAfter', 'must be later than notBefore');
    return { notBefore, notAfter };
  }

  private active(): CaGeneration {
    const active = this.generations.find((g) => g.record.status === 'active');
    if (!active) throw new WarrenError(ErrorCode.CaState, `no active generation in ${this.dir}`);
    return active;
  }

  /** @internal Rewrites state, trust bundles, every CRL and the hashed CRL folder. */
  async publish(): Promise<void> {
    await publishTrust({
      dir: this.dir,
      state: this.state,
      generations: this.generations,
      crl: this.crlPaths(),
      trustBundlePath: this.trustBundlePath,
      trustRootsPath: this.trustRootsPath,
      now: this.now(),
    });
  }

  /**
   * Runs a change under the folder lock on the freshest state, so changes made meanwhile by
   * another process (or another CertificateAuthority on the same folder) are kept.
   */
  private change<T>(operation: () => Promise<T>): Promise<T> {
    return this.serialize(() =>
      withDirLock(this.dir, async () => {
        await this.reload();
        return operation();
      }),
    );
  }

  /** Re-reads ca.json and loads any generation created elsewhere since. */
  private async reload(): Promise<void> {
    const fresh = await readState(this.dir);
    if (!fresh) {
      throw new WarrenError(ErrorCode.CaState, `${this.dir}/ca.json disappeared; run init again`);
    }
    this.generations = await loadTrusted(this.dir, fresh, this.generations);
    this.state = fresh;
  }

  /** Runs calls of this object one after another, so they never interleave state changes. */
  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation, operation);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
