/** Recording HTTP auth backends: a rule-driven backend and a forwarding proxy (spy mode). */
export type { ProxyOptions } from './recording-proxy.js';
export { startRecordingProxy } from './recording-proxy.js';
export type {
  BackendReply,
  ListenOptions,
  RecordedCall,
  Recorder,
  ReplyRule,
} from './recording-server.js';
export { describeCall, startRecordingBackend } from './recording-server.js';
