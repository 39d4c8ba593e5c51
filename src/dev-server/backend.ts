import type { AccountsCheckResponse, UsagePayload } from "../../generated/http/backend.js";
import { validateAccountsCheckResponse, validateUsagePayload } from "../../generated/http/backend.validators.js";
import { apiError, json, type DevRequest, type Reply, type Route } from "./http.js";
import type { DevState } from "./state.js";
import type { DevAccount } from "./tokens.js";

/**
 * The ChatGPT backend's usage endpoint, `GET /backend-api/wham/usage`. The bearer must be an
 * access token this issuer minted (unexpired, unrevoked, not older than the rejection cut-off), a
 * PAT whose whoami would succeed, or a bearer allowed by `backend.allowBearer`.
 *
 * A `ChatGPT-Account-Id` header naming another workspace than the bearer's gets a 403 (not a 401:
 * it is a client bug, and a refresh would not fix it, so it must not start 401 recovery).
 */
export const USAGE_PATH = "/backend-api/wham/usage";

/**
 * Workspace routing discovery, which Codex 0.169.0+ calls after a ChatGPT login and on
 * `account/read {refreshToken: true}`: the bearer's workspace, served (Codex insists on HTTPS) by
 * this server's host and port, with the routing override Codex accepts. Codex only reports the
 * origin; its backend requests keep going to `chatgpt_base_url`.
 */
export const ACCOUNTS_CHECK_PATH = "/backend-api/wham/accounts/check";
export const ACCOUNT_ROUTING_OVERRIDE = "us";

type BearerCheck = { ok: true; account: DevAccount } | { ok: false; code: string; message: string };

export function backendRoutes(state: DevState): Route[] {
  return [
    {
      method: "GET",
      path: USAGE_PATH,
      api: "backend",
      handle(request): Reply {
        const check = authorize(state, request);
        if (!check.ok) return check.reply;
        return json(200, state.usage ?? defaultUsage(check.account), validateUsagePayload);
      },
    },
    {
      method: "GET",
      path: ACCOUNTS_CHECK_PATH,
      api: "backend",
      handle(request): Reply {
        const check = authorize(state, request);
        if (!check.ok) return check.reply;
        return json(200, accountsCheck(state, check.account), validateAccountsCheckResponse);
      },
    },
  ];
}

function authorize(state: DevState, request: DevRequest): { ok: true; account: DevAccount } | { ok: false; reply: Reply } {
  if (request.bearer === null) return { ok: false, reply: apiError("backend", 401, "missing_authorization", "A bearer token is required.") };
  const check = checkBearer(state, request.bearer);
  if (!check.ok) return { ok: false, reply: apiError("backend", 401, check.code, check.message) };
  const workspace = request.headers["chatgpt-account-id"];
  if (typeof workspace === "string" && workspace !== check.account.accountId) {
    return { ok: false, reply: apiError("backend", 403, "account_mismatch", "ChatGPT-Account-Id does not match the bearer's workspace.") };
  }
  return check;
}

function accountsCheck(state: DevState, account: DevAccount): AccountsCheckResponse {
  const origin = state.url.replace(/^http:/, "https:");
  return {
    accounts: [{ id: account.accountId, workspace_backend_origin: origin, account_routing_override: ACCOUNT_ROUTING_OVERRIDE }],
    account_ordering: [account.accountId],
  };
}

function checkBearer(state: DevState, bearer: string): BearerCheck {
  if (state.revokedBearers.has(bearer)) return { ok: false, code: "token_revoked", message: "The bearer has been revoked." };
  const allowed = state.allowedBearers.get(bearer);
  if (allowed) return { ok: true, account: allowed };
  const accessToken = state.accessTokens.get(bearer);
  if (accessToken) {
    if (Date.now() >= accessToken.expiresAtMs) return { ok: false, code: "token_expired", message: "The access token has expired." };
    const cutoff = state.rejectAccessTokensIssuedBeforeMs;
    if (cutoff !== null && accessToken.issuedAtMs < cutoff) {
      return { ok: false, code: "token_invalidated", message: "The access token was issued before the cut-off; refresh it." };
    }
    return { ok: true, account: accessToken.account };
  }
  const pat = state.personalAccessTokens.get(bearer);
  if (pat?.status === 200) return { ok: true, account: pat.account };
  return { ok: false, code: "invalid_token", message: "The bearer is unknown." };
}

function defaultUsage(account: DevAccount): UsagePayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    plan_type: account.planType,
    rate_limit: {
      allowed: true,
      limit_reached: false,
      primary_window: { used_percent: 12, limit_window_seconds: 18_000, reset_after_seconds: 9_000, reset_at: now + 9_000 },
      secondary_window: { used_percent: 3, limit_window_seconds: 604_800, reset_after_seconds: 302_400, reset_at: now + 302_400 },
    },
    credits: { has_credits: false, unlimited: false, balance: "0" },
  };
}
