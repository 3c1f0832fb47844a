import { ErrorCode, WarrenError } from '../../lib/errors.js';
import type { NodeHandle } from './ctl.js';
import { runCtl } from './ctl.js';

/** One client connection as the node lists it. */
export interface BrokerConnection {
  /** Erlang PID of the connection process; what {@link closeConnections} needs. */
  pid: string;
  user: string;
  vhost: string;
  /** 'PLAIN', 'EXTERNAL', … */
  authMechanism: string;
  /** Subject of the client certificate on TLS connections, '' otherwise. */
  peerCertSubject: string;
  /** 'tlsv1.3', 'tlsv1.2', or '' for plain TCP. */
  sslProtocol: string;
}

const columns = ['pid', 'user', 'vhost', 'auth_mechanism', 'peer_cert_subject', 'ssl_protocol'];

/**
 * The node's client connections, via rabbitmqctl (Erlang distribution with the cookie), so it
 * works whatever the auth backend answers, unlike the management API.
 */
export async function listConnections(node: NodeHandle): Promise<BrokerConnection[]> {
  // Tab-separated rather than --formatter json: the JSON formatter prints PIDs as
  // `#PID<…>`, which close_connection does not accept; the table prints `<node.N.M.K>`.
  const result = await runCtl(node, [
    'list_connections',
    ...columns,
    '--no-table-headers',
    '--quiet',
  ]);
  if (result.code !== 0) throw ctlFailure('list_connections', result.stderr);
  return result.stdout
    .split('\n')
    .filter((line) => line.startsWith('<'))
    .map((line) => {
      const [pid = '', user = '', vhost = '', mechanism = '', subject = '', ssl = ''] =
        line.split('\t');
      return {
        pid,
        user,
        vhost,
        authMechanism: mechanism,
        peerCertSubject: subject,
        sslProtocol: ssl,
      };
    });
}

/**
 * Closes the connections of `user` (every connection when omitted); clients receive
 * 320 CONNECTION_FORCED with `reason`. The broker never expires connections authenticated
 * through the HTTP backend itself (RABBITMQ.md section 3), so drills evict with this.
 * Returns how many were closed.
 */
export async function closeConnections(
  node: NodeHandle,
  selection: { user?: string; reason: string },
): Promise<number> {
  const targets = (await listConnections(node)).filter(
    (connection) => selection.user === undefined || connection.user === selection.user,
  );
  for (const connection of targets) {
    const result = await runCtl(node, ['close_connection', connection.pid, selection.reason]);
    if (result.code !== 0) throw ctlFailure('close_connection', result.stderr);
  }
  return targets.length;
}

function ctlFailure(command: string, stderr: string): WarrenError {
  const tail = stderr.trim().split('\n').slice(-3).join(' ');
  return new WarrenError(ErrorCode.Broker, `rabbitmqctl ${command} failed: ${tail}`);
}
