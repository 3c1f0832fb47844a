/**
 * `npm run reference-auth [-- --config FILE] [-- --listen HOST:PORT]`: runs the reference auth
 * service. Without --config it serves the embedded demo policy on 127.0.0.1:8600.
 * --config FILE is the policy file; its optional `service:` block overrides configuration
 * (precedence: flag > file > WARREN_AUTH_* environment > default).
 */
import { parseArgs } from 'node:util';
import { parseListen, resolveConfig, type ConfigOverride } from '../reference-auth/config.js';
import { AuthServiceError } from '../reference-auth/errors.js';
import { readPolicyFile } from '../reference-auth/policy/load.js';
import { startReferenceAuth } from '../reference-auth/ops/service.js';

const usage = `usage: npm run reference-auth -- [--config FILE] [--listen HOST:PORT] [--log-level LEVEL]
  --config FILE       policy YAML (with optional service: block); default: embedded demo policy
  --listen HOST:PORT  decision listener; default 127.0.0.1:8600
  --log-level LEVEL   fatal|error|warn|info|debug|trace|silent; default info`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      listen: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const flags: Record<string, unknown> = {};
  if (values.listen !== undefined) flags.listen = parseListen(values.listen);
  if (values.config !== undefined) flags.policyFile = values.config;
  if (values['log-level'] !== undefined) flags.log = { level: values['log-level'] };

  const policy = values.config === undefined ? undefined : await readPolicyFile(values.config);
  const config = resolveConfig({
    flags: flags as ConfigOverride,
    ...(policy?.document.service ? { file: policy.document.service as ConfigOverride } : {}),
    env: process.env,
  });
  // The whole service: decision core plus metrics, audit, guard, admin API (reference-auth/ops).
  const running = await startReferenceAuth(config, { deps: policy ? { policy } : {} });
  running.logger.info(
    {
      policyVersion: running.service.policy().version,
      policySource: running.service.policy().source,
    },
    'policy in force',
  );

  const stop = (signal: string): void => {
    running.logger.info({ signal }, 'stopping');
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (
      error instanceof AuthServiceError ||
      (error instanceof Error && error.name === 'TypeError')
    ) {
      console.error(`reference-auth: ${error.message}`);
    } else {
      console.error('reference-auth: failed to start:', error);
    }
    console.error(usage);
    process.exit(2);
  },
);
