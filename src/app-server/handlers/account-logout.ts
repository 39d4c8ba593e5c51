import { isAuthError } from "../../auth/errors.js";
import type { RequestHandler } from "../dispatcher.js";
import { internalError } from "../rpc.js";
import { currentAuthOrNull, type AccountDeps } from "./deps.js";

/**
 * `account/logout`: stops a pending login, removes stored credentials (revoking managed tokens)
 * and clears external tokens. `account/updated` then reports what remains (an env PAT stays).
 */
export function accountLogout(deps: AccountDeps): RequestHandler<"account/logout"> {
  return async (_params, context) => {
    deps.logins.cancelActive((completed) => deps.session.notify("account/login/completed", completed));
    try {
      await deps.auth.logout();
    } catch (error) {
      if (isAuthError(error)) throw internalError(`logout failed: ${error.message}`);
      throw error;
    }
    const remaining = await currentAuthOrNull(deps);
    context.notifyAfterResponse("account/updated", { authMode: remaining?.mode ?? null, planType: null, reason: null });
    return {};
  };
}
