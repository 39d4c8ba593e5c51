import type { UsagePayload } from "../../generated/http/backend.js";
import { controlJson, parseJsonBody, type DevRequest, type Reply, type Route } from "./http.js";
import { REFRESH_FAILURES, type AuthorizeMode, type DeviceCodeSettings, type RefreshFailure, type WhoAmIRequiredField } from "./state.js";
import type { ScenarioControls } from "./scenario.js";
import { checkFault } from "./faults.js";
import type { DevAccount } from "./tokens.js";

/**
 * The control plane, `/__dev/...`: the scenario controls as JSON over HTTP, for the demo and for
 * tests that run the dev server as a child process. Requests here are not in the request log.
 * Bodies are JSON objects; answers are `{"ok": true, ...}` or `{"error": "..."}` with a 4xx.
 */

class BadControlRequest extends Error {}

type Body = Record<string, unknown>;

function optionalString(body: Body, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new BadControlRequest(`${key} must be a string`);
  return value;
}

function requiredString(body: Body, key: string): string {
  const value = optionalString(body, key);
  if (value === undefined) throw new BadControlRequest(`${key} is required`);
  return value;
}

function optionalNumber(body: Body, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) throw new BadControlRequest(`${key} must be a number`);
  return value;
}

function requiredNumber(body: Body, key: string): number {
  const value = optionalNumber(body, key);
  if (value === undefined) throw new BadControlRequest(`${key} is required`);
  return value;
}

function optionalAccount(body: Body, key = "account"): Partial<DevAccount> | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw new BadControlRequest(`${key} must be an object`);
  const raw = value as Body;
  const account: Partial<DevAccount> = {};
  for (const field of ["email", "userId", "accountId", "planType"] as const) {
    const text = optionalString(raw, field);
    if (text !== undefined) account[field] = text;
  }
  if (raw.isFedramp !== undefined) {
    if (typeof raw.isFedramp !== "boolean") throw new BadControlRequest("isFedramp must be a boolean");
    account.isFedramp = raw.isFedramp;
  }
  return account;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], key: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new BadControlRequest(`${key} must be one of ${allowed.join(", ")}`);
  return value as T;
}

function when<T>(value: T | undefined, apply: (value: T) => void): void {
  if (value !== undefined) apply(value);
}

export interface ControlContext {
  scenario: ScenarioControls;
  /** Base URLs and env vars, for a demo or a parent process that only knows the port. */
  describe(): Record<string, unknown>;
}

export function controlRoutes({ scenario, describe }: ControlContext): Route[] {
  const post = (path: string, action: (body: Body) => unknown): Route => ({
    method: "POST",
    path: `/__dev/${path}`,
    control: true,
    handle: (request) => runControl(request, action),
  });
  const get = (path: string, action: (query: URLSearchParams) => unknown): Route => ({
    method: "GET",
    path: `/__dev/${path}`,
    control: true,
    handle: (request) => controlJson(200, { ok: true, ...(action(request.query) as object) }),
  });

  return [
    get("state", () => ({ ...describe(), ...scenario.snapshot() })),
    get("requests", () => ({ requests: scenario.requests })),
    get("count", (query) => ({ count: scenario.count(query.get("method") ?? "GET", query.get("path") ?? "") })),
    post("pat", (body) => {
      const delay = body.delayMs === "never" ? Infinity : optionalNumber(body, "delayMs");
      const nullFields = body.nullFields;
      if (nullFields !== undefined && !(Array.isArray(nullFields) && nullFields.every((field) => typeof field === "string"))) {
        throw new BadControlRequest("nullFields must be an array of field names");
      }
      scenario.addPersonalAccessToken(requiredString(body, "token"), {
        ...definedEntries({
          account: optionalAccount(body),
          status: optionalNumber(body, "status"),
          delayMs: delay,
          nullFields: nullFields as WhoAmIRequiredField[] | undefined,
        }),
      });
    }),
    post("next-account", (body) => ({ account: scenario.setNextAccount(optionalAccount(body) ?? null) })),
    post("authorize-mode", (body) => {
      scenario.setAuthorizeMode(oneOf<AuthorizeMode>(requiredString(body, "mode"), ["page", "approve", "deny"], "mode"));
    }),
    post("access-token-ttl", (body) => scenario.setAccessTokenTtl(requiredNumber(body, "seconds"))),
    post("issue-tokens", (body) => {
      const ttlSeconds = optionalNumber(body, "ttlSeconds");
      const tokens = scenario.issueTokens(optionalAccount(body), ttlSeconds === undefined ? {} : { ttlSeconds });
      // The caller asked for these secrets: they go into the response, never into a log line.
      return { tokens: { id_token: tokens.idToken, access_token: tokens.accessToken, refresh_token: tokens.refreshToken, account_id: tokens.account.accountId }, expiresAt: tokens.expiresAt };
    }),
    post("refresh/fail", (body) => {
      const failure = oneOf<RefreshFailure>(requiredString(body, "code"), REFRESH_FAILURES, "code");
      scenario.failRefresh(failure, definedEntries({ refreshToken: optionalString(body, "refresh_token"), count: optionalNumber(body, "count") }));
    }),
    post("refresh/clear", () => scenario.clearRefreshFailures()),
    post("refresh/reuse", (body) => scenario.allowRefreshTokenReuse(body.allowed === true)),
    post("api-key-exchange/fail", (body) => scenario.failApiKeyExchange(optionalNumber(body, "status") ?? null)),
    post("device/settings", (body) => {
      const settings: Partial<DeviceCodeSettings> = {};
      if (body.enabled !== undefined) settings.enabled = body.enabled === true;
      when(optionalString(body, "interval"), (interval) => (settings.interval = interval));
      if (body.autoApproveAfterPolls === null) settings.autoApproveAfterPolls = null;
      when(optionalNumber(body, "autoApproveAfterPolls"), (polls) => (settings.autoApproveAfterPolls = polls));
      when(optionalNumber(body, "expiredStatus"), (status) => (settings.expiredStatus = status));
      when(optionalNumber(body, "ttlSeconds"), (seconds) => (settings.ttlSeconds = seconds));
      scenario.setDeviceCodeSettings(settings);
    }),
    post("device/approve", (body) => scenario.approveDeviceCode(optionalString(body, "user_code"))),
    post("device/expire", (body) => scenario.expireDeviceCode(optionalString(body, "user_code"))),
    post("fail-next", (body) => scenario.failNext(requiredString(body, "path"), requiredNumber(body, "status"), optionalNumber(body, "count"))),
    post("fault", (body) => {
      const count = body.count === "always" ? Infinity : optionalNumber(body, "count");
      try {
        scenario.injectFault(requiredString(body, "path"), checkFault(body.fault), count === undefined ? {} : { count });
      } catch (error) {
        throw error instanceof BadControlRequest ? error : new BadControlRequest(error instanceof Error ? error.message : String(error));
      }
    }),
    post("fault/clear", (body) => scenario.clearFaults(optionalString(body, "path"))),
    post("backend/fail-next", (body) => scenario.backend.failNext(requiredNumber(body, "status"), optionalNumber(body, "count"))),
    post("backend/revoke-bearer", (body) => scenario.backend.revokeBearer(requiredString(body, "token"))),
    post("backend/allow-bearer", (body) => scenario.backend.allowBearer(requiredString(body, "token"), optionalAccount(body))),
    post("backend/reject-issued-before", (body) => {
      const at = body.at;
      if (at === null) return scenario.backend.rejectTokensIssuedBefore(null);
      if (at === undefined) return scenario.backend.rejectTokensIssuedBefore();
      if (typeof at === "number") return scenario.backend.rejectTokensIssuedBefore(at);
      if (typeof at === "string" && !Number.isNaN(Date.parse(at))) return scenario.backend.rejectTokensIssuedBefore(new Date(at));
      throw new BadControlRequest("at must be epoch milliseconds, an ISO date, or null");
    }),
    post("backend/usage", (body) => scenario.backend.setUsage((body.payload ?? null) as UsagePayload | null)),
    post("saw-bearer", (body) => ({ seen: scenario.sawBearer(requiredString(body, "path"), requiredString(body, "token")) })),
  ];
}

/** Drops undefined values, so optional properties stay absent (`exactOptionalPropertyTypes`). */
function definedEntries<T extends Record<string, unknown>>(object: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

function runControl(request: DevRequest, action: (body: Body) => unknown): Reply {
  let body: Body = {};
  if (request.body.trim() !== "") {
    const parsed = parseJsonBody(request);
    if (!parsed.ok) return controlJson(400, { error: parsed.reason });
    body = parsed.value;
  }
  try {
    const result = action(body);
    return controlJson(200, { ok: true, ...(typeof result === "object" && result !== null ? result : {}) });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return controlJson(error instanceof BadControlRequest ? 400 : 409, { error: message });
  }
}
