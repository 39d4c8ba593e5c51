import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Validator } from "../../generated/validator.js";
import { faultStatus, sendFault, type NetworkFault } from "./faults.js";
import { authApiResponseValidators } from "../../generated/http/authapi.client.js";
import { backendResponseValidators } from "../../generated/http/backend.client.js";
import { oAuthResponseValidators } from "../../generated/http/oauth.client.js";
import { validateAuthApiError } from "../../generated/http/authapi.validators.js";
import { validateBackendError } from "../../generated/http/backend.validators.js";
import { validateOAuthError } from "../../generated/http/oauth.validators.js";

/**
 * The dev server's HTTP layer: exact-path routing, body parsing, and the one place responses are
 * written, where every JSON body of a contract route is validated against the generated
 * validators. A body that does not match is a dev-server bug: it is replaced by a loud 500.
 */

/** Which OpenAPI spec a route implements, and the base path its spec paths are relative to. */
export type Api = "authapi" | "oauth" | "backend";
const API_BASE_PATH: Record<Api, string> = { authapi: "/api/accounts", oauth: "", backend: "/backend-api" };
const API_RESPONSE_VALIDATORS: Record<Api, Record<string, Record<string, Validator<unknown>>>> = {
  authapi: authApiResponseValidators,
  oauth: oAuthResponseValidators,
  backend: backendResponseValidators,
};

export interface DevRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** The `Authorization: Bearer` value, or null. A secret: never log it. */
  readonly bearer: string | null;
  /** The media type without parameters, lower-cased ("" when absent). */
  readonly contentType: string;
  readonly body: string;
  /** Aborted when the server closes, so held requests (slow tokens) let go. */
  readonly signal: AbortSignal;
  /** Extra, non-secret facts for the request log (the OAuth grant type). */
  readonly notes: { grantType?: string };
}

export type Reply =
  | { kind: "json"; status: number; body: unknown; validate: Validator<unknown> | null; nonConformingBecause?: string }
  | { kind: "html" | "text"; status: number; body: string }
  | { kind: "redirect"; location: string }
  | { kind: "empty"; status: number }
  /** The server is closing: drop the connection without an answer. */
  | { kind: "dropped" }
  /** An injected network fault (faults.ts), written outside the contract check on purpose. */
  | { kind: "fault"; fault: NetworkFault; path: string; errorBody: unknown };

/** A JSON body that must match `validate` (checked again when it is sent). */
export function json<T>(status: number, body: T, validate: Validator<T>): Reply {
  return { kind: "json", status, body, validate: validate as Validator<unknown> };
}

/**
 * A JSON body that deliberately breaks the contract, so tests can prove clients fail closed.
 * `because` says why; it is the only way a contract route may skip validation.
 */
export function nonConformingJson(status: number, body: unknown, because: string): Reply {
  return { kind: "json", status, body, validate: null, nonConformingBecause: because };
}

/** A JSON body of the `/__dev/` control plane, which belongs to no contract. */
export function controlJson(status: number, body: unknown): Reply {
  return { kind: "json", status, body, validate: null };
}

export const html = (status: number, body: string): Reply => ({ kind: "html", status, body });
export const text = (status: number, body: string): Reply => ({ kind: "text", status, body });
export const redirect = (location: string): Reply => ({ kind: "redirect", location });
export const empty = (status: number): Reply => ({ kind: "empty", status });
export const dropped: Reply = { kind: "dropped" };

/** An error body in the error schema of `api`, validated like any other. */
export function apiError(api: Api, status: number, code: string, message: string): Reply {
  switch (api) {
    case "authapi":
      return json(status, { error: { code, message } }, validateAuthApiError);
    case "oauth":
      return json(status, { error: { code, message } }, validateOAuthError);
    case "backend":
      return json(status, { detail: `${code}: ${message}` }, validateBackendError);
  }
}

export interface Route {
  readonly method: "GET" | "POST";
  readonly path: string;
  /** The spec the route implements; absent for browser pages and the control plane. */
  readonly api?: Api;
  /** Control-plane routes are not part of the request log. */
  readonly control?: boolean;
  handle(request: DevRequest): Reply | Promise<Reply>;
}

/** What the dispatcher tells its owner about each request. */
export interface DispatchHooks {
  /** Called on arrival (status 0) and again once answered; returns a function to set the status. */
  onRequest(request: DevRequest, route: Route | undefined): (status: number) => void;
  /** An injected failure that replaces the route's answer, or null. */
  interceptor(request: DevRequest, route: Route): Reply | null;
  onContractViolation(description: string): void;
  log(line: string): void;
}

const MAX_BODY_BYTES = 1 << 20;

export function createDevHttpServer(routes: readonly Route[], hooks: DispatchHooks, signal: AbortSignal): Server {
  const table = new Map(routes.map((route) => [`${route.method} ${route.path}`, route]));
  const knownPaths = new Set(routes.map((route) => route.path));

  return createServer((incoming, response) => {
    void (async () => {
      const request = await readRequest(incoming, signal).catch(() => undefined);
      if (request === undefined) {
        response.destroy(); // the client went away mid-body
        return;
      }
      if (request === null) {
        send(response, text(413, "Request body too large"), { signal, log: hooks.log });
        return;
      }
      const route = table.get(`${request.method} ${request.path}`);
      const settle = hooks.onRequest(request, route);
      let reply: Reply;
      if (!route) {
        reply = knownPaths.has(request.path) ? text(405, "Method Not Allowed") : text(404, "Not Found");
      } else {
        try {
          reply = hooks.interceptor(request, route) ?? (await route.handle(request));
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          hooks.log(`dev-server: ERROR in ${request.method} ${request.path}: ${message}`);
          reply = route.api ? apiError(route.api, 500, "dev_server_error", message) : controlJson(500, { error: { code: "dev_server_error", message } });
        }
        reply = checkContract(reply, request, route, hooks);
      }
      const status = statusOf(reply);
      settle(status);
      send(response, reply, { signal, log: hooks.log });
    })();
  });
}

async function readRequest(incoming: IncomingMessage, signal: AbortSignal): Promise<DevRequest | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  const url = new URL(incoming.url ?? "/", "http://dev-server.invalid");
  const authorization = incoming.headers.authorization ?? "";
  const bearerMatch = /^Bearer[ \t]+(\S+)\s*$/i.exec(authorization);
  return {
    method: (incoming.method ?? "GET").toUpperCase(),
    path: url.pathname,
    query: url.searchParams,
    headers: incoming.headers,
    bearer: bearerMatch?.[1] ?? null,
    contentType: (incoming.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase(),
    body: Buffer.concat(chunks).toString("utf8"),
    signal,
    notes: {},
  };
}

/**
 * Validates a contract route's JSON body twice over: against the validator the handler chose, and
 * against the one the generated response table declares for that status (so a handler cannot
 * pick the wrong schema). A failure is a dev-server bug, answered with a 500 and reported.
 */
function checkContract(reply: Reply, request: DevRequest, route: Route, hooks: DispatchHooks): Reply {
  if (reply.kind !== "json" || !route.api) return reply;
  if (reply.nonConformingBecause !== undefined) {
    hooks.log(`dev-server: deliberately non-conforming ${reply.status} body for ${request.method} ${request.path}: ${reply.nonConformingBecause}`);
    return reply;
  }
  const specPath = route.path.slice(API_BASE_PATH[route.api].length);
  const declared = API_RESPONSE_VALIDATORS[route.api][`${route.method} ${specPath}`]?.[String(reply.status)];
  const problems: string[] = [];
  for (const validate of [reply.validate, declared]) {
    if (!validate) continue;
    if (!validate(reply.body)) problems.push(describeErrors(validate));
  }
  if (reply.validate === null) problems.push("no response validator was given");
  if (problems.length === 0) return reply;
  const description = `${request.method} ${request.path} ${reply.status}: ${problems.join("; ")}`;
  hooks.log(`dev-server: CONTRACT VIOLATION in response to ${description}`);
  hooks.onContractViolation(description);
  return controlJson(500, { error: { code: "dev_server_contract_violation", message: description } });
}

/** Paths and Ajv messages only: never the offending value, which could be a token. */
export function describeErrors(validate: Validator<unknown>): string {
  const errors = validate.errors ?? [];
  if (errors.length === 0) return "invalid body";
  return errors.map((error) => `${error.instancePath || "body"} ${error.message ?? error.keyword}`).join(", ");
}

function statusOf(reply: Reply): number {
  switch (reply.kind) {
    case "redirect":
      return 302;
    case "dropped":
      return 0;
    case "fault":
      return faultStatus(reply.fault);
    default:
      return reply.status;
  }
}

function send(response: ServerResponse, reply: Reply, context: { signal: AbortSignal; log: (line: string) => void }): void {
  switch (reply.kind) {
    case "json":
      writeBody(response, reply.status, "application/json", JSON.stringify(reply.body));
      return;
    case "html":
      writeBody(response, reply.status, "text/html; charset=utf-8", reply.body);
      return;
    case "text":
      writeBody(response, reply.status, "text/plain; charset=utf-8", reply.body);
      return;
    case "redirect":
      response.writeHead(302, { location: reply.location, "content-length": "0" }).end();
      return;
    case "empty":
      response.writeHead(reply.status, { "content-length": "0" }).end();
      return;
    case "dropped":
      response.destroy();
      return;
    case "fault":
      sendFault(response, reply.fault, { path: reply.path, errorBody: reply.errorBody, ...context });
      return;
  }
}

function writeBody(response: ServerResponse, status: number, contentType: string, body: string): void {
  response
    .writeHead(status, {
      "content-type": contentType,
      "content-length": String(Buffer.byteLength(body)),
      "cache-control": "no-store",
    })
    .end(body);
}

export type ParsedBody = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

/** A JSON object body (`application/json`), or why not. */
export function parseJsonBody(request: DevRequest): ParsedBody {
  if (request.contentType !== "application/json") return { ok: false, reason: `expected application/json, got ${request.contentType || "no content type"}` };
  try {
    const value: unknown = JSON.parse(request.body);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false, reason: "the body is not a JSON object" };
    return { ok: true, value: value as Record<string, unknown> };
  } catch {
    return { ok: false, reason: "the body is not valid JSON" };
  }
}

/** A form body (`application/x-www-form-urlencoded`) as an object of its first values. */
export function parseFormBody(request: DevRequest): ParsedBody {
  if (request.contentType !== "application/x-www-form-urlencoded") {
    return { ok: false, reason: `expected application/x-www-form-urlencoded, got ${request.contentType || "no content type"}` };
  }
  const value: Record<string, unknown> = {};
  for (const [key, entry] of new URLSearchParams(request.body)) if (!(key in value)) value[key] = entry;
  return { ok: true, value };
}

/** Resolves after `ms` (never when `ms` is not finite), or "aborted" when the server closes. */
export function holdFor(ms: number, signal: AbortSignal): Promise<"elapsed" | "aborted"> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve("aborted");
    const timer = Number.isFinite(ms) ? setTimeout(() => finish("elapsed"), Math.max(0, ms)) : undefined;
    const onAbort = (): void => finish("aborted");
    function finish(outcome: "elapsed" | "aborted"): void {
      if (timer !== undefined) clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(outcome);
    }
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
