/**
 * The broker's request encoding (RABBITMQ.md section 1): `key=value&…`, each value percent-encoded
 * byte by byte from UTF-8, unreserved `A-Za-z0-9._~-` kept, space sent as `+`. The same string
 * is the GET query and the POST form body.
 */
import type { BackendPath } from '../model.js';

/** Ordered parameters; a key may repeat (robustness scenarios send duplicates on purpose). */
export type Params = ReadonlyArray<readonly [string, string]>;

const UNRESERVED = /[A-Za-z0-9._~-]/;

/** Percent-encodes one key or value the way the broker's HTTP backend does. */
export function encodeComponent(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    if (byte < 0x80 && UNRESERVED.test(char)) out += char;
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `k=v&k=v` in the given order. */
export function encodeParams(params: Params): string {
  return params
    .map(([key, value]) => `${encodeComponent(key)}=${encodeComponent(value)}`)
    .join('&');
}

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
export function paramsFor(request: DecisionRequest): Params {
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
