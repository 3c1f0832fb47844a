/**
 * What differs between the two RabbitMQ versions Warren runs locally: where the package comes
 * from, how the node is launched and which ports it listens on by default.
 */

/** The RabbitMQ versions Warren can run locally. */
export const brokerVersions = ['3.10', '4.0'] as const;

/** A RabbitMQ version Warren can run locally. */
export type BrokerVersion = (typeof brokerVersions)[number];

/** Ports of one broker instance. All listen on 127.0.0.1 only. */
export interface BrokerPorts {
  /** AMQP 0-9-1 over TCP. */
  amqp: number;
  /** AMQP 0-9-1 over mutual TLS. */
  amqps: number;
  /** Management HTTP API and UI. */
  management: number;
  /** Erlang distribution port of the node (rabbitmqctl talks to it). */
  distribution: number;
  /** The instance's own epmd (Erlang port mapper daemon). */
  epmd: number;
}

/** How one version is installed and launched. */
export interface VersionProfile {
  version: BrokerVersion;
  /** Debian release the package comes from. */
  debianSuite: 'bookworm' | 'trixie';
  /** True when the node runs inside a debootstrap root (chroot) rather than on the host. */
  chrooted: boolean;
  /** Ports of the version's default instance (slot 0). */
  basePorts: BrokerPorts;
}

/**
 * Stable default ports per version. They avoid the machine default node (5672, 15672, 25672, epmd
 * 4369) and rabbitmqctl's own distribution range 35672–35682: a node port inside that range dies
 * with `eaddrinuse` (RABBITMQ.md section 6).
 */
const profiles: Readonly<Record<BrokerVersion, VersionProfile>> = Object.freeze({
  '3.10': {
    version: '3.10',
    debianSuite: 'bookworm',
    chrooted: false,
    basePorts: { amqp: 5710, amqps: 5711, management: 15710, distribution: 25710, epmd: 4371 },
  },
  '4.0': {
    version: '4.0',
    debianSuite: 'trixie',
    chrooted: true,
    basePorts: { amqp: 5740, amqps: 5741, management: 15740, distribution: 25740, epmd: 4372 },
  },
});

/** Instance slots per version: slot 0 is the default instance, 1–9 are named extra instances. */
export const slotsPerVersion = 10;

/** The launch profile of a version. */
export function versionProfile(version: BrokerVersion): VersionProfile {
  return profiles[version];
}

/** True when `value` names a supported version. */
export function isBrokerVersion(value: string): value is BrokerVersion {
  return (brokerVersions as readonly string[]).includes(value);
}

/**
 * Ports of the instance in `slot`. AMQP and AMQPS come in pairs (base + 2·slot), so slots of one
 * version never overlap each other nor the other version's range; epmd ports interleave
 * (3.10 odd, 4.0 even).
 */
export function portsForSlot(version: BrokerVersion, slot: number): BrokerPorts {
  const base = profiles[version].basePorts;
  return {
    amqp: base.amqp + 2 * slot,
    amqps: base.amqps + 2 * slot,
    management: base.management + slot,
    distribution: base.distribution + slot,
    epmd: base.epmd + 2 * slot,
  };
}
