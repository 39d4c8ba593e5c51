import { isAuthError } from "../auth/errors.js";
import type { AuthManager, CurrentAuth } from "../auth/manager.js";
import type { AccountsCheckResponse, BackendRequestAuth } from "../http/backend.js";
import { HttpError } from "../http/request.js";
import type { ServerNotifications } from "../protocol/index.js";
import type { Logger } from "./log.js";

/**
 * Workspace routing discovery at start-up, as Codex 0.171.0 does it (measured against the real
 * binary): with a PAT (`CODEX_ACCESS_TOKEN`) or stored ChatGPT tokens it asks
 * `GET {chatgpt_base_url}wham/accounts/check` once, and when the selected workspace is listed with
 * an HTTPS backend origin it sends one `account/updated {authMode, planType, reason:
 * "workspaceRoutingReady"}` after the `initialize` response. API keys and no auth: no request. A
 * failed check sends nothing. codex-auth only reports readiness; its backend calls keep going to
 * `chatgpt_base_url`.
 */
const ROUTED_MODES: ReadonlySet<CurrentAuth["mode"]> = new Set(["chatgpt", "personalAccessToken"]);

export interface WorkspaceRoutingDeps {
  auth: AuthManager;
  checkAccounts(auth: BackendRequestAuth): Promise<AccountsCheckResponse>;
  notify(params: ServerNotifications["account/updated"]["params"]): void;
  log: Logger;
}

/** Runs the discovery once; never throws (a failure is one secret-free line on stderr). */
export async function discoverWorkspaceRouting(deps: WorkspaceRoutingDeps): Promise<void> {
  try {
    const auth = await deps.auth.current();
    if (auth === null || auth.source === "external" || !ROUTED_MODES.has(auth.mode)) return;
    const answer = await deps.checkAccounts({ bearer: auth.bearer, accountId: auth.accountId });
    const problem = routingProblem(answer, auth.accountId);
    if (problem !== null) {
      deps.log.warn(`workspace routing discovery failed: ${problem}`);
      return;
    }
    deps.notify({ authMode: auth.mode, planType: auth.planType, reason: "workspaceRoutingReady" });
  } catch (error) {
    // The server is ending (stdin EOF, a signal): nobody is waiting for the answer.
    if (error instanceof HttpError && error.code === "CANCELLED") return;
    // HttpError and auth errors carry only the contract's texts and a URL without credentials.
    const detail = error instanceof HttpError || isAuthError(error) ? error.message : error instanceof Error ? error.name : "unknown error";
    deps.log.warn(`workspace routing discovery failed: ${detail}`);
  }
}

/** Codex's acceptance rule: the selected workspace is listed once, with an HTTPS backend origin. */
function routingProblem(answer: AccountsCheckResponse, accountId: string | null): string | null {
  const entries = answer.accounts.filter((entry) => accountId === null || entry.id === accountId);
  if (entries.length !== 1) return "selected workspace missing from routing discovery";
  const entry = entries[0]!;
  if (!URL.canParse(entry.workspace_backend_origin) || new URL(entry.workspace_backend_origin).protocol !== "https:") {
    return "selected workspace missing backend origin";
  }
  if (entry.account_routing_override.trim() === "") return "invalid account routing override";
  return null;
}
