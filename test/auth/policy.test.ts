import { describe, expect, it } from "vitest";
import { authConfigFromTable } from "../../src/auth/config.js";
import {
  assertAccessTokenLoginAllowed,
  assertApiKeyLoginAllowed,
  assertChatgptLoginAllowed,
  assertExternalAuthAllowed,
  authRestrictionViolation,
  workspaceRestrictionApplies,
} from "../../src/auth/policy.js";

const forced = (table: Record<string, unknown>) => authConfigFromTable(table);

describe("login method gates (Codex's CLI texts)", () => {
  it("blocks each method under the other forced method", () => {
    expect(() => assertApiKeyLoginAllowed(forced({ forced_login_method: "chatgpt" }))).toThrow("API key login is disabled. Use ChatGPT login instead.");
    expect(() => assertAccessTokenLoginAllowed(forced({ forced_login_method: "api" }))).toThrow("Access token login is disabled. Use API key login instead.");
    expect(() => assertChatgptLoginAllowed(forced({ forced_login_method: "api" }))).toThrow("ChatGPT login is disabled. Use API key login instead.");
    expect(() => assertExternalAuthAllowed(forced({ forced_login_method: "api" }))).toThrow("External ChatGPT auth is disabled. Use API key login instead.");
    expect(() => assertApiKeyLoginAllowed(forced({ forced_login_method: "api" }))).not.toThrow();
    expect(() => assertAccessTokenLoginAllowed(forced({}))).not.toThrow();
  });
});

describe("authRestrictionViolation", () => {
  const ws = forced({ forced_chatgpt_workspace_id: ["ws-1", "ws-2"] });

  it("applies the workspace restriction to chatgpt, chatgptAuthTokens and agentIdentity, not to PATs or API keys", () => {
    expect(workspaceRestrictionApplies("personalAccessToken")).toBe(false);
    expect(workspaceRestrictionApplies("apikey")).toBe(false);
    expect(authRestrictionViolation(ws, { mode: "personalAccessToken", accountId: "elsewhere" })).toBeNull();
    expect(authRestrictionViolation(ws, { mode: "apikey", accountId: null })).toBeNull();
    expect(authRestrictionViolation(ws, { mode: "chatgpt", accountId: "ws-2" })).toBeNull();
    expect(authRestrictionViolation(ws, { mode: "chatgpt", accountId: "elsewhere" })).toBe(
      "Login is restricted to workspace(s) ws-1, ws-2, but current credentials belong to elsewhere.",
    );
    expect(authRestrictionViolation(ws, { mode: "agentIdentity", accountId: null })).toBe(
      "Login is restricted to workspace(s) ws-1, ws-2, but current credentials lack a workspace identifier.",
    );
    expect(authRestrictionViolation(ws, { mode: "chatgptAuthTokens", accountId: "elsewhere" })).not.toBeNull();
  });

  it("drops auth of the wrong method", () => {
    expect(authRestrictionViolation(forced({ forced_login_method: "api" }), { mode: "personalAccessToken", accountId: "a" })).toBe("API key login is required");
    expect(authRestrictionViolation(forced({ forced_login_method: "chatgpt" }), { mode: "apikey", accountId: null })).toBe("ChatGPT login is required");
  });
});
