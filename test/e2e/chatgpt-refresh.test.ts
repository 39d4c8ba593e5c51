import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AuthDotJson } from "../../generated/storage/auth-json.js";
import { AppServerError } from "../../src/client/index.js";
import { startDevServer, type DevServer, type IssuedTokens, type RefreshFailure } from "../../src/dev-server/index.js";
import { spawnAppServer, type SpawnedAppServer } from "../support/app-server-process.js";
import { runCodexAuth, tempDir, type TempDir } from "../support/cli-process.js";
import { CapturedStreams } from "../support/secrets.js";

/**
 * Managed ChatGPT tokens in real processes against the dev issuer (single-use refresh tokens):
 * refresh on load near expiry, `refreshToken: true`, permanent failures (Codex's message, never
 * retried, token withheld), two servers refreshing the same auth.json at once, the 401 recovery of
 * `account/rateLimits/read`, `login status` (no refresh) and `logout` (revoke, failures only logged).
 */
describe("ChatGPT token refresh, recovery and revoke (spawned processes)", () => {
  let dev: DevServer;
  let home: TempDir;
  const servers: SpawnedAppServer[] = [];
  const captured = new CapturedStreams();
  const secrets = new Set<string>();

  beforeAll(async () => {
    dev = await startDevServer();
  });
  afterAll(async () => {
    await dev?.close();
    captured.assertNoSecrets([...secrets]);
  });
  beforeEach(() => {
    home = tempDir("codex-auth-refresh-e2e-");
    dev.clearRefreshFailures();
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      // The one place the contract returns a token (getAuthStatus includeToken) is blanked before the scan.
      captured.add("app-server stdout", server.stdout().replace(/"authToken":"[^"]*"/g, '"authToken":"<returned>"'));
      captured.add("app-server stderr", server.stderr());
      expect(await server.close()).toEqual({ code: 0, signal: null });
    }
    for (const file of [authFile(), path.join(home.dir, "log", "codex-auth-login.log")]) {
      if (existsSync(file)) collectSecrets(readFileSync(file, "utf8"));
    }
    home.remove();
  });

  const authFile = () => path.join(home.dir, "auth.json");
  const readAuth = () => JSON.parse(readFileSync(authFile(), "utf8")) as AuthDotJson;
  const refreshes = () => dev.requests.filter((request) => request.path === "/oauth/token" && request.grantType === "refresh_token").length;

  function collectSecrets(text: string): void {
    for (const match of text.matchAll(/"(?:id_token|access_token|refresh_token)": "([^"]+)"/g)) secrets.add(match[1]!);
  }

  function store(tokens: IssuedTokens): void {
    for (const token of [tokens.idToken, tokens.accessToken, tokens.refreshToken]) secrets.add(token);
    const auth: AuthDotJson = {
      auth_mode: "chatgpt",
      OPENAI_API_KEY: null,
      tokens: { id_token: tokens.idToken, access_token: tokens.accessToken, refresh_token: tokens.refreshToken, account_id: tokens.account.accountId },
      last_refresh: new Date().toISOString(),
    };
    writeFileSync(authFile(), JSON.stringify(auth, null, 2), { mode: 0o600 });
  }

  async function start(): Promise<SpawnedAppServer> {
    const server = spawnAppServer({ env: { ...dev.env(), CODEX_HOME: home.dir }, config: [`chatgpt_base_url=${dev.chatgptBaseUrl}`] });
    servers.push(server);
    await server.client.initialize({ clientInfo: { name: "refresh-e2e", version: "1.0.0" } });
    return server;
  }

  async function token(server: SpawnedAppServer): Promise<string | null> {
    return (await server.client.request("getAuthStatus", { includeToken: true })).authToken;
  }

  it("refreshes a token 4 minutes from expiry on load: one request, auth.json updated, the new token served", async () => {
    const old = dev.issueTokens(undefined, { ttlSeconds: 240 });
    store(old);
    const before = refreshes();
    const server = await start();
    const served = await token(server);
    expect(refreshes()).toBe(before + 1);
    const saved = readAuth();
    expect(served).toBe(saved.tokens?.access_token);
    expect(served).not.toBe(old.accessToken);
    expect(saved.tokens?.refresh_token).not.toBe(old.refreshToken);
    expect(saved.auth_mode).toBe("chatgpt");
    // Now fresh: further loads send nothing.
    expect(await server.client.request("account/read", {})).toMatchObject({ account: { type: "chatgpt", email: "demo@example.com", planType: "plus" } });
    expect(await token(server)).toBe(served);
    expect(refreshes()).toBe(before + 1);
  });

  it("refreshToken: true refreshes fresh tokens (account/read and getAuthStatus), one request each", async () => {
    const old = dev.issueTokens(undefined, { ttlSeconds: 3600 });
    store(old);
    const server = await start();
    const before = refreshes();
    expect(await token(server)).toBe(old.accessToken);
    await server.client.request("account/read", { refreshToken: true });
    expect(refreshes()).toBe(before + 1);
    const afterRead = readAuth().tokens?.access_token;
    expect(afterRead).not.toBe(old.accessToken);
    const status = await server.client.request("getAuthStatus", { includeToken: true, refreshToken: true });
    expect(refreshes()).toBe(before + 2);
    expect(status.authToken).toBe(readAuth().tokens?.access_token);
    expect(status.authToken).not.toBe(afterRead);
  });

  it.each([
    ["refresh_token_expired", "Your access token could not be refreshed because your refresh token has expired. Please log out and sign in again."],
    ["refresh_token_reused", "Your access token could not be refreshed because your refresh token was already used. Please log out and sign in again."],
    ["refresh_token_invalidated", "Your access token could not be refreshed because your refresh token was revoked. Please log out and sign in again."],
    ["invalid_grant", "Your access token could not be refreshed. Please log out and sign in again."],
  ] as const)("%s: Codex's message in the log, one request across every load, token withheld", async (code: RefreshFailure, message) => {
    const old = dev.issueTokens(undefined, { ttlSeconds: 240 });
    store(old);
    dev.failRefresh(code, { refreshToken: old.refreshToken, count: 100 });
    const before = refreshes();
    const server = await start();
    expect(await server.client.request("getAuthStatus", { includeToken: true })).toEqual({ authMethod: "chatgpt", authToken: null, requiresOpenaiAuth: true });
    expect(await server.client.request("getAuthStatus", { includeToken: true, refreshToken: true })).toEqual({
      authMethod: "chatgpt",
      authToken: null,
      requiresOpenaiAuth: true,
    });
    expect(await server.client.request("account/read", { refreshToken: true })).toMatchObject({ account: { type: "chatgpt" } });
    expect(refreshes()).toBe(before + 1);
    expect(server.stderr()).toContain(`Failed to refresh token: ${message}`);
    expect(readAuth().tokens?.refresh_token).toBe(old.refreshToken);
  });

  it("two app-servers loading the same near-expiry auth.json at once send one refresh and both serve the new token", async () => {
    const old = dev.issueTokens(undefined, { ttlSeconds: 120 });
    store(old);
    const before = refreshes();
    const [first, second] = await Promise.all([start(), start()]);
    const [a, b] = await Promise.all([token(first!), token(second!)]);
    expect(refreshes()).toBe(before + 1);
    const saved = readAuth().tokens!;
    expect(saved.access_token).not.toBe(old.accessToken);
    expect(a).toBe(saved.access_token);
    expect(b).toBe(saved.access_token);
    expect(first!.stderr() + second!.stderr()).not.toContain("Failed to refresh token");
  });

  it("account/rateLimits/read: a backend 401 runs reload then refresh, and the retry succeeds", async () => {
    const old = dev.issueTokens(undefined, { ttlSeconds: 3600 });
    store(old);
    dev.backend.revokeBearer(old.accessToken);
    const server = await start();
    const before = refreshes();
    const limits = await server.client.request("account/rateLimits/read");
    expect(limits.rateLimits.limitId).toBe("codex");
    expect(refreshes()).toBe(before + 1);
    expect(dev.sawBearer("/backend-api/wham/usage", old.accessToken)).toBe(true);
    expect(dev.sawBearer("/backend-api/wham/usage", readAuth().tokens!.access_token)).toBe(true);
  });

  it("account/rateLimits/read: when the refresh fails permanently the request fails with Codex's message", async () => {
    const old = dev.issueTokens(undefined, { ttlSeconds: 3600 });
    store(old);
    dev.backend.revokeBearer(old.accessToken);
    dev.failRefresh("refresh_token_reused", { refreshToken: old.refreshToken, count: 100 });
    const server = await start();
    const error = await server.client.request("account/rateLimits/read").then(
      () => null,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(AppServerError);
    expect({ code: (error as AppServerError).code, message: (error as AppServerError).message }).toEqual({
      code: -32603,
      message: "failed to fetch codex rate limits: Your access token could not be refreshed because your refresh token was already used. Please log out and sign in again.",
    });
  });

  it("`login status` sends no refresh (as Codex 0.169.0), even 4 minutes from expiry", async () => {
    store(dev.issueTokens(undefined, { ttlSeconds: 240 }));
    const before = refreshes();
    const status = await runCodexAuth(["login", "status"], { env: { ...dev.env(), CODEX_HOME: home.dir } });
    expect(status).toEqual({ code: 0, stdout: "", stderr: "Logged in using ChatGPT\n" });
    expect(refreshes()).toBe(before);
    captured.add("status", status.stderr);
  });

  it("`logout` revokes the refresh token first; a failed revoke goes only to the login log", async () => {
    const first = dev.issueTokens();
    store(first);
    const ok = await runCodexAuth(["logout"], { env: { ...dev.env(), CODEX_HOME: home.dir } });
    expect(ok).toEqual({ code: 0, stdout: "", stderr: "Successfully logged out\n" });
    expect(dev.wasRevoked(first.refreshToken)).toBe(true);
    expect(existsSync(authFile())).toBe(false);

    const second = dev.issueTokens();
    store(second);
    dev.failNext("/oauth/revoke", 500);
    const failed = await runCodexAuth(["logout"], { env: { ...dev.env(), CODEX_HOME: home.dir } });
    expect(failed).toEqual({ code: 0, stdout: "", stderr: "Successfully logged out\n" });
    expect(existsSync(authFile())).toBe(false);
    const log = readFileSync(path.join(home.dir, "log", "codex-auth-login.log"), "utf8");
    expect(log).toMatch(/^\S+ failed to revoke auth tokens during logout: failed to revoke refresh token: 500 Internal Server Error/m);
    captured.add("logout", ok.stderr + failed.stderr);
    captured.add("login log", log);
  });
});
