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
  | "LOGIN_METHOD_DISABLED";

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

/** A short, secret-free description of a Node error (`Is a directory (EISDIR)`), like Rust's io::Error display. */
export function describeSystemError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const known: Record<string, string> = {
    EACCES: "Permission denied",
    EPERM: "Operation not permitted",
    EISDIR: "Is a directory",
    ENOTDIR: "Not a directory",
    ENOENT: "No such file or directory",
    EEXIST: "File exists",
    ENOSPC: "No space left on device",
    EDQUOT: "Disk quota exceeded",
    EFBIG: "File too large",
    EROFS: "Read-only file system",
    EBUSY: "Resource busy",
    EMFILE: "Too many open files",
    ELOOP: "Too many levels of symbolic links",
  };
  if (typeof code === "string" && known[code]) return `${known[code]} (${code})`;
  if (error instanceof Error) return error.message;
  return String(error);
}
