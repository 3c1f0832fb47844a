/** Builds a target from its spec inside a worker. */
import { createAmqpTarget } from './amqp.js';
import { createAuthHttpTarget } from './auth-http.js';
import { createHttpTarget } from './http.js';
import type { TargetSecrets, TargetSpec } from './spec.js';
import type { Target } from './target.js';

export type { Target, IterationContext, Recorder } from './target.js';

/** One target per worker; `secrets` carries minted tokens, never written anywhere. */
export function createTarget(spec: TargetSpec, secrets: TargetSecrets = {}): Target {
  switch (spec.kind) {
    case 'http':
      return createHttpTarget(spec);
    case 'auth-http':
      return createAuthHttpTarget(spec, secrets);
    case 'amqp-connect':
      return createAmqpTarget(spec, secrets);
  }
}
