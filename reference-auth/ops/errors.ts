/**
 * Stable error codes for the operations half of the reference auth service (audit file, admin
 * listener, eviction, introspection, TLS). Tests assert the code, never the text. Messages name
 * the field or file and the fix; they never carry a secret.
 */
export const OpsErrorCode = {
  /** An option of the operations modules is missing or malformed. */
  BadOption: 'REFAUTH_ERR_BAD_OPTION',
  /** The audit file exists but its last record cannot be read, so the chain cannot continue. */
  AuditTail: 'REFAUTH_ERR_AUDIT_TAIL',
  /** The admin listener was asked to start without credentials. */
  AdminCredentials: 'REFAUTH_ERR_ADMIN_CREDENTIALS',
  /** A TLS file (key, certificate, CA) is missing or unreadable. */
  TlsFile: 'REFAUTH_ERR_TLS_FILE',
} as const;

export type OpsErrorCode = (typeof OpsErrorCode)[keyof typeof OpsErrorCode];

/** The one error class the operations modules throw at start-up; never thrown per request. */
export class OpsError extends Error {
  override readonly name = 'OpsError';

  constructor(
    readonly code: OpsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
