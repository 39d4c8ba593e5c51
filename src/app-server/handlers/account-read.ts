import type { CurrentAuth } from "../../auth/manager.js";
import type { Account, GetAccountResponse } from "../../protocol/index.js";
import type { RequestHandler } from "../dispatcher.js";
import { currentAuthOrNull, type AccountDeps } from "./deps.js";

/**
 * `account/read`. `refreshToken: true` runs a guarded refresh of managed ChatGPT tokens first,
 * whatever their expiry (a failure is logged and the account still reported); external tokens
 * ignore it, since only the parent app can refresh them.
 */
export function accountRead(deps: AccountDeps): RequestHandler<"account/read"> {
  return async (params) => {
    if (params.refreshToken === true) await deps.auth.refreshManagedTokens();
    return toAccountResponse(await currentAuthOrNull(deps));
  };
}

export function toAccount(auth: CurrentAuth | null): Account | null {
  if (auth === null) return null;
  if (auth.mode === "apikey") return { type: "apiKey" };
  return { type: "chatgpt", email: auth.email, planType: auth.planType ?? "unknown" };
}

export function toAccountResponse(auth: CurrentAuth | null): GetAccountResponse {
  return {
    account: toAccount(auth),
    userId: auth === null || auth.mode === "apikey" ? null : auth.userId,
    requiresOpenaiAuth: true,
    workspaceRouting: null,
  };
}
