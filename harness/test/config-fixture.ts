/**
 * Renders a broker's generated configuration without touching disk or a CA: the fast
 * configuration tests read what `configureBroker` would write for given options.
 */
import type { BrokerOptions } from '../broker/index.js';
import { portsForSlot, resolveBrokerOptions } from '../broker/index.js';
import { renderAdvancedConfig, renderRabbitmqConf } from '../broker/config-files.js';

const paths = {
  caBundle: '/b/tls/ca-bundle.pem',
  serverChain: '/b/tls/server-chain.pem',
  serverKey: '/b/tls/server-key.pem',
  crlDir: '/b/crl',
  definitions: '/b/definitions.json',
};

/** `rabbitmq.conf` and `advanced.config` text for `options`, with slot-0 ports. */
export function renderBrokerConfig(options: BrokerOptions): { conf: string; advanced: string } {
  const resolved = resolveBrokerOptions(options);
  const input = { options: resolved, ports: portsForSlot(resolved.version, 0), paths };
  return { conf: renderRabbitmqConf(input), advanced: renderAdvancedConfig(input) };
}
