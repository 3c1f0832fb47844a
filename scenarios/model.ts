/**
 * The scenario model: what a catalogue file may say, checked with zod when it is loaded.
 *
 * A scenario is Given (an identity) → When (a list of steps, each with its own Expect). Steps are
 * either protocol requests (Warren plays the broker) or broker operations (real AMQP clients);
 * the steps a scenario holds decide which modes can run it.
 */
import { z } from 'zod';

/** The categories of issue 4; every catalogue file declares exactly one. */
export const CATEGORIES = [
  'token-validity',
  'forgery',
  'jwks',
  'authorization',
  'certificate',
  'protocol',
  'expiry',
  'operational',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const RABBITMQ_VERSIONS = ['3.10', '4.0'] as const;
export type RabbitmqVersion = (typeof RABBITMQ_VERSIONS)[number];

export const METHODS = ['GET', 'POST'] as const;
export type HttpMethod = (typeof METHODS)[number];

export const MODES = ['protocol', 'broker', 'spy'] as const;
export type Mode = (typeof MODES)[number];

/** The broker's four backend paths (RABBITMQ.md section 1). */
export type BackendPath = 'user' | 'vhost' | 'resource' | 'topic';

/** Tags the broker may safely receive: each becomes a permanent atom (RABBITMQ.md section 2). */
export const SAFE_TAGS = ['management', 'monitoring', 'policymaker', 'administrator'] as const;

const text = z.string().min(1);
/** A claim or header value: anything JSON can hold; `null` removes the claim. */
const jsonValue: z.ZodType<unknown> = z.unknown();

const givenSchema = z
  .strictObject({
    /** A profile identity name (jwt, external or static, as the profile defines it). */
    identity: text.optional(),
    /** Claim overrides merged over the profile identity's claims; `null` removes a claim. */
    claims: z.record(z.string(), jsonValue).optional(),
    /** JOSE header overrides (for the signed token; forge builders set their own). */
    header: z.record(z.string(), jsonValue).optional(),
    /** A forge builder id from harness/idp/forge.ts; the token is built by it. */
    forge: text.optional(),
    /** The AMQP username sent, when it must differ from the identity's own. */
    username: z.string().optional(),
    /** An EXTERNAL (certificate) username as the broker would derive it. */
    external: z.string().optional(),
    /** Static credentials: username and password sent as is. */
    password: z.string().optional(),
    /** Replace the token by this literal string (opaque or malformed tokens). */
    rawToken: z.string().optional(),
    /** Which IdP key family signs the token; default ES256. */
    alg: z.enum(['ES256', 'RS256', 'EdDSA']).optional(),
  })
  .superRefine((given, ctx) => {
    const sources = ['forge', 'external', 'password', 'rawToken'].filter(
      (key) => given[key as keyof typeof given] !== undefined,
    );
    if (sources.length > 1) {
      ctx.addIssue({
        code: 'custom',
        message: `choose one of forge, external, password, rawToken (got ${sources.join(', ')})`,
      });
    }
  });
export type Given = z.infer<typeof givenSchema>;

/**
 * `allow`, `deny`, `not-allow` (anything but an allow), `any` (either decision, but in the
 * exact format: for set-up steps of policy-independent scenarios), or an allow with exact tags.
 */
const expectSchema = z.union([
  z.enum(['allow', 'deny', 'not-allow', 'any']),
  z.strictObject({ allow: z.strictObject({ tags: z.array(z.enum(SAFE_TAGS)) }) }),
]);
export type StepExpect = z.infer<typeof expectSchema>;

const loginStep = z.strictObject({
  /** Send without the password key, as EXTERNAL does; default: decided by the identity. */
  omitPassword: z.boolean().optional(),
  /** Extra parameters the broker would add for other protocols (MQTT: vhost, client_id). */
  extra: z.record(z.string(), z.string()).optional(),
});
const vhostStep = z.strictObject({ vhost: z.string(), ip: z.string().optional() });
const resourceStep = z.strictObject({
  vhost: z.string(),
  resource: z.enum(['exchange', 'queue', 'topic']),
  name: z.string(),
  permission: z.enum(['configure', 'write', 'read']),
});
const topicStep = z.strictObject({
  vhost: z.string(),
  name: z.string(),
  permission: z.enum(['write', 'read']),
  routing_key: z.string(),
  /** Defaults to the broker's: variable_map.username and variable_map.vhost. */
  variable_map: z.record(z.string(), z.string()).optional(),
});
/** A hand-made request for robustness checks: exact parameters or an exact raw query/body. */
const requestStep = z.strictObject({
  path: text,
  /** Ordered key/value pairs, encoded as the broker encodes; repeated keys allowed. */
  params: z.array(z.tuple([z.string(), z.string()])).optional(),
  /** Sent byte for byte as the query (GET) or body (POST); wins over params. */
  raw: z.string().optional(),
  /** Add the current token as `password` (user path requests). */
  withToken: z.boolean().optional(),
  /**
   * Requests the broker never sends (JSON bodies, other content types): the reply need not keep
   * the strict format, it only must not be read as an allow. Default false.
   */
  lenient: z.boolean().optional(),
  headers: z.record(z.string(), z.string()).optional(),
});
const waitStep = z.strictObject({
  /** Sleep this long, seconds. */
  seconds: z.number().positive().max(30).optional(),
  /** Sleep until the token's exp plus the profile's token.sessionGraceSeconds plus 1 s. */
  untilExpired: z.boolean().optional(),
  /** With untilExpired: also wait out the profile's clock skew (for a second login). */
  beyondSkew: z.boolean().optional(),
});
const idpStep = z.strictObject({
  /** Rotate the signing key of the scenario's alg (the old key stays published). */
  rotate: z.boolean().optional(),
  /** Serve the JWKS normally, broken (invalid JSON), empty or not at all. */
  jwks: z.enum(['normal', 'broken', 'empty', 'unreachable']).optional(),
  /** Re-mint the scenario's token with the current key (after a rotation). */
  remint: z.boolean().optional(),
});
const stormStep = z.strictObject({
  /** How many logins to send, each with a token whose `kid` the IdP never published. */
  unknownKidLogins: z.number().int().min(1).max(500),
  /** Most JWKS fetches the IdP may see during the storm. */
  maxJwksFetches: z.number().int().min(0),
});
const httpStep = z.strictObject({
  /** GET this path on the backend (health, readiness). */
  get: text,
  /** Skip the scenario when the backend answers 404 (the endpoint is optional). */
  optional: z.boolean().optional(),
  expectStatus: z.number().int().optional(),
});
const headerStep = z.strictObject({
  /** Which decision reply to inspect: the last one sent. */
  header: text,
  /** Regular expression the header value must match. */
  matches: text,
  /** Pass when the header is absent; default false (absent fails). */
  absentOk: z.boolean().optional(),
});

/** Broker operations (broker mode): real AMQP 0-9-1 through a local broker. */
const connectOp = z.strictObject({
  vhost: z.string(),
  /** `plain` sends the token as password; `external` presents the identity's certificate. */
  mechanism: z.enum(['plain', 'external']).optional(),
  /** For certificate negatives: none, expired, other-ca, revoked. */
  certificate: z.enum(['valid', 'none', 'expired', 'other-ca', 'revoked']).optional(),
  /**
   * `main` (default): the broker pointed at the backend under test. `backend-down`: a probe
   * broker whose auth service is unreachable and whose chain continues to `internal`
   * (fail-closed probe: it must admit nobody).
   */
  broker: z.enum(['main', 'backend-down']).optional(),
  /** PLAIN with these literal credentials instead of the identity's (e.g. guest/guest). */
  credentials: z.strictObject({ username: z.string(), password: z.string() }).optional(),
});
const declareOp = z.strictObject({
  kind: z.enum(['exchange', 'queue']),
  name: z.string(),
  type: z.enum(['topic', 'direct', 'fanout']).optional(),
});
const bindOp = z.strictObject({ queue: z.string(), exchange: z.string(), key: z.string() });
const publishOp = z.strictObject({ exchange: z.string(), key: z.string() });
const consumeOp = z.strictObject({ queue: z.string() });

const STEP_ACTIONS = [
  'login',
  'vhost',
  'resource',
  'topic',
  'request',
  'wait',
  'idp',
  'storm',
  'http',
  'header',
  'connect',
  'declare',
  'bind',
  'publish',
  'consume',
] as const;
export type StepAction = (typeof STEP_ACTIONS)[number];

/** Broker outcomes (broker mode): what the client observed. */
const brokerExpectSchema = z.enum([
  'ok',
  'access-refused',
  'not-allowed',
  'channel-closed',
  'connection-closed',
  'handshake-failed',
]);
export type BrokerExpect = z.infer<typeof brokerExpectSchema>;

const stepSchema = z
  .strictObject({
    login: loginStep.optional(),
    vhost: vhostStep.optional(),
    resource: resourceStep.optional(),
    topic: topicStep.optional(),
    request: requestStep.optional(),
    wait: waitStep.optional(),
    idp: idpStep.optional(),
    storm: stormStep.optional(),
    http: httpStep.optional(),
    header: headerStep.optional(),
    connect: connectOp.optional(),
    declare: declareOp.optional(),
    bind: bindOp.optional(),
    publish: publishOp.optional(),
    consume: consumeOp.optional(),
    /** Decision expected from a protocol step. */
    expect: expectSchema.optional(),
    /** Outcome expected from a broker operation. */
    outcome: brokerExpectSchema.optional(),
    /**
     * Retry the step every 500 ms until it matches or this many seconds pass (for backends that
     * refetch a JWKS under a rate limit). Default: one attempt.
     */
    eventuallyWithinSeconds: z.number().positive().max(60).optional(),
    /** Why this step is here, shown in the transcript. */
    note: z.string().optional(),
  })
  .superRefine((step, ctx) => {
    const actions = STEP_ACTIONS.filter((key) => step[key] !== undefined);
    if (actions.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `a step needs exactly one action of ${STEP_ACTIONS.join(', ')} (got ${actions.length === 0 ? 'none' : actions.join(', ')})`,
      });
      return;
    }
    const action = actions[0] as StepAction;
    if (DECISION_ACTIONS.has(action) && step.expect === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `a ${action} step needs an expect`,
        path: ['expect'],
      });
    }
    if (BROKER_ACTIONS.has(action) && step.outcome === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `a ${action} step needs an outcome`,
        path: ['outcome'],
      });
    }
  });
export type Step = z.infer<typeof stepSchema>;

/** Steps whose reply is a broker decision checked against `expect`. */
export const DECISION_ACTIONS: ReadonlySet<StepAction> = new Set([
  'login',
  'vhost',
  'resource',
  'topic',
  'request',
]);
/** Steps only a real broker can run. */
export const BROKER_ACTIONS: ReadonlySet<StepAction> = new Set([
  'connect',
  'declare',
  'bind',
  'publish',
  'consume',
]);

/** The one action a validated step holds. */
export function stepAction(step: Step): StepAction {
  const action = STEP_ACTIONS.find((key) => step[key] !== undefined);
  if (action === undefined) throw new Error('unvalidated step without an action');
  return action;
}

const variantsSchema = z.strictObject({
  rabbitmq: z.array(z.enum(RABBITMQ_VERSIONS)).min(1).optional(),
  method: z.array(z.enum(METHODS)).min(1).optional(),
});

const scenarioSchema = z.strictObject({
  /** Stable id, `<area>.<what>` in lower case; never reused for another meaning. */
  id: z.string().regex(/^[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+)+$/, 'ids look like area.what-it-checks'),
  title: text,
  /** What the scenario encodes: RabbitMQ source or doc, RFC clause, a pitfall. */
  reference: text,
  tags: z.array(text).default([]),
  /** `dependent` scenarios need the profile's grants; `independent` ones expect denials only. */
  policy: z.enum(['independent', 'dependent']).default('independent'),
  variants: variantsSchema.default({}),
  /**
   * When to run: `parallel` (default) with the bulk; `first` or `last` one at a time before or
   * after it, for scenarios that change the IdP (rotation, outages) or storm it.
   */
  phase: z.enum(['first', 'parallel', 'last']).default('parallel'),
  given: givenSchema.default({}),
  when: z.array(stepSchema).default([]),
  /** Built-in checks evaluated over the whole run (p95 decision latency). */
  aggregate: z.enum(['decision-latency-p95', 'get-post-parity']).optional(),
});
export type Scenario = z.infer<typeof scenarioSchema> & {
  category: Category;
  /** Where it was defined, for messages: `file:line`. */
  source: string;
};

export const catalogueFileSchema = z.strictObject({
  category: z.enum(CATEGORIES),
  description: z.string().optional(),
  scenarios: z
    .array(
      scenarioSchema.superRefine((scenario, ctx) => {
        if (scenario.when.length === 0 && scenario.aggregate === undefined) {
          ctx.addIssue({
            code: 'custom',
            message: 'a scenario needs at least one step',
            path: ['when'],
          });
        }
      }),
    )
    .min(1),
});
export type CatalogueFile = z.infer<typeof catalogueFileSchema>;

/** The modes that can run a scenario, from its steps. */
export function modesOf(scenario: Scenario): Mode[] {
  const actions = scenario.when.map(stepAction);
  if (scenario.aggregate !== undefined) return ['protocol'];
  if (actions.some((action) => BROKER_ACTIONS.has(action))) return ['broker', 'spy'];
  return ['protocol'];
}
