/**
 * The policy file's shape, checked with zod. Cross-field rules (known classes, known tenants,
 * placeholders) are checked in load.ts so their errors can point at the offending line too.
 */
import { z } from 'zod';

/** Tags the broker may receive: a fixed set, because each tag becomes a permanent broker atom. */
export const allowedTags = ['management', 'monitoring', 'policymaker', 'administrator'] as const;
export type Tag = (typeof allowedTags)[number];

export const permissions = ['configure', 'write', 'read'] as const;
export type Permission = (typeof permissions)[number];

export const resourceKinds = ['exchange', 'queue', 'topic'] as const;
export type ResourceKind = (typeof resourceKinds)[number];

const name = z.string().min(1).max(255);
const pattern = z.string().min(1).max(512);

const grant = z.strictObject({
  description: z.string().optional(),
  /** vhost pattern; defaults to the caller's tenant vhost. */
  vhost: pattern.default('{tenant}'),
  resource: z.enum(resourceKinds),
  name: pattern,
  permissions: z.array(z.enum(permissions)).min(1),
  /** Required for `resource: topic`, forbidden otherwise. */
  routingKeys: z.array(pattern).min(1).optional(),
});

const denyRule = z.strictObject({
  description: z.string().optional(),
  /** Only for these classes; all classes when absent. */
  classes: z.array(name).optional(),
  vhost: pattern.default('#'),
  resource: z.enum(resourceKinds).optional(),
  name: pattern.default('#'),
  permissions: z
    .array(z.enum(permissions))
    .min(1)
    .default([...permissions]),
  routingKeys: z.array(pattern).min(1).optional(),
});

const workloadClass = z.strictObject({
  description: z.string().optional(),
  vhosts: z.array(pattern).default(['{tenant}']),
  /** Management tags this class receives on login: the only way a login gets tags. */
  tags: z.array(z.enum(allowedTags)).default([]),
  grants: z.array(grant).default([]),
  deny: z.array(denyRule).default([]),
});

const certificateEntry = z.strictObject({
  /** The username the broker sends for this certificate (URI SAN, reversed DN or CN). */
  id: z.string().min(1).max(1024),
  class: name,
  /** Required unless the id is a SPIFFE ID (tenant = namespace) or contains `{tenant}`. */
  tenant: name.optional(),
});

const staticUser = z.strictObject({
  username: name,
  /** `scrypt$N$r$p$<salt base64>$<hash base64>` (see identity/static-users.ts). */
  passwordHash: z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/),
  /**
   * The tenant whose vhost confines the user. Omitted: an operator account of no tenant (e.g.
   * the eviction operator): it reaches no vhost and no tenant kill switch covers it.
   */
  tenant: name.optional(),
  class: name,
});

/** The whole policy document (optionally carrying the service's `service:` config block). */
export const policySchema = z.strictObject({
  version: z.literal(1),
  tenants: z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/)).min(1),
  classes: z.record(name, workloadClass),
  deny: z.array(denyRule).default([]),
  identities: z.strictObject({
    jwt: z
      .strictObject({
        tenantClaim: name,
        classClaim: name,
        classes: z.array(name).min(1),
      })
      .optional(),
    certificates: z
      .strictObject({
        trustDomain: z.string().regex(/^[a-z0-9.-]+$/),
        entries: z.array(certificateEntry).default([]),
      })
      .optional(),
    staticUsers: z.array(staticUser).default([]),
  }),
  /** Service configuration overrides (read at start only; see config.ts). */
  service: z.record(z.string(), z.unknown()).optional(),
});

export type PolicyDocument = z.infer<typeof policySchema>;
export type GrantSpec = z.infer<typeof grant>;
export type DenySpec = z.infer<typeof denyRule>;
export type ClassSpec = z.infer<typeof workloadClass>;
export type CertificateEntrySpec = z.infer<typeof certificateEntry>;
export type StaticUserSpec = z.infer<typeof staticUser>;
