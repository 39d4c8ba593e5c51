import { afterEach, expect } from "vitest";
import type { Validator } from "../../generated/validator.js";
import { authApiResponseValidators } from "../../generated/http/authapi.client.js";
import { backendResponseValidators } from "../../generated/http/backend.client.js";
import { oAuthResponseValidators } from "../../generated/http/oauth.client.js";
import { validateAuthApiError } from "../../generated/http/authapi.validators.js";
import { validateBackendError } from "../../generated/http/backend.validators.js";
import { validateOAuthError } from "../../generated/http/oauth.validators.js";
import { startDevServer, type DevServer, type DevServerOptions } from "../../src/dev-server/index.js";

/**
 * Test helpers: a dev server per test (closed afterwards, with its contract-violation list and
 * its log checked), and `call`, which checks every JSON response against the generated
 * validators on the client side, independently of the server's own check.
 */

export interface Started {
  server: DevServer;
  logLines: string[];
}

const running: Started[] = [];

afterEach(async () => {
  for (const { server } of running.splice(0)) {
    await server.close();
    expect(server.contractViolations).toEqual([]);
  }
});

/** Starts a dev server that is closed (and checked for contract violations) after the test. */
export async function start(options: DevServerOptions = {}): Promise<Started> {
  const logLines: string[] = [];
  const server = await startDevServer({ log: (line) => logLines.push(line), ...options });
  const started = { server, logLines };
  running.push(started);
  return started;
}

/** Response validators by spec: [base path, generated table, the API's error schema]. */
const CONTRACTS: Array<[string, Record<string, Record<string, Validator<unknown>>>, Validator<unknown>]> = [
  ["/api/accounts/v1/", authApiResponseValidators, validateAuthApiError],
  ["/backend-api/", backendResponseValidators, validateBackendError],
  ["", oAuthResponseValidators, validateOAuthError],
];
const BASE_PATHS: Record<string, string> = { "/api/accounts/v1/": "/api/accounts", "/backend-api/": "/backend-api", "": "" };

/** The validator the specs give this response: the declared one, else the API's error schema. */
export function contractValidator(method: string, path: string, status: number): Validator<unknown> | null {
  if (path.startsWith("/__dev/")) return null;
  for (const [prefix, table, errorSchema] of CONTRACTS) {
    if (!path.startsWith(prefix)) continue;
    const declared = table[`${method} ${path.slice(BASE_PATHS[prefix]!.length)}`];
    if (!declared) continue;
    return declared[String(status)] ?? (status >= 400 ? errorSchema : null);
  }
  return null;
}

export interface CallOptions {
  bearer?: string;
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /** The one deliberately non-conforming body (at-demo-missing-email) is not checked. */
  nonConforming?: boolean;
}

export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

/** One request; the response must conform to the contract unless `nonConforming`. */
export async function call(server: DevServer, method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.bearer !== undefined) headers.authorization = `Bearer ${options.bearer}`;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.form !== undefined) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(options.form).toString();
  }
  const response = await fetch(`${server.url}${path}`, { method, headers, redirect: "manual", ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  const isJson = (response.headers.get("content-type") ?? "").startsWith("application/json");
  const parsed: unknown = isJson ? JSON.parse(text) : undefined;
  const pathname = new URL(path, server.url).pathname;
  const validate = contractValidator(method, pathname, response.status);
  if (validate && !options.nonConforming) {
    expect(isJson, `${method} ${pathname} ${response.status} should be JSON`).toBe(true);
    expect(validate(parsed), `${method} ${pathname} ${response.status}: ${JSON.stringify(validate.errors)}`).toBe(true);
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

/** Decodes a JWT's claims (no signature check: clients do not check either). */
export function jwtClaims(token: string): Record<string, unknown> {
  const [, payload] = token.split(".");
  return JSON.parse(Buffer.from(payload!, "base64url").toString("utf8")) as Record<string, unknown>;
}

/** Polls until `condition` holds: the shared helper (test/support/helpers.ts), kept under this path. */
export { until } from "../support/helpers.js";
