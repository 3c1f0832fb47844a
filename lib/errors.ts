/**
 * One vocabulary of failure for the harness (certs, brokers, scenarios, load, chaos).
 * Every error Warren reports carries a stable code; tests assert the code, never the text.
 * Messages name the problem and, where there is one, the fix. They never carry a secret.
 */
export const ErrorCode = {
  /** A command-line flag or option value is missing or malformed. */
  BadOption: 'WARREN_ERR_BAD_OPTION',
  /** A file the user gave (policy, scenario, drill, profile) is invalid. */
  BadInput: 'WARREN_ERR_BAD_INPUT',
  /** A program or package Warren needs is not installed and could not be installed. */
  MissingDependency: 'WARREN_ERR_MISSING_DEPENDENCY',
  /** Something did not become ready before its deadline. */
  Timeout: 'WARREN_ERR_TIMEOUT',
  /** A child process failed (exit code, signal) where success was required. */
  ProcessFailed: 'WARREN_ERR_PROCESS_FAILED',
  /** A port Warren wants to listen on is taken. */
  PortInUse: 'WARREN_ERR_PORT_IN_USE',
  /** Certificate authority state is missing or inconsistent. */
  CaState: 'WARREN_ERR_CA_STATE',
  /** A broker could not be started, reached or stopped. */
  Broker: 'WARREN_ERR_BROKER',
  /** The target of a run is not marked as safe for the requested action. */
  UnsafeTarget: 'WARREN_ERR_UNSAFE_TARGET',
  /** The test IdP's key folder is unreadable or inconsistent, or a key operation was refused. */
  IdpState: 'WARREN_ERR_IDP_STATE',
  /** A run stopped early: SIGINT/SIGTERM, or a chaos stop condition aborted it. */
  Interrupted: 'WARREN_ERR_INTERRUPTED',
  /** A load or drill target does not accept connections (nothing listens at its URL). */
  TargetUnreachable: 'WARREN_ERR_TARGET_UNREACHABLE',
  /** A conformance run could not be set up (IdP, backend, brokers); exit code 2. */
  Setup: 'WARREN_ERR_SETUP',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class WarrenError extends Error {
  override readonly name = 'WarrenError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `error` is a WarrenError with the given code. */
export function isWarrenError(error: unknown, code?: ErrorCode): error is WarrenError {
  return error instanceof WarrenError && (code === undefined || error.code === code);
}
