import type { ServerResponse } from "node:http";
import { validateWhoAmIResponse } from "../../generated/http/authapi.validators.js";
import { validateUsagePayload } from "../../generated/http/backend.validators.js";
import { validateDeviceTokenResponse, validateDeviceUserCodeResponse, validateTokenResponse } from "../../generated/http/oauth.validators.js";
import type { Validator } from "../../generated/validator.js";

/**
 * Network faults the dev server can answer a contract route with, for the fault suite: what a
 * flaky AuthAPI, issuer or backend (or the network in between) does to a client. Each one is
 * written straight onto the socket, outside the contract check, because breaking the contract is
 * the point.
 */
export type NetworkFault =
  /** Reads the request, then never answers: the client must give up at its own deadline. */
  | { kind: "hang" }
  /** A non-2xx status: `json` (the API's error schema), `empty` (no body) or `html` (a proxy's error page). */
  | { kind: "status"; status: number; body?: "json" | "empty" | "html" }
  /** 200 `application/json` with a truncated, unparseable JSON body. */
  | { kind: "malformed" }
  /** 200 with well-formed JSON that violates the route's response schema (default: wrong types for its fields). */
  | { kind: "contract"; body?: unknown }
  /** 200 with a JSON body of `bytes` (default 50 MB) streamed as fast as the client reads it. */
  | { kind: "oversized"; bytes?: number }
  /** The connection is reset (RST): before any answer, or after the headers and `afterBytes` (>= 1) of the body. */
  | { kind: "reset"; afterBytes?: number }
  /** 200 with a body that arrives one byte every `intervalMs` (default 100) and never completes. */
  | { kind: "drip"; intervalMs?: number };

export type NetworkFaultKind = NetworkFault["kind"];
export const NETWORK_FAULT_KINDS: readonly NetworkFaultKind[] = ["hang", "status", "malformed", "contract", "oversized", "reset", "drip"];

export const DEFAULT_OVERSIZED_BYTES = 50 * 1024 * 1024;
export const DEFAULT_DRIP_INTERVAL_MS = 100;

/**
 * For `contract` faults: a body per route with wrong types for the fields the response schema
 * declares, and the validator it must fail (a default that passed would make the fault a no-op).
 */
const CONTRACT_BREAKING_BODIES: Readonly<Record<string, { body: unknown; validate: Validator<unknown> }>> = {
  "/api/accounts/v1/user-auth-credential/whoami": {
    body: { email: 42, chatgpt_user_id: null, chatgpt_account_id: ["acct"], chatgpt_plan_type: {}, chatgpt_account_is_fedramp: "no" },
    validate: validateWhoAmIResponse as Validator<unknown>,
  },
  "/oauth/token": {
    body: { id_token: 42, access_token: ["not", "a", "token"], refresh_token: {}, expires_in: "soon" },
    validate: validateTokenResponse as Validator<unknown>,
  },
  "/oauth/revoke": {
    // Any 2xx is a successful revoke whatever its body (RFC 7009): there is no schema to break.
    body: { revoked: "maybe" },
    validate: (() => true) as unknown as Validator<unknown>,
  },
  "/api/accounts/deviceauth/usercode": {
    body: { device_auth_id: 42, user_code: 7, interval: [] },
    validate: validateDeviceUserCodeResponse as Validator<unknown>,
  },
  "/api/accounts/deviceauth/token": {
    body: { authorization_code: 42, code_challenge: null, code_verifier: [] },
    validate: validateDeviceTokenResponse as Validator<unknown>,
  },
  "/backend-api/wham/usage": {
    body: { plan_type: 42, rate_limit: "unlimited", credits: [] },
    validate: validateUsagePayload as Validator<unknown>,
  },
};

/** The status the request log records for a fault (0: no status line was sent). */
export function faultStatus(fault: NetworkFault): number {
  switch (fault.kind) {
    case "hang":
      return 0;
    case "status":
      return fault.status;
    case "reset":
      return fault.afterBytes === undefined ? 0 : 200;
    default:
      return 200;
  }
}

/** A short description for log lines and `/__dev/state` (no bodies). */
export function describeFault(fault: NetworkFault): string {
  switch (fault.kind) {
    case "status":
      return `status ${fault.status} (${fault.body ?? "json"} body)`;
    case "oversized":
      return `oversized ${fault.bytes ?? DEFAULT_OVERSIZED_BYTES} bytes`;
    case "reset":
      return fault.afterBytes === undefined ? "reset before answering" : `reset after ${fault.afterBytes} body bytes`;
    case "drip":
      return `drip 1 byte / ${fault.intervalMs ?? DEFAULT_DRIP_INTERVAL_MS} ms`;
    default:
      return fault.kind;
  }
}

/** Checks a fault given over the control plane or by a test; throws with the reason. */
export function checkFault(value: unknown): NetworkFault {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("fault must be an object");
  const fault = value as Record<string, unknown>;
  const kind = fault.kind;
  const count = (key: string, min: number): void => {
    const n = fault[key];
    if (n !== undefined && !(typeof n === "number" && Number.isSafeInteger(n) && n >= min)) throw new Error(`fault.${key} must be an integer >= ${min}`);
  };
  switch (kind) {
    case "hang":
    case "malformed":
      return { kind };
    case "contract":
      return fault.body === undefined ? { kind } : { kind, body: fault.body };
    case "status": {
      const status = fault.status;
      if (!(typeof status === "number" && Number.isInteger(status) && status >= 300 && status <= 599)) throw new Error("fault.status must be a non-2xx status (300-599)");
      const body = fault.body;
      if (body !== undefined && body !== "json" && body !== "empty" && body !== "html") throw new Error("fault.body must be json, empty or html");
      return body === undefined ? { kind, status } : { kind, status, body };
    }
    case "oversized":
      count("bytes", 1);
      return fault.bytes === undefined ? { kind } : { kind, bytes: fault.bytes as number };
    case "reset":
      count("afterBytes", 1);
      return fault.afterBytes === undefined ? { kind } : { kind, afterBytes: fault.afterBytes as number };
    case "drip":
      count("intervalMs", 1);
      return fault.intervalMs === undefined ? { kind } : { kind, intervalMs: fault.intervalMs as number };
    default:
      throw new Error(`fault.kind must be one of ${NETWORK_FAULT_KINDS.join(", ")}`);
  }
}

/** What `sendFault` needs besides the fault: the route, the JSON error body for `status`, the server's shutdown signal. */
export interface FaultContext {
  path: string;
  /** The API's error-schema body for a `status` fault with a JSON body (validated by the caller). */
  errorBody: unknown;
  signal: AbortSignal;
  log(line: string): void;
}

/**
 * Writes the fault onto the response. Long-running faults (hang, oversized, drip) end when the
 * client goes away or the server closes; nothing here ever throws into the server.
 */
export function sendFault(response: ServerResponse, fault: NetworkFault, context: FaultContext): void {
  switch (fault.kind) {
    case "hang":
      // Nothing is written; close() destroys the socket, or the client aborts.
      return;
    case "status":
      sendStatus(response, fault.status, fault.body ?? "json", context.errorBody);
      return;
    case "malformed":
      writeWhole(response, 200, "application/json", '{"email":"demo@example.com","chatgpt_user_id":"user-demo",');
      return;
    case "contract": {
      const known = CONTRACT_BREAKING_BODIES[context.path];
      const body = fault.body ?? known?.body ?? { unexpected: true };
      if (fault.body === undefined && known && known.validate(body)) {
        context.log(`dev-server: BUG: the contract fault body for ${context.path} conforms to its schema`);
      }
      writeWhole(response, 200, "application/json", JSON.stringify(body));
      return;
    }
    case "oversized":
      void streamOversized(response, fault.bytes ?? DEFAULT_OVERSIZED_BYTES, context.signal);
      return;
    case "reset": {
      if (fault.afterBytes === undefined) return reset(response);
      // The declared length promises more than is sent, so the cut is visible to the client.
      response.writeHead(200, { "content-type": "application/json", "content-length": String(fault.afterBytes + 1024) });
      const part = '{"padding":"'.concat("r".repeat(fault.afterBytes)).slice(0, fault.afterBytes);
      response.write(part, () => reset(response));
      return;
    }
    case "drip":
      drip(response, fault.intervalMs ?? DEFAULT_DRIP_INTERVAL_MS, context.signal);
      return;
  }
}

/** An abrupt RST (not a polite FIN), as a crashed proxy or a dropped connection gives. */
function reset(response: ServerResponse): void {
  const socket = response.socket;
  if (!socket) return;
  if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
  else socket.destroy();
}

function sendStatus(response: ServerResponse, status: number, body: "json" | "empty" | "html", errorBody: unknown): void {
  switch (body) {
    case "json":
      writeWhole(response, status, "application/json", JSON.stringify(errorBody));
      return;
    case "empty":
      response.writeHead(status, { "content-length": "0" }).end();
      return;
    case "html":
      writeWhole(response, status, "text/html; charset=utf-8", `<html><head><title>${status}</title></head><body><h1>${status}</h1><p>upstream unavailable</p></body></html>`);
      return;
  }
}

function writeWhole(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { "content-type": contentType, "content-length": String(Buffer.byteLength(body)), "cache-control": "no-store" }).end(body);
}

/** `{"padding":"xxx…"}` of exactly `bytes` bytes (at least the 14 of the frame), written with backpressure. */
async function streamOversized(response: ServerResponse, bytes: number, signal: AbortSignal): Promise<void> {
  const head = '{"padding":"';
  const tail = '"}';
  const fill = Math.max(0, bytes - head.length - tail.length);
  response.writeHead(200, { "content-type": "application/json", "content-length": String(head.length + fill + tail.length) });
  const chunk = Buffer.alloc(64 * 1024, "x");
  let gone = false;
  const stop = () => (gone = true);
  response.once("close", stop);
  signal.addEventListener("abort", stop, { once: true });
  try {
    if (!response.write(head)) await drained(response);
    for (let left = fill; left > 0 && !gone; ) {
      const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= part.length;
      if (!response.write(part)) await drained(response);
    }
    if (!gone) response.end(tail);
  } catch {
    response.destroy();
  } finally {
    signal.removeEventListener("abort", stop);
  }
}

function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off("drain", done);
      response.off("close", done);
      resolve();
    };
    response.once("drain", done);
    response.once("close", done);
  });
}

/** Headers at once, then `{"padding":"` and one `x` per tick, until the client or the server gives up. */
function drip(response: ServerResponse, intervalMs: number, signal: AbortSignal): void {
  response.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
  response.write('{"padding":"');
  const timer = setInterval(() => {
    if (response.destroyed || response.writableEnded) return stop();
    response.write("x");
  }, intervalMs);
  const stop = () => {
    clearInterval(timer);
    signal.removeEventListener("abort", onAbort);
  };
  const onAbort = () => {
    stop();
    response.destroy();
  };
  response.once("close", stop);
  signal.addEventListener("abort", onAbort, { once: true });
}
