/**
 * Real local RabbitMQ brokers (3.10 on the host, 4.0 in a debootstrap root) with the HTTP auth
 * backend and a mutual-TLS listener. See harness/broker/README.md.
 */
export type { BootTimes } from './boot-bench.js';
export { measureBootTimes } from './boot-bench.js';
export type { BrokerConnection } from './connections.js';
export { closeConnections, listConnections } from './connections.js';
export type {
  BrokerEndpoints,
  BrokerFiles,
  ConfigureContext,
  ConfiguredBroker,
} from './configure.js';
export { configureBroker, isPortFree } from './configure.js';
export type { NodeHandle } from './ctl.js';
export { runCtl } from './ctl.js';
export type { InstallResult, ProgressLog } from './install.js';
export { installBroker, missingHostPackages } from './install.js';
export type { BrokerListing, RunningBroker, StopResult } from './lifecycle.js';
export {
  brokerLogTail,
  defaultInstanceOf,
  launchBroker,
  listBrokers,
  purgeBroker,
  refreshBrokerCrls,
  startBroker,
  stopBroker,
} from './lifecycle.js';
export type {
  BackendHttpMethod,
  BackendPaths,
  BrokerOptions,
  CacheOptions,
  CertLoginFrom,
  InternalUser,
  ResolvedBrokerOptions,
} from './options.js';
export { brokerDefaults, resolveBrokerOptions } from './options.js';
export { rootfsStatus } from './rootfs.js';
export type { BrokerTlsFiles } from './tls-material.js';
export type { BrokerPorts, BrokerVersion } from './versions.js';
export { brokerVersions, isBrokerVersion, portsForSlot } from './versions.js';
