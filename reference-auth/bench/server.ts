/**
 * Benchmark child process: runs the composed service (startReferenceAuth) on an ephemeral
 * loopback port and reports the address to the parent over IPC. Its stdout (one decision log
 * line per request, as in production) goes wherever the parent points it.
 * Arguments: JWKS_URL [AUDIT_FILE|-] [LOG_LEVEL]
 */
import { resolveConfig, type ConfigOverride } from '../config.js';
import { startReferenceAuth } from '../ops/service.js';

const [jwksUrl, auditFile = '-', logLevel = 'info'] = process.argv.slice(2);

const config = resolveConfig({
  flags: {
    listen: { host: '127.0.0.1', port: 0 },
    watchPolicy: false,
    jwt: { jwksUrl },
    admin: { enabled: false },
    audit: { file: auditFile === '-' ? '' : auditFile },
    metrics: { processMetrics: false },
    log: { level: logLevel },
  } as ConfigOverride,
  env: process.env,
});
const running = await startReferenceAuth(config);
process.send?.({ address: running.decisionAddress });
process.on('message', (message) => {
  if (message === 'stop') void running.close().then(() => process.disconnect());
});
