/**
 * `user` path: a login. `username` is required; a `password` key (even empty) means PLAIN with a
 * JWT, opaque token or static password; no `password` key at all means EXTERNAL, a certificate
 * login (RABBITMQ.md section 1). Answers `allow <tags>` with tags from the fixed set only.
 */
import type { LoginRequest } from '../decide.js';
import { pick, type PathSpec } from './path.js';

export const userPath: PathSpec<LoginRequest> = {
  path: 'user',
  required: ['username'],
  toRequest(values) {
    const username = values.get('username') as string;
    const password = values.get('password');
    return password === undefined ? { username } : { username, password };
  },
  decide: (core, request) => core.login(request),
  loggable(values) {
    return {
      ...pick(values, ['username', 'vhost', 'client_id']),
      mechanism: values.has('password') ? 'PLAIN' : 'EXTERNAL',
    };
  },
};
