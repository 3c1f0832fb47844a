/** Chaos drills: public API used by scripts/chaos.ts and scripts/amazon-mq.ts. */
export {
  applyConfiguration,
  createMqClient,
  rebootBroker,
  type ApplyResult,
  type MqClientOptions,
} from './amazon-mq/apply.js';
export { generateAmazonMqConfig, type AmazonMqConfigOptions } from './amazon-mq/config.js';
export { startMqStandIn, type MqStandIn, type MqStandInOptions } from './amazon-mq/standin.js';
export { builtInDrillDir, listBuiltInDrills, resolveDrillFile } from './catalog.js';
export type { RunContext } from './context.js';
export { FaultProxy, type FaultProxyOptions, type FaultProxyStats } from './faults/proxy.js';
export { ManagedProcess, type ManagedProcessOptions } from './faults/process.js';
export { exitCodeFor, type Journal, type StepRecord } from './journal.js';
export { loadDrill, validateDrill, type LoadedDrill } from './load.js';
export { defineDrill, type Drill, type Fault } from './model.js';
export { writeReports, type WrittenReports } from './report/write.js';
export { runDrill, type RunOptions } from './runner.js';
export { loadTarget } from './targets/load.js';
export { localTarget, type LocalTargetOptions } from './targets/local.js';
export { assertNonProduction, type Target, type StartedTarget } from './targets/target.js';
