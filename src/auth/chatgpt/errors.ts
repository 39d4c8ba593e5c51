/**
 * Why a ChatGPT login or token operation failed. Messages are Codex's texts (checked against the
 * 0.169.0 binary where it could be run) and never contain a token, code or verifier.
 */
export type ChatgptLoginErrorCode =
  /** `cancel()`, the signal, or `GET /cancel` (another login took the port). */
  | "CANCELLED"
  | "TIMED_OUT"
  /** The issuer redirected back with `error=...` (incl. the missing Codex entitlement). */
  | "ACCESS_DENIED"
  | "MISSING_CODE"
  | "TOKEN_EXCHANGE_FAILED"
  | "WORKSPACE_RESTRICTED"
  | "PERSIST_FAILED"
  | "PORT_IN_USE"
  | "SERVER_FAILED"
  /** Device code: the issuer has no device-code login (404). */
  | "DEVICE_CODE_DISABLED"
  | "DEVICE_CODE_REQUEST_FAILED"
  | "DEVICE_AUTH_FAILED"
  | "DEVICE_AUTH_TIMED_OUT"
  | "DEVICE_CODE_EXCHANGE_FAILED";

export class ChatgptLoginError extends Error {
  override readonly name = "ChatgptLoginError";

  constructor(
    readonly code: ChatgptLoginErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** Codex's texts for the ends of a login that are not the issuer's fault. */
export const LOGIN_NOT_COMPLETED = "Login was not completed";
export const LOGIN_CANCELLED = "Login cancelled";

export function isChatgptLoginError(error: unknown, code?: ChatgptLoginErrorCode): error is ChatgptLoginError {
  return error instanceof ChatgptLoginError && (code === undefined || error.code === code);
}
