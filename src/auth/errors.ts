import { describeLibraryError } from "../protocol/safe-text.js";

/** Why an auth operation failed. Messages are the contract's (Codex's) texts and never hold a secret. */
export type AuthErrorCode =
  | "NOT_LOGGED_IN"
  | "ACCOUNT_CHANGED"
  | "CODEX_HOME_MISSING"
  | "CONFIG_INVALID"
  | "CONFIG_OVERRIDE_INVALID"
  | "STORE_MALFORMED"
  | "STORE_UNREADABLE"
  | "STORE_WRITE_FAILED"
  | "STORE_LOCK_TIMEOUT"
  | "STORE_INCOMPLETE"
  | "KEYRING_FAILED"
  | "PAT_REQUEST_FAILED"
  | "PAT_STATUS"
  | "PAT_DECODE"
  | "AGENT_IDENTITY_DECODE"
  | "AGENT_IDENTITY_UNSUPPORTED"
  | "WORKSPACE_RESTRICTED"
  | "LOGIN_METHOD_DISABLED"
  /** A credential with characters that cannot go in an HTTP header, refused where it entered. */
  | "CREDENTIAL_REFUSED";

export class AuthError extends Error {
  override readonly name = "AuthError";
  /** HTTP status, for PAT_STATUS. */
  readonly status?: number;

  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.status !== undefined) this.status = options.status;
  }
}

export function isAuthError(error: unknown, code?: AuthErrorCode): error is AuthError {
  return error instanceof AuthError && (code === undefined || error.code === code);
}

/**
 * A short, input-free description of an error from a library (fs, keyring, JSON, TOML, fetch), like
 * Rust's io::Error display (`Is a directory (EISDIR)`); our own AuthError keeps its message.
 */
export function describeSystemError(error: unknown): string {
  if (error instanceof AuthError) return error.message;
  return describeLibraryError(error);
}
