import type { RequestId } from "../../generated/protocol/common.js";
import type { InboundMessage } from "./ndjson.js";

/**
 * A request id as it travels: a string or an integer. Integers beyond `Number.MAX_SAFE_INTEGER`
 * (Codex's ids are 64-bit) are a `bigint` holding the exact digits sent (see `parseMessage`).
 */
export type WireRequestId = RequestId | bigint;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** Strings, and integers in Codex's i64 range. `null`, floats and the rest are not ids. */
export function isRequestId(value: unknown): value is WireRequestId {
  if (typeof value === "string") return true;
  if (typeof value === "number") return Number.isSafeInteger(value);
  return typeof value === "bigint" && value >= I64_MIN && value <= I64_MAX;
}

/** One inbound message, classified the way Codex does; `invalid` ones are ignored (with a log line). */
export type ClassifiedMessage =
  | { kind: "request"; id: WireRequestId; method: string; params: unknown; hasParams: boolean }
  | { kind: "notification"; method: string; params: unknown }
  | { kind: "response"; id: WireRequestId; result: unknown }
  | { kind: "errorResponse"; id: WireRequestId; error: unknown }
  | { kind: "invalid"; reason: string };

const has = (message: object, key: string) => Object.prototype.hasOwnProperty.call(message, key);

/** Sorts a parsed JSON object into request, notification, response or error response. */
export function classifyMessage(message: InboundMessage): ClassifiedMessage {
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
export function describeId(id: WireRequestId): string {
  if (typeof id !== "string") return String(id);
  return quoteBounded(id);
}

/** A peer-chosen method name for a log line: bounded (a line may be up to 1 MiB). */
export function describeMethod(method: string): string {
  return quoteBounded(method);
}

function quoteBounded(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}
