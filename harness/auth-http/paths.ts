/**
 * Where a broker asks its HTTP auth backend: one URL per decision path. Warren's default is
 * `/auth/<path>` everywhere (local brokers, Amazon MQ configuration, conformance profiles, load
 * targets), and reference-auth answers there as well as on `/<path>`.
 */
import { z } from 'zod';

export type BackendPaths = Readonly<Record<'user' | 'vhost' | 'resource' | 'topic', string>>;

export const defaultBackendPaths: BackendPaths = Object.freeze({
  user: '/auth/user',
  vhost: '/auth/vhost',
  resource: '/auth/resource',
  topic: '/auth/topic',
});

/** Schema for a `paths` object in Warren's YAML files: each path optional, defaults as above. */
export const backendPathsSchema = z
  .strictObject({
    user: z.string().default(defaultBackendPaths.user),
    vhost: z.string().default(defaultBackendPaths.vhost),
    resource: z.string().default(defaultBackendPaths.resource),
    topic: z.string().default(defaultBackendPaths.topic),
  })
  .default({ ...defaultBackendPaths });
