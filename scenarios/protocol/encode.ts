/**
 * The broker's requests per path (RABBITMQ.md section 1), as ordered parameters; the byte-exact
 * encoding itself lives in harness/auth-http/encoding.ts, shared with the load runner.
 */
import type { FormFields } from '../../harness/auth-http/encoding.js';
import type { BackendPath } from '../model.js';

/** What a decision request carries, before encoding. */
export type DecisionRequest =
  | { path: 'user'; username: string; password?: string; extra?: Record<string, string> }
  | { path: 'vhost'; username: string; vhost: string; ip: string; tags: string[] }
  | {
      path: 'resource';
      username: string;
      vhost: string;
      resource: 'exchange' | 'queue' | 'topic';
      name: string;
      permission: 'configure' | 'write' | 'read';
      tags: string[];
    }
  | {
      path: 'topic';
      username: string;
      vhost: string;
      name: string;
      permission: 'write' | 'read';
      routingKey: string;
      variableMap: Record<string, string>;
      tags: string[];
    };

/**
 * The parameters the broker sends for a request, in its order. EXTERNAL logins carry no
 * `password` key at all; `tags` echoes the login's tags space-joined (empty when none).
 */
export function paramsFor(request: DecisionRequest): FormFields {
  switch (request.path) {
    case 'user': {
      const params: Array<[string, string]> = [['username', request.username]];
      if (request.password !== undefined) params.push(['password', request.password]);
      for (const [key, value] of Object.entries(request.extra ?? {})) params.push([key, value]);
      return params;
    }
    case 'vhost':
      return [
        ['username', request.username],
        ['vhost', request.vhost],
        ['ip', request.ip],
        ['tags', request.tags.join(' ')],
      ];
    case 'resource':
      return [
        ['username', request.username],
        ['vhost', request.vhost],
        ['resource', request.resource],
        ['name', request.name],
        ['permission', request.permission],
        ['tags', request.tags.join(' ')],
      ];
    case 'topic':
      return [
        ['username', request.username],
        ['vhost', request.vhost],
        ['resource', 'topic'],
        ['name', request.name],
        ['permission', request.permission],
        ['routing_key', request.routingKey],
        ...Object.entries(request.variableMap).map(
          ([key, value]) => [`variable_map.${key}`, value] as [string, string],
        ),
        ['tags', request.tags.join(' ')],
      ];
  }
}

/** The backend path a decision request goes to. */
export function pathOf(request: DecisionRequest): BackendPath {
  return request.path;
}
