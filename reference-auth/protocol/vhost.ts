/**
 * `vhost` path: may this username open a connection to this vhost? The `tags` and `ip` fields
 * are logged but never trusted: tags are whatever the user path granted.
 */
import type { VhostRequest } from '../decide.js';
import { pick, type PathSpec } from './path.js';

export const vhostPath: PathSpec<VhostRequest> = {
  path: 'vhost',
  required: ['username', 'vhost'],
  toRequest: (values) => ({
    username: values.get('username') as string,
    vhost: values.get('vhost') as string,
  }),
  decide: (core, request) => core.vhost(request),
  loggable: (values) => pick(values, ['username', 'vhost', 'ip', 'tags']),
};
