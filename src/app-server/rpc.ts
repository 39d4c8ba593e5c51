import { ErrorCode, INVALID_REQUEST_PREFIX, type RequestId } from "../protocol/index.js";
import type { InboundMessage } from "./transport.js";

/** A JSON-RPC error a handler answers with. `message` is the contract's text and never holds a secret. */
export class RpcError extends Error {
  override readonly name = "RpcError";

  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** `-32600`: policy refusals, gating, handshake errors. */
export function invalidRequest(message: string): RpcError {
  return new RpcError(ErrorCode.InvalidRequest, message);
}

/** `-32600 Invalid request: <detail>`: unknown method or params that do not decode. */
export function malformedRequest(detail: string): RpcError {
  return new RpcError(ErrorCode.InvalidRequest, `${INVALID_REQUEST_PREFIX}${detail}`);
}

/** `-32603`: internal and backend failures. */
export function internalError(message: string): RpcError {
  return new RpcError(ErrorCode.InternalError, message);
}

/** One inbound line, classified the way Codex does; anything else is ignored with a log line. */
export type Classified =
  | { kind: "request"; id: RequestId; method: string; params: unknown; hasParams: boolean }
  | { kind: "notification"; method: string; params: unknown }
  | { kind: "response"; id: RequestId; result: unknown }
  | { kind: "errorResponse"; id: RequestId; error: unknown }
  | { kind: "invalid"; reason: string };

const has = (message: InboundMessage, key: string) => Object.prototype.hasOwnProperty.call(message, key);

/** Integers (i64 range in Codex; safe integers here) or strings. `null`, floats and the rest are not ids. */
export function isRequestId(value: unknown): value is RequestId {
  return typeof value === "string" || (typeof value === "number" && Number.isSafeInteger(value));
}

export function classify(message: InboundMessage): Classified {
  if (has(message, "method")) {
    const method = message.method;
    if (typeof method !== "string") return { kind: "invalid", reason: "ignoring a message whose method is not a string" };
    if (!has(message, "id")) return { kind: "notification", method, params: message.params };
    if (!isRequestId(message.id)) return { kind: "invalid", reason: `ignoring request ${describeMethod(method)}: its id is not a string or an integer` };
    return { kind: "request", id: message.id, method, params: message.params, hasParams: has(message, "params") };
  }
  if (has(message, "id")) {
    if (!isRequestId(message.id)) return { kind: "invalid", reason: "ignoring a response whose id is not a string or an integer" };
    if (has(message, "result")) return { kind: "response", id: message.id, result: message.result };
    if (has(message, "error")) return { kind: "errorResponse", id: message.id, error: message.error };
    return { kind: "invalid", reason: "ignoring a message with an id but no method, result or error" };
  }
  return { kind: "invalid", reason: "ignoring a message with neither method nor id" };
}

/** How an id appears in a log line: integers as is, strings quoted and shortened. */
export function describeId(id: RequestId): string {
  if (typeof id === "number") return String(id);
  return quoteBounded(id);
}

/** A client-chosen method name for a log line: bounded (a line may be up to 1 MiB). */
export function describeMethod(method: string): string {
  return quoteBounded(method);
}

function quoteBounded(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}
