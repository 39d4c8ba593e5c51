import { isAuthError } from "../../auth/errors.js";
import type { CurrentAuth } from "../../auth/manager.js";
import type { UsagePayload, UsageResult } from "../../http/backend.js";
import { HttpError } from "../../http/request.js";
import { toPlanType, type GetAccountRateLimitsResponse, type RateLimitSnapshot, type RateLimitWindow } from "../../protocol/index.js";
import type { RequestHandler } from "../dispatcher.js";
import { ExternalRefreshError } from "../external-refresh.js";
import { internalError, invalidRequest } from "../rpc.js";
import type { AccountDeps } from "./deps.js";

const FAILED = "failed to fetch codex rate limits";

/**
 * `account/rateLimits/read`: the backend's usage snapshot, through the shared 401 recovery (none for
 * PATs; reload then refresh for managed ChatGPT tokens; asking the parent app for external tokens).
 */
export function accountRateLimitsRead(deps: AccountDeps): RequestHandler<"account/rateLimits/read"> {
  return async () => {
    let auth: CurrentAuth | null;
    try {
      auth = await deps.auth.current();
    } catch (error) {
      if (isAuthError(error)) throw internalError(`${FAILED}: ${error.message}`);
      throw error;
    }
    if (auth === null) throw invalidRequest("codex account authentication required to read rate limits");
    if (auth.mode === "apikey") throw invalidRequest("chatgpt authentication required to read rate limits");

    let result: UsageResult;
    try {
      result = await deps.auth.recoveryFor(auth).run(usageSender(deps, auth), (answer) => answer.status === 401);
    } catch (error) {
      if (error instanceof HttpError) throw internalError(`${FAILED}: ${describeHttpFailure(error, deps.usageUrl)}`);
      if (error instanceof ExternalRefreshError || isAuthError(error) || (await isRefreshTokenError(error))) throw internalError(`${FAILED}: ${(error as Error).message}`);
      throw error;
    }
    if (result.status === 401) throw internalError(`${FAILED}: GET ${deps.usageUrl} failed: 401 Unauthorized`);
    return toRateLimitsResponse(result.usage);
  };
}

/** The refresh module (OAuth client, its validators, the lock) loads on this error path only, not at server start. */
async function isRefreshTokenError(error: unknown): Promise<boolean> {
  if (!(error instanceof Error) || error.name !== "RefreshTokenError") return false;
  return error instanceof (await import("../../auth/chatgpt/refresh.js")).RefreshTokenError;
}

/** Codex's wording: `GET <url> failed: 500 Internal Server Error`, `Decode error for <url>: ...`. */
function describeHttpFailure(error: HttpError, url: string): string {
  switch (error.code) {
    case "STATUS":
      return `GET ${url} failed: ${error.message}`;
    case "INVALID_RESPONSE":
      return `Decode error for ${url}: ${error.message}`;
    default:
      return error.message;
  }
}

/**
 * The request recovery retries: the first call uses the auth the handler checked, a retry the auth
 * in effect then (new tokens after a refresh, a reload or a concurrent request's recovery).
 */
function usageSender(deps: AccountDeps, first: CurrentAuth): () => Promise<UsageResult> {
  let next: CurrentAuth | null = first;
  return async () => {
    const using = next ?? (await deps.auth.current());
    next = null;
    if (using === null) return { status: 401 };
    return deps.fetchUsage({ bearer: using.bearer, accountId: using.accountId });
  };
}

export function toRateLimitsResponse(usage: UsagePayload, nowSeconds = Math.floor(Date.now() / 1000)): GetAccountRateLimitsResponse {
  const window = (raw: NonNullable<NonNullable<UsagePayload["rate_limit"]>["primary_window"]> | null | undefined): RateLimitWindow | null => {
    if (!raw) return null;
    const resetsAt = raw.reset_at ?? (raw.reset_after_seconds == null ? null : nowSeconds + raw.reset_after_seconds);
    return {
      usedPercent: Math.round(raw.used_percent),
      // Codex rounds a partial minute up (18001 s → 301 min).
      windowDurationMins: raw.limit_window_seconds == null ? null : Math.ceil(raw.limit_window_seconds / 60),
      resetsAt,
    };
  };
  const credits = usage.credits;
  const snapshot: RateLimitSnapshot = {
    limitId: "codex",
    limitName: null,
    primary: window(usage.rate_limit?.primary_window),
    secondary: window(usage.rate_limit?.secondary_window),
    credits: credits ? { hasCredits: credits.has_credits, unlimited: credits.unlimited, balance: credits.balance == null ? null : String(credits.balance) } : null,
    planType: toPlanType(usage.plan_type),
    rateLimitReachedType: null,
  };
  return { rateLimits: snapshot, rateLimitsByLimitId: { codex: snapshot } };
}
