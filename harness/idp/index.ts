/** The test identity provider and the forged-token toolkit (see README.md beside this file). */
export { defaultAudience, defaultIdpPort, openIdpMinter, startIdp } from './idp.js';
export type { IdpMinter, IdpOptions, RunningIdp } from './idp.js';
export { idpAlgs, jwkThumbprint, KeyStore } from './keys.js';
export type { IdpAlg, IdpKey, KeyState, PublicJwk } from './keys.js';
export { defaultExpiresInSeconds } from './mint.js';
export type { Claims, MintOptions, SignRawOptions } from './mint.js';
export { discoveryPath, jwksPath } from './server.js';
export type { BrokenKind, HostedFile, IdpCounters, JwksMode, JwksModeOptions } from './server.js';
export { base64url, decodeCompact, signCompact } from './jws.js';
export type { DecodedToken, JwsAlg } from './jws.js';
