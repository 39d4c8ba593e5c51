import type { AuthMode } from "../../protocol/index.js";
import type { RequestHandler } from "../dispatcher.js";
import { currentAuthOrNull, type AccountDeps } from "./deps.js";

/** The modes whose bearer `getAuthStatus {includeToken: true}` may return; PATs and Agent Identity never. */
const TOKEN_REVEALING_MODES: ReadonlySet<AuthMode> = new Set(["apikey", "chatgpt", "chatgptAuthTokens"]);

/**
 * v1 `getAuthStatus`: the same AuthMode values as v2, the raw token only when asked and allowed.
 * `refreshToken: true` refreshes managed ChatGPT tokens first (external tokens ignore it). Managed
 * tokens whose refresh failed permanently are reported by mode with a null token, as Codex does.
 */
export function getAuthStatus(deps: AccountDeps): RequestHandler<"getAuthStatus"> {
  return async (params) => {
    if (params.refreshToken === true) await deps.auth.refreshManagedTokens();
    const auth = await currentAuthOrNull(deps);
    if (auth === null) return { authMethod: null, authToken: null, requiresOpenaiAuth: true };
    const reveal = params.includeToken === true && TOKEN_REVEALING_MODES.has(auth.mode) && !deps.auth.hasPermanentRefreshFailure(auth);
    // The one place the contract returns a secret: reveal at the point of use.
    const token = reveal ? auth.bearer.reveal() : null;
    return { authMethod: auth.mode, authToken: token && token.length > 0 ? token : null, requiresOpenaiAuth: true };
  };
}
