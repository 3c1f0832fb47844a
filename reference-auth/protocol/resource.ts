/**
 * `resource` path: configure/write/read on an exchange or queue (the default exchange arrives as
 * `amq.default`). Unknown resource kinds or permissions are malformed, never guessed.
 */
import { ReasonCode } from '../decision.js';
import type { ResourceRequest } from '../decide.js';
import { permissions, resourceKinds } from '../policy/schema.js';
import { oneOf, pick, type FieldProblem, type PathSpec } from './path.js';

/** Fields shared by the resource and topic paths. */
export function toResourceRequest(
  values: ReadonlyMap<string, string>,
): ResourceRequest | FieldProblem {
  const resource = values.get('resource') as string;
  const permission = values.get('permission') as string;
  if (!oneOf(resource, resourceKinds))
    return { reason: ReasonCode.MalformedRequest, field: 'resource' };
  if (!oneOf(permission, permissions))
    return { reason: ReasonCode.MalformedRequest, field: 'permission' };
  return {
    username: values.get('username') as string,
    vhost: values.get('vhost') as string,
    resource,
    name: values.get('name') as string,
    permission,
  };
}

export const resourcePath: PathSpec<ResourceRequest> = {
  path: 'resource',
  required: ['username', 'vhost', 'resource', 'name', 'permission'],
  toRequest: toResourceRequest,
  decide: (core, request) => core.access(request),
  loggable: (values) =>
    pick(values, ['username', 'vhost', 'resource', 'name', 'permission', 'tags']),
};
