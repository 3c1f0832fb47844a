/**
 * The service's own error vocabulary (reference-auth/ is deployable alone and does not use lib/).
 * Errors are for operators (bad config, bad policy, broken dependency); denials are not errors
 * and use the reason codes of decision.ts instead.
 */
export const AuthErrorCode = {
  /** A configuration value (default, env, file or flag) is missing or malformed. */
  BadConfig: 'WARREN_AUTH_ERR_CONFIG',
  /** The policy file cannot be read, parsed or validated. */
  BadPolicy: 'WARREN_AUTH_ERR_POLICY',
  /** The JWKS endpoint could not be reached or answered something unusable. */
  JwksUnavailable: 'WARREN_AUTH_ERR_JWKS',
} as const;

export type AuthErrorCode = (typeof AuthErrorCode)[keyof typeof AuthErrorCode];

/** An operator-facing failure with a stable code; the message names the field and the fix. */
export class AuthServiceError extends Error {
  override readonly name = 'AuthServiceError';

  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
