import type { ExtendedKeyUsageChoice } from './extensions.js';
import type { KeyAlgorithm } from './keys.js';
import type { SpiffeIdParts, SubjectFields } from './names.js';

/** Options of {@link openCa}. */
export interface OpenCaOptions {
  /** Folder holding the CA state. Default `stateDir('ca')` (`.warren/ca`). */
  dir?: string;
  /** Key algorithm of the CA, used only when the CA is created. Default `ecdsa-p256`. */
  algorithm?: KeyAlgorithm;
  /** SPIFFE trust domain of issued SPIFFE IDs, used only at creation. Default `warren.test`. */
  trustDomain?: string;
  /** Clock, injectable for tests. Default `() => new Date()`. */
  now?: () => Date;
}

/** Validity window of a leaf: either `validityDays` from now or explicit dates. */
export interface ValidityOptions {
  /** Lifetime in days from now (server default 365, client default 90). */
  validityDays?: number;
  /** Start of validity. Default: now minus 5 minutes (clock skew between hosts). */
  notBefore?: Date;
  /** End of validity. Default: notBefore + validityDays. Past dates issue an expired cert. */
  notAfter?: Date;
  /** Key algorithm of the new key. Default: the CA's algorithm. */
  keyAlgorithm?: KeyAlgorithm;
}

/** Request for a TLS server certificate (brokers, the reference auth service). */
export interface ServerCertificateRequest extends ValidityOptions {
  /** File name of the certificate under `<dir>/issued/`; issuing it again replaces it. */
  name: string;
  /** DNS SANs; the first is also the CN. At least one DNS name or IP address is required. */
  dnsNames?: string[];
  /** IP SANs (IPv4 or IPv6). */
  ipAddresses?: string[];
  /** Subject; default `O=Warren, CN=<first DNS name or name>`. */
  subject?: SubjectFields;
  /** EKU. Default `serverAuth`; `clientAuth` or `none` give wrong-EKU certs for negative tests. */
  extendedKeyUsage?: ExtendedKeyUsageChoice;
}

/** Request for a client certificate carrying a workload identity. */
export interface ClientCertificateRequest extends ValidityOptions {
  /** File name of the certificate under `<dir>/issued/`; issuing it again replaces it. */
  name: string;
  /** Subject DN fields (CN required). */
  subject: SubjectFields;
  /** SPIFFE ID written as a URI SAN: parts (trust domain added) or a full `spiffe://` URI. */
  spiffeId?: SpiffeIdParts | string;
  /** Other URI SANs, after the SPIFFE ID. */
  uris?: string[];
  /** DNS SANs. */
  dnsNames?: string[];
  /** IP SANs. */
  ipAddresses?: string[];
  /** EKU. Default `clientAuth`; `serverAuth` or `none` give wrong-EKU certs for negative tests. */
  extendedKeyUsage?: ExtendedKeyUsageChoice;
}

/** Files of the CRLs, for brokers and TLS servers. */
export interface CrlPaths {
  /** CRL of the active generation's root (lists revoked intermediates). */
  root: string;
  /** CRL of the active generation's intermediate (lists revoked leaves). */
  intermediate: string;
  /** Every CRL of every trusted generation, concatenated: `openssl verify -CRLfile`. */
  bundle: string;
  /**
   * The same CRLs one file each. Node's TLS `crl` option reads only the first CRL of a PEM
   * string, so pass it an array of these (see `CertificateAuthority.nodeTlsOptions`).
   */
  files: string[];
  /** `<hash>.r<n>` folder for `openssl -CRLpath` and Erlang's `ssl_crl_hash_dir`. */
  hashedDir: string;
}
