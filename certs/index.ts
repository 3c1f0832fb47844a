/**
 * Warren's private CA: root and intermediate generations, server and workload client
 * certificates, CRLs for every CA level, rotation and inventory. See certs/README.md.
 */
export type {
  ClientCertificateRequest,
  CrlPaths,
  OpenCaOptions,
  ServerCertificateRequest,
  ValidityOptions,
} from './requests.js';
export { CertificateAuthority, openCa } from './ca.js';
export type { ExtendedKeyUsageChoice } from './extensions.js';
export type { ExpiryReport, ExpiryThresholds, InventoryEntry } from './inventory.js';
export { evaluateInventory } from './inventory.js';
export type { IssuedCertificate, SanList } from './issued.js';
export type { KeyAlgorithm } from './keys.js';
export type { SpiffeIdParts, SubjectFields } from './names.js';
export type { RevocationReason } from './state.js';
export type { BrokerLoginSource, CertificateInput } from './username.js';
export { escapeDnValue, expectedBrokerUsername, formatReversedDn } from './username.js';
