import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AuthDotJson } from "../../generated/storage/auth-json.js";
import { isChatgptLoginError } from "../../src/auth/chatgpt/errors.js";
import { authConfigFromTable, DEFAULT_AUTH_CONFIG, type AuthConfig } from "../../src/auth/config.js";
import { AuthManager, type CurrentAuth } from "../../src/auth/manager.js";
import { startDevServer, type DevServer, type IssuedTokens } from "../../src/dev-server/index.js";
import { fetchUsage } from "../../src/http/backend.js";
import { tempDir, type TempDir } from "../support/cli-process.js";
import { assertNoSecrets } from "../support/secrets.js";
import { visitAuthorizeUrl } from "./chatgpt/support.js";

/**
 * The AuthManager with managed ChatGPT tokens, against the dev issuer: proactive refresh in
 * current(), forced refresh, permanent failures remembered, the managed 401 recovery, revoke on
 * logout, and the two logins under the manager's policy.
 */
let dev: DevServer;
let home: TempDir;
let logLines: string[];
const TOKEN = "/oauth/token";
const authPath = () => path.join(home.dir, "auth.json");
const readAuth = () => JSON.parse(readFileSync(authPath(), "utf8")) as AuthDotJson;

beforeAll(async () => {
  dev = await startDevServer({ port: 0 });
});
afterAll(async () => {
  await dev.close();
});
beforeEach(() => {
  home = tempDir("codex-auth-manager-chatgpt-");
  logLines = [];
  dev.clearRefreshFailures();
  dev.setAuthorizeMode("approve");
  dev.setNextAccount(null);
});
afterEach(() => home.remove());

function manager(options: { config?: AuthConfig; proactiveRefresh?: boolean } = {}): Promise<AuthManager> {
  return AuthManager.create({
    codexHome: home.dir,
    config: options.config ?? DEFAULT_AUTH_CONFIG,
    env: dev.env(),
    enableCodexApiKeyEnv: false,
    log: (line) => logLines.push(line),
    ...(options.proactiveRefresh === undefined ? {} : { proactiveRefresh: options.proactiveRefresh }),
  });
}

function store(tokens: IssuedTokens, lastRefresh = new Date().toISOString()): void {
  const auth: AuthDotJson = {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: { id_token: tokens.idToken, access_token: tokens.accessToken, refresh_token: tokens.refreshToken, account_id: tokens.account.accountId },
    last_refresh: lastRefresh,
  };
  writeFileSync(authPath(), JSON.stringify(auth, null, 2), { mode: 0o600 });
}

const secretsOf = (tokens: IssuedTokens) => [tokens.idToken, tokens.accessToken, tokens.refreshToken];

describe("proactive refresh in current()", () => {
  it("refreshes a token within 5 minutes of expiry once, saves the new tokens and returns them", async () => {
    const old = dev.issueTokens(undefined, { ttlSeconds: 240 });
    store(old);
    const before = dev.count("POST", TOKEN);
    const m = await manager();
    const auth = (await m.current())!;
    expect(dev.count("POST", TOKEN)).toBe(before + 1);
    const saved = readAuth();
    expect(saved.tokens?.access_token).not.toBe(old.accessToken);
    expect(saved.tokens?.refresh_token).not.toBe(old.refreshToken);
    expect(auth.bearer.reveal()).toBe(saved.tokens?.access_token);
    expect(Date.parse(saved.last_refresh!)).toBeGreaterThan(Date.parse(new Date(Date.now() - 60_000).toISOString()));
    // Fresh now: the next load sends nothing.
    await m.current();
    expect(dev.count("POST", TOKEN)).toBe(before + 1);
    expect(logLines).toEqual([]);
  });

  it("leaves fresh tokens alone, and sends nothing when proactive refresh is off (`login status`)", async () => {
    store(dev.issueTokens(undefined, { ttlSeconds: 3600 }), new Date(Date.now() - 9 * 86_400_000).toISOString());
    const before = dev.count("POST", TOKEN);
    await (await manager()).current();
    expect(dev.count("POST", TOKEN)).toBe(before);
    const near = dev.issueTokens(undefined, { ttlSeconds: 60 });
    store(near);
    expect((await (await manager({ proactiveRefresh: false })).current())?.bearer.reveal()).toBe(near.accessToken);
    expect(dev.count("POST", TOKEN)).toBe(before);
  });

  it.each([
    ["refresh_token_expired", "Your access token could not be refreshed because your refresh token has expired. Please log out and sign in again."],
    ["refresh_token_reused", "Your access token could not be refreshed because your refresh token was already used. Please log out and sign in again."],
    ["refresh_token_invalidated", "Your access token could not be refreshed because your refresh token was revoked. Please log out and sign in again."],
    ["invalid_grant", "Your access token could not be refreshed. Please log out and sign in again."],
  ] as const)("%s: logs Codex's message, keeps the old auth (token withheld), never retries the same credential", async (code, message) => {
    const old = dev.issueTokens(undefined, { ttlSeconds: 240 });
    store(old);
    dev.failRefresh(code, { refreshToken: old.refreshToken, count: 10 });
    const before = dev.count("POST", TOKEN);
    const m = await manager();
    const first = (await m.current())!;
    expect(first.bearer.reveal()).toBe(old.accessToken);
    expect(m.hasPermanentRefreshFailure(first)).toBe(true);
    const second = (await m.current())!;
    expect(m.hasPermanentRefreshFailure(second)).toBe(true);
    await m.refreshManagedTokens();
    expect(dev.count("POST", TOKEN)).toBe(before + 1);
    expect(logLines).toEqual([`Failed to refresh token: ${message}`, `Failed to refresh token: ${message}`, `Failed to refresh token: ${message}`]);
    expect(readAuth().tokens?.refresh_token).toBe(old.refreshToken);
    assertNoSecrets(logLines, secretsOf(old));
    const managed = (m as unknown as { managedChatgpt: object }).managedChatgpt;
    assertNoSecrets([inspect(m, { depth: 10 }), JSON.stringify(m), inspect(managed, { depth: 10 }), JSON.stringify(managed), inspect(first, { depth: 10 })], secretsOf(old));
  });

  it("a transient failure is logged and retried on the next load", async () => {
    const old = dev.issueTokens(undefined, { ttlSeconds: 240 });
    store(old);
    dev.failRefresh("server_error", { count: 1 });
    const before = dev.count("POST", TOKEN);
    const m = await manager();
    const first = (await m.current())!;
    expect(first.bearer.reveal()).toBe(old.accessToken);
    expect(m.hasPermanentRefreshFailure(first)).toBe(false);
    expect(logLines).toHaveLength(1);
    expect(logLines[0]).toMatch(/^Failed to refresh token: Failed to refresh token: 500 Internal Server Error/);
    const second = (await m.current())!;
    expect(second.bearer.reveal()).not.toBe(old.accessToken);
    expect(dev.count("POST", TOKEN)).toBe(before + 2);
  });
});

describe("forced refresh and 401 recovery", () => {
  it("refreshManagedTokens() refreshes fresh tokens too (refreshToken: true), and ignores other auth", async () => {
    store(dev.issueTokens(undefined, { ttlSeconds: 3600 }));
    const before = dev.count("POST", TOKEN);
    const m = await manager();
    const old = (await m.current())!;
    await m.refreshManagedTokens();
    expect(dev.count("POST", TOKEN)).toBe(before + 1);
    expect((await m.current())!.bearer.equals(old.bearer)).toBe(false);
    writeFileSync(authPath(), JSON.stringify({ auth_mode: "apikey", OPENAI_API_KEY: "sk-manager-chatgpt-000000000" }));
    await m.refreshManagedTokens();
    expect(dev.count("POST", TOKEN)).toBe(before + 1);
  });

  it("a backend 401 runs reload (nothing new), then refresh, then the request succeeds with the new token", async () => {
    const old = dev.issueTokens(undefined, { ttlSeconds: 3600 });
    store(old);
    dev.backend.revokeBearer(old.accessToken);
    const m = await manager();
    const auth = (await m.current())!;
    const recovery = m.recoveryFor(auth);
    expect(recovery.stepNames).toEqual(["reload", "refresh_token"]);
    const bearers: string[] = [];
    let using: CurrentAuth | null = auth;
    const result = await recovery.run(
      async () => {
        const current: CurrentAuth = using ?? (await m.current())!;
        using = null;
        bearers.push(current.bearer.reveal());
        return fetchUsage({ bearer: current.bearer, accountId: current.accountId }, { chatgptBaseUrl: dev.chatgptBaseUrl });
      },
      (answer) => answer.status === 401,
    );
    expect(result.status).toBe(200);
    expect(bearers).toHaveLength(2);
    expect(bearers[0]).toBe(old.accessToken);
    expect(bearers[1]).toBe(readAuth().tokens?.access_token);
  });

  it("the reload step adopts tokens another process wrote, without a refresh request", async () => {
    const old = dev.issueTokens(undefined, { ttlSeconds: 3600 });
    store(old);
    const m = await manager();
    const auth = (await m.current())!;
    store(dev.issueTokens(old.account, { ttlSeconds: 3600 }));
    const before = dev.count("POST", TOKEN);
    const [reload] = m.recoveryFor(auth).steps;
    expect(await reload!.attempt()).toBe(true);
    expect(dev.count("POST", TOKEN)).toBe(before);
  });
});

describe("logout", () => {
  it("revokes the stored refresh token before deleting auth.json", async () => {
    const tokens = dev.issueTokens();
    store(tokens);
    expect(await (await manager()).logout()).toEqual({ removed: true });
    expect(dev.wasRevoked(tokens.refreshToken)).toBe(true);
    expect(existsSync(authPath())).toBe(false);
    expect(logLines).toEqual([]);
  });

  it("a failed revoke only reaches the log, and the logout still happens", async () => {
    const tokens = dev.issueTokens();
    store(tokens);
    dev.failNext("/oauth/revoke", 500);
    expect(await (await manager()).logout()).toEqual({ removed: true });
    expect(existsSync(authPath())).toBe(false);
    expect(logLines).toEqual(["failed to revoke auth tokens during logout: failed to revoke refresh token: 500 Internal Server Error: The dev server was told to fail this request with 500."]);
    assertNoSecrets(logLines, secretsOf(tokens));
  });

  it("never revokes API keys", async () => {
    writeFileSync(authPath(), JSON.stringify({ auth_mode: "apikey", OPENAI_API_KEY: "sk-manager-chatgpt-000000000" }));
    const before = dev.count("POST", "/oauth/revoke");
    await (await manager()).logout();
    expect(dev.count("POST", "/oauth/revoke")).toBe(before);
  });
});

describe("logins under the manager's policy", () => {
  it("a browser login saves chatgpt auth through the store and clears external tokens", async () => {
    const m = await manager();
    const handle = await m.startChatgptLogin({ port: 0 });
    await visitAuthorizeUrl(handle.authUrl);
    await expect(handle.done).resolves.toMatchObject({ accountId: "acct-demo", email: "demo@example.com" });
    expect(readAuth()).toMatchObject({ auth_mode: "chatgpt", tokens: { account_id: "acct-demo" } });
    expect((await m.current())?.mode).toBe("chatgpt");
  });

  it("forced_login_method = api refuses both logins before anything starts", async () => {
    const m = await manager({ config: authConfigFromTable({ forced_login_method: "api" }) });
    await expect(m.startChatgptLogin({ port: 0 })).rejects.toThrow("ChatGPT login is disabled. Use API key login instead.");
    await expect(m.startDeviceCodeLogin()).rejects.toThrow("ChatGPT login is disabled. Use API key login instead.");
    expect(dev.count("POST", "/api/accounts/deviceauth/usercode")).toBe(0);
  });

  it("forced_chatgpt_workspace_id: another workspace saves nothing and says why", async () => {
    const m = await manager({ config: authConfigFromTable({ forced_chatgpt_workspace_id: "acct-x" }) });
    const handle = await m.startChatgptLogin({ port: 0 });
    expect(new URL(handle.authUrl).searchParams.get("allowed_workspace_id")).toBe("acct-x");
    const visit = await visitAuthorizeUrl(handle.authUrl);
    const error = await handle.done.then(
      () => null,
      (reason: unknown) => reason,
    );
    expect(isChatgptLoginError(error, "WORKSPACE_RESTRICTED")).toBe(true);
    expect((error as Error).message).toBe("Login is restricted to workspace id(s) acct-x.");
    expect(visit.callback.text).toContain("Login is restricted to workspace id(s) acct-x.");
    expect(existsSync(authPath())).toBe(false);
  });
});
