import type { AuthConfig } from "../../auth/config.js";
import { isAuthError } from "../../auth/errors.js";
import type { AuthManager, CurrentAuth } from "../../auth/manager.js";
import type { BackendRequestAuth, UsageResult } from "../../http/backend.js";
import type { Logger } from "../log.js";
import type { LoginFlows, PendingLogins } from "../logins.js";
import type { Session } from "../session.js";

/** What the account handlers work with; built once per server in server.ts. */
export interface AccountDeps {
  readonly auth: AuthManager;
  readonly config: AuthConfig;
  readonly session: Session;
  readonly logins: PendingLogins;
  readonly flows: LoginFlows;
  readonly log: Logger;
  /** The `-c key=value` overrides the server was started with (`config/read` reads the layers again). */
  readonly configOverrides: readonly string[];
  /** GET wham/usage for the given credential. */
  fetchUsage(auth: BackendRequestAuth): Promise<UsageResult>;
  /** `{chatgpt_base_url}wham/usage`, for messages. */
  readonly usageUrl: string;
}

/** Codex's refusal while a parent app's tokens are active. */
export const EXTERNAL_AUTH_ACTIVE =
  "External auth is active. Use account/login/start (chatgptAuthTokens) to update it or account/logout to clear it.";

/**
 * The auth in effect, or null. A credential that cannot be loaded (a revoked PAT, a broken
 * auth.json) counts as no auth for reads, as in Codex; the reason goes to stderr.
 */
export async function currentAuthOrNull(deps: Pick<AccountDeps, "auth" | "log">): Promise<CurrentAuth | null> {
  try {
    return await deps.auth.current();
  } catch (error) {
    if (!isAuthError(error)) throw error;
    deps.log.warn(`ignoring credentials that could not be loaded: ${error.message}`);
    return null;
  }
}
