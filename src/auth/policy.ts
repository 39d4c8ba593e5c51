import type { AuthMode } from "../../generated/protocol/common.js";
import type { AuthConfig } from "./config.js";
import { AuthError } from "./errors.js";

/**
 * `forced_login_method` and `forced_chatgpt_workspace_id`, with Codex's texts. **[differs]** The
 * workspace restriction is a client-side guardrail and is not applied to personal access tokens
 * (the contract's rule); it applies to chatgpt, chatgptAuthTokens and agentIdentity.
 */

/** Modes that count as "ChatGPT login" for `forced_login_method` (they use the Codex backend). */
export function usesChatgptLoginMethod(mode: AuthMode): boolean {
  return mode !== "apikey";
}

export function workspaceRestrictionApplies(mode: AuthMode): boolean {
  return mode === "chatgpt" || mode === "chatgptAuthTokens" || mode === "agentIdentity";
}

export function assertApiKeyLoginAllowed(config: AuthConfig): void {
  if (config.forcedLoginMethod === "chatgpt") disabled("API key login is disabled. Use ChatGPT login instead.");
}

export function assertAccessTokenLoginAllowed(config: AuthConfig): void {
  if (config.forcedLoginMethod === "api") disabled("Access token login is disabled. Use API key login instead.");
}

export function assertChatgptLoginAllowed(config: AuthConfig): void {
  if (config.forcedLoginMethod === "api") disabled("ChatGPT login is disabled. Use API key login instead.");
}

export function assertExternalAuthAllowed(config: AuthConfig): void {
  if (config.forcedLoginMethod === "api") disabled("External ChatGPT auth is disabled. Use API key login instead.");
}

/** The login-time workspace check (ChatGPT, device code, Agent Identity JWT). */
export function ensureLoginWorkspaceAllowed(config: AuthConfig, accountId: string | null): void {
  const allowed = config.forcedChatgptWorkspaceIds;
  if (allowed === null) return;
  if (accountId === null) {
    throw new AuthError("WORKSPACE_RESTRICTED", "Login is restricted to a specific workspace, but the token did not include an chatgpt_account_id claim.");
  }
  if (!allowed.includes(accountId)) {
    throw new AuthError("WORKSPACE_RESTRICTED", `Login is restricted to workspace id(s) ${allowed.join(", ")}.`);
  }
}

/** The app-server's check for tokens supplied by a parent app (`chatgptAuthTokens`). */
export function ensureExternalWorkspaceAllowed(config: AuthConfig, accountId: string): void {
  const allowed = config.forcedChatgptWorkspaceIds;
  if (allowed === null || allowed.includes(accountId)) return;
  throw new AuthError(
    "WORKSPACE_RESTRICTED",
    `External auth must use one of workspace(s) [${allowed.map(rustDebugString).join(", ")}], but received ${rustDebugString(accountId)}.`,
  );
}

/**
 * Why loaded auth must be ignored (Codex's `validate_auth_restrictions`: the auth is dropped, so
 * `login status` reports "Not logged in"), or null when it is allowed.
 */
export function authRestrictionViolation(config: AuthConfig, auth: { mode: AuthMode; accountId: string | null }): string | null {
  const method = loginMethodViolation(config, auth.mode);
  if (method !== null) return method;
  const allowed = config.forcedChatgptWorkspaceIds;
  if (allowed === null || !workspaceRestrictionApplies(auth.mode)) return null;
  if (auth.accountId === null) return `Login is restricted to workspace(s) ${allowed.join(", ")}, but current credentials lack a workspace identifier.`;
  if (!allowed.includes(auth.accountId)) return `Login is restricted to workspace(s) ${allowed.join(", ")}, but current credentials belong to ${auth.accountId}.`;
  return null;
}

export function loginMethodViolation(config: AuthConfig, mode: AuthMode): string | null {
  if (config.forcedLoginMethod === "api" && usesChatgptLoginMethod(mode)) return "API key login is required";
  if (config.forcedLoginMethod === "chatgpt" && !usesChatgptLoginMethod(mode)) return "ChatGPT login is required";
  return null;
}

function disabled(message: string): never {
  throw new AuthError("LOGIN_METHOD_DISABLED", message);
}

/** Rust's `{:?}` for a string, as Codex formats ids in this message. */
function rustDebugString(value: string): string {
  return JSON.stringify(value);
}
