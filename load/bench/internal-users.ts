/**
 * The storm's users in a broker's internal database, for the `internal` row of
 * compare-auth-paths: one random password per user and per run, handed to the run as its
 * credentials and to the broker only as RabbitMQ's salted hash.
 */
import { randomBytes } from 'node:crypto';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { hashInternalPassword } from '../../harness/broker/config-files.js';
import { runCtl, type RunningBroker } from '../../harness/broker/index.js';
import { ErrorCode, WarrenError } from '../../lib/errors.js';
import { loadUsername } from '../targets/auth-http.js';
import type { AmqpConnectTargetSpec, TargetSecrets } from '../targets/spec.js';

const passwordBytes = 24;
const importFileName = 'load-internal-users.json';

/**
 * Creates `spec.users` internal users (the names the target logs in with) with full permissions
 * on the target's vhost, through one `rabbitmqctl import_definitions`. One CLI call instead of an
 * `add_user` + `set_permissions` pair per user (each call boots an Erlang VM, about a second
 * here), and the file holds hashes only, where `add_user NAME PASSWORD` would put every password
 * on a command line that `ps` shows. The file (0600, inside the instance folder so a chrooted
 * node can read it) is removed right after. Returns the passwords as the run's credentials.
 */
export async function createInternalLoadUsers(
  broker: RunningBroker,
  spec: AmqpConnectTargetSpec,
): Promise<TargetSecrets> {
  const vhost = spec.vhost ?? spec.tenant;
  const passwords = Array.from({ length: spec.users }, () =>
    randomBytes(passwordBytes).toString('base64url'),
  );
  const users = passwords.map((password, n) => ({
    name: loadUsername(spec, n),
    password_hash: hashInternalPassword(password),
    hashing_algorithm: 'rabbit_password_hashing_sha256',
    tags: [],
  }));
  const permissions = users.map((user) => ({
    user: user.name,
    vhost,
    configure: '.*',
    write: '.*',
    read: '.*',
  }));
  const hostFile = join(broker.layout.hostDir, importFileName);
  await writeFile(hostFile, `${JSON.stringify({ users, permissions })}\n`, { mode: 0o600 });
  await chmod(hostFile, 0o600);
  try {
    const result = await runCtl(broker.node, [
      'import_definitions',
      join(broker.layout.brokerDir, importFileName),
    ]);
    if (result.code !== 0) {
      throw new WarrenError(
        ErrorCode.Broker,
        `rabbitmqctl import_definitions of ${users.length} load users failed ` +
          `(exit ${String(result.code)}): ${result.stderr.slice(-600) || result.stdout.slice(-600)}`,
      );
    }
  } finally {
    await rm(hostFile, { force: true });
  }
  return { tokens: { valid: passwords, invalid: [], expired: [] } };
}
