import type { CurrentAuth } from "../../auth/manager.js";
import type { Account, GetAccountResponse } from "../../protocol/index.js";
import type { RequestHandler } from "../dispatcher.js";
import { StableResultCache } from "../stable-results.js";
import { currentAuthOrNull, type AccountDeps } from "./deps.js";

/**
 * `account/read`. `refreshToken: true` runs a guarded refresh of managed ChatGPT tokens first,
 * whatever their expiry (a failure is logged and the account still reported); external tokens
 * ignore it, since only the parent app can refresh them.
 */
export function accountRead(deps: AccountDeps): RequestHandler<"account/read"> {
  // While the account stays the same, the same (frozen) response goes out: serialized once.
  const responses = new StableResultCache(accountResponse);
  return async (params) => {
    if (params.refreshToken === true) await deps.auth.refreshManagedTokens();
    const auth = await currentAuthOrNull(deps);
    // The key is every field `toAccountResponse` reads (`AccountFields`).
    return auth === null ? responses.get(null, null, null, null) : responses.get(auth.mode, auth.email, auth.planType, auth.userId);
  };
}

/** `toAccountResponse` from the only fields it reads (null mode: no auth). */
function accountResponse(mode: CurrentAuth["mode"] | null, email: string | null, planType: CurrentAuth["planType"], userId: string | null): GetAccountResponse {
  return toAccountResponse(mode === null ? null : { mode, email, planType, userId });
}

/** What an account response is made of (its type lets the response cache key on exactly these). */
type AccountFields = Pick<CurrentAuth, "mode" | "email" | "planType" | "userId">;

export function toAccount(auth: AccountFields | null): Account | null {
  if (auth === null) return null;
  if (auth.mode === "apikey") return { type: "apiKey" };
  return { type: "chatgpt", email: auth.email, planType: auth.planType ?? "unknown" };
}

export function toAccountResponse(auth: AccountFields | null): GetAccountResponse {
  return {
    account: toAccount(auth),
    userId: auth === null || auth.mode === "apikey" ? null : auth.userId,
    requiresOpenaiAuth: true,
    workspaceRouting: null,
  };
}
