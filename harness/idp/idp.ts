import { ErrorCode, WarrenError } from '../../lib/errors.js';
import { stateDir } from '../../lib/paths.js';
import { idpAlgs, KeyStore, type IdpAlg, type IdpKey, type PublicJwk } from './keys.js';
import {
  defaultClaims,
  mintToken,
  signRawToken,
  type Claims,
  type MintContext,
  type MintOptions,
  type SignRawOptions,
} from './mint.js';
import {
  discoveryPath,
  IdpHttpServer,
  jwksPath,
  type HostedFile,
  type IdpCounters,
  type JwksMode,
  type JwksModeOptions,
} from './server.js';

/** The fixed test IdP address every Warren component agrees on (see COMMON constants). */
export const defaultIdpPort = 8700;
/** The audience tokens carry unless told otherwise. */
export const defaultAudience = 'rabbitmq';

/** Options of `startIdp`. */
export interface IdpOptions {
  /** Port on 127.0.0.1; default 8700, 0 picks a free one (tests). */
  port?: number;
  /** Listen address; loopback only. */
  host?: '127.0.0.1';
  /** Where keys persist; default `stateDir('idp')`. */
  keysDir?: string;
  /** `aud` of minted tokens; default `rabbitmq`. */
  audience?: string;
  /** The IdP clock in ms since the epoch (iat/exp defaults, counters); default `Date.now`. */
  nowMs?: () => number;
}

/** The IdP's keys and minting, usable without a listener (e.g. `npm run idp -- token`). */
export interface IdpMinter {
  /** `http://127.0.0.1:<port>`, the `iss` of every minted token. */
  readonly issuer: string;
  readonly audience: string;
  readonly keysDir: string;
  /** Mints a signed JWT; defaults iss, aud, iat, nbf = iat, exp = iat + 300 s, jti, typ JWT. */
  mint(claims: Claims, options?: MintOptions): string;
  /** The claims `mint` would sign (defaults merged), without signing. */
  claimsFor(claims: Claims, options?: MintOptions): Claims;
  /** Signs an exact header and payload with an IdP key; adds nothing (forgery toolkit). */
  signRaw(header: object | string, payload: object | string, options?: SignRawOptions): string;
  /** New current key for `alg` (default ES256); the old one stays in the JWKS until retired. */
  rotate(alg?: IdpAlg): IdpKey;
  /** Removes `kid` from the JWKS (it can still sign via `mint(..., { kid })`). */
  retire(kid: string): IdpKey;
  /** The key currently signing for `alg` (default ES256). */
  currentKey(alg?: IdpAlg): IdpKey;
  /** Every key with its state. */
  keys(): readonly IdpKey[];
  /** The JWKS served in `ok` mode. */
  jwks(): { keys: PublicJwk[] };
}

/** A started test IdP. Keep one per keys folder. */
export interface RunningIdp extends IdpMinter {
  readonly port: number;
  /** `<issuer>/.well-known/jwks.json`, what a backend must be configured with. */
  readonly jwksUrl: string;
  /** `<issuer>/.well-known/openid-configuration`. */
  readonly discoveryUrl: string;
  /** Switches the JWKS endpoint's behaviour (see `JwksMode`). */
  setJwksMode(mode: JwksMode, options?: JwksModeOptions): Promise<void>;
  jwksMode(): { mode: JwksMode; options: JwksModeOptions };
  /** Serves a file at `path` on the IdP (e.g. an attacker JWKS); returns its URL. */
  hostFile(path: string, file: HostedFile): string;
  /** Requests seen since start or `resetCounters`. */
  counters(): IdpCounters;
  resetCounters(): void;
  /** Closes the listener and every connection. Keys stay on disk. */
  stop(): Promise<void>;
}

function checkOptions(options: IdpOptions): Required<Omit<IdpOptions, 'nowMs'>> {
  const port = options.port ?? defaultIdpPort;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new WarrenError(ErrorCode.BadOption, `idp port ${port} is not a port number (0-65535)`);
  }
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') {
    throw new WarrenError(ErrorCode.BadOption, `idp host must be 127.0.0.1 (loopback only)`);
  }
  const audience = options.audience ?? defaultAudience;
  if (audience === '') throw new WarrenError(ErrorCode.BadOption, 'idp audience must not be empty');
  return { port, host, audience, keysDir: options.keysDir ?? stateDir('idp') };
}

function discoveryDocument(issuer: string): object {
  return {
    issuer,
    jwks_uri: `${issuer}${jwksPath}`,
    id_token_signing_alg_values_supported: [...idpAlgs],
    token_endpoint_auth_signing_alg_values_supported: [...idpAlgs],
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    claims_supported: ['sub', 'tenant_id', 'workload', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti'],
  };
}

/**
 * Opens the IdP's keys (creating them on first use) and mints for the issuer the IdP has on
 * `port`, without listening. For the CLI and for code that only needs tokens.
 */
export function openIdpMinter(options: IdpOptions = {}): IdpMinter {
  const settings = checkOptions(options);
  if (settings.port === 0) {
    throw new WarrenError(ErrorCode.BadOption, 'minting without a listener needs a real port');
  }
  const issuer = `http://${settings.host}:${settings.port}`;
  return createMinter(KeyStore.open(settings.keysDir), issuer, settings, options.nowMs ?? Date.now);
}

function createMinter(
  store: KeyStore,
  issuer: string,
  settings: { audience: string; keysDir: string },
  nowMs: () => number,
): IdpMinter {
  const context: MintContext = { store, issuer, audience: settings.audience, nowMs };
  return {
    issuer,
    audience: settings.audience,
    keysDir: settings.keysDir,
    mint: (claims, mintOptions) => mintToken(context, claims, mintOptions),
    claimsFor: (claims, mintOptions = {}) => defaultClaims(context, claims, mintOptions),
    signRaw: (header, payload, rawOptions) => signRawToken(context, header, payload, rawOptions),
    rotate: (alg = 'ES256') => store.rotate(alg),
    retire: (kid) => store.retire(kid),
    currentKey: (alg = 'ES256') => store.current(alg),
    keys: () => store.list(),
    jwks: () => store.jwks(),
  };
}

/**
 * Starts the test identity provider: keys from `keysDir` (created on first use), JWKS and
 * discovery over HTTP on loopback, a minting API for any claims.
 */
export async function startIdp(options: IdpOptions = {}): Promise<RunningIdp> {
  const settings = checkOptions(options);
  const nowMs = options.nowMs ?? Date.now;
  const store = KeyStore.open(settings.keysDir);
  let issuer = '';
  const server = new IdpHttpServer(
    { discovery: () => discoveryDocument(issuer), jwks: () => store.jwks(), nowMs },
    settings.host,
  );
  const port = await server.listen(settings.port);
  issuer = `http://${settings.host}:${port}`;

  return {
    ...createMinter(store, issuer, settings, nowMs),
    port,
    jwksUrl: `${issuer}${jwksPath}`,
    discoveryUrl: `${issuer}${discoveryPath}`,
    setJwksMode: (mode, modeOptions) => server.setMode(mode, modeOptions),
    jwksMode: () => server.currentMode(),
    hostFile: (path, file) => {
      server.hostFile(path, file);
      return `${issuer}${path}`;
    },
    counters: () => server.counters(),
    resetCounters: () => server.resetCounters(),
    stop: () => server.close(),
  };
}
