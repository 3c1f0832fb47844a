/**
 * `topic` path: a routing key on a topic exchange (`name` is the exchange). Asked on publish
 * (write) and on binding (read, with the binding key). `variable_map.*` fields are ignored: the
 * policy's placeholders come from the login, not from what the broker echoes.
 */
import { ReasonCode } from '../decision.js';
import type { ResourceRequest } from '../decide.js';
import { pick, type PathSpec } from './path.js';
import { toResourceRequest } from './resource.js';

export const topicPath: PathSpec<ResourceRequest> = {
  path: 'topic',
  required: ['username', 'vhost', 'resource', 'name', 'permission', 'routing_key'],
  // Publishing with an empty routing key is legal AMQP; the policy decides on it like any other.
  mayBeEmpty: ['routing_key'],
  toRequest(values) {
    const request = toResourceRequest(values);
    if ('reason' in request) return request;
    if (request.resource !== 'topic')
      return { reason: ReasonCode.MalformedRequest, field: 'resource' };
    return { ...request, routingKey: values.get('routing_key') as string };
  },
  decide: (core, request) => core.access(request),
  loggable: (values) =>
    pick(values, ['username', 'vhost', 'resource', 'name', 'permission', 'routing_key', 'tags']),
};
