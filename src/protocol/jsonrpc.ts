/** JSON-RPC error codes as the Codex app-server uses them. */
export const ErrorCode = {
  /** Not initialized, already initialized, unknown method, invalid params, experimental gating, auth-policy refusals. */
  InvalidRequest: -32600,
  /** Internal and backend failures. */
  InternalError: -32603,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Prefix of every `-32600` message about a malformed request (unknown method, bad params). */
export const INVALID_REQUEST_PREFIX = "Invalid request: ";

/** Descriptor used in experimental-gating errors: `<method>.<variant>`. */
export function experimentalDescriptor(method: string, variant?: string): string {
  return variant === undefined ? method : `${method}.${variant}`;
}

export function requiresExperimentalApiMessage(descriptor: string): string {
  return `${descriptor} requires experimentalApi capability`;
}
