/**
 * JSON-RPC error codes, defined once for every peer (server, client, tests). The standard set from
 * the JSON-RPC 2.0 spec, plus the one Codex adds. The Codex app-server itself answers only
 * `InvalidRequest` (also for unknown methods and bad params) and `InternalError`; a client answers
 * server requests with `MethodNotFound` / `InvalidParams` as JSON-RPC peers usually do.
 */
export const ErrorCode = {
  /** The line is not valid JSON (JSON-RPC 2.0; the Codex app-server ignores such lines instead). */
  ParseError: -32700,
  /** Not initialized, already initialized, unknown method, invalid params, experimental gating, auth-policy refusals. */
  InvalidRequest: -32600,
  /** No such method (or no handler for it). */
  MethodNotFound: -32601,
  /** The params do not match the method. */
  InvalidParams: -32602,
  /** Internal and backend failures. */
  InternalError: -32603,
  /** Codex: the server's request queue is full ("Server overloaded; retry later."). */
  ServerOverloaded: -32001,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** `-32601`: the method is not known (or has no handler). */
export const METHOD_NOT_FOUND = ErrorCode.MethodNotFound;
/** `-32602`: the params do not match the method. */
export const INVALID_PARAMS = ErrorCode.InvalidParams;

/** Prefix of every `-32600` message about a malformed request (unknown method, bad params). */
export const INVALID_REQUEST_PREFIX = "Invalid request: ";

/** Descriptor used in experimental-gating errors: `<method>.<variant>`. */
export function experimentalDescriptor(method: string, variant?: string): string {
  return variant === undefined ? method : `${method}.${variant}`;
}

export function requiresExperimentalApiMessage(descriptor: string): string {
  return `${descriptor} requires experimentalApi capability`;
}
