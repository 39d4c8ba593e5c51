import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AppServerError, type AppServerClient } from "../../src/client/index.js";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import type { ServerNotificationMethod } from "../../src/protocol/index.js";
import { codexFixture } from "../support/fixtures.js";
import { accountUpdated, loginCompleted, recordedNotification } from "../support/transcripts.js";
import { initializeMessage, RawAppServer, spawnAppServer, tempCodexHome, type ServerLaunch, type SpawnedAppServer } from "../support/app-server-process.js";
import { OutboundValidator } from "../support/app-server-validation.js";
import { rejection as rejectionOf } from "../support/helpers.js";

/** Each account method against the spawned server (typed client), with the dev server behind it. */

const CLIENT_INFO = { name: "e2e", version: "0.0.1" };
const EXTERNAL_AUTH_ACTIVE = "External auth is active. Use account/login/start (chatgptAuthTokens) to update it or account/logout to clear it.";

const rejection = (promise: Promise<unknown>) => rejectionOf(promise, AppServerError);

describe("app-server account methods", () => {
  let dev: DevServer;
  let server: SpawnedAppServer | null = null;
  let notifications: Array<{ method: string; params: unknown }> = [];
  let validator: OutboundValidator;

  beforeAll(async () => {
    dev = await startDevServer();
  });
  afterAll(async () => {
    await dev?.close();
  });
  afterEach(async () => {
    if (server) {
      const exit = await server.close();
      expect(exit).toEqual({ code: 0, signal: null });
      expect(validator.problems).toEqual([]);
    }
    server = null;
  });

  async function start(launch: ServerLaunch = {}, experimentalApi = true): Promise<AppServerClient> {
    server = spawnAppServer({
      ...launch,
      env: { ...dev.env(), ...launch.env },
      config: [`chatgpt_base_url=${dev.chatgptBaseUrl}`, ...(launch.config ?? [])],
    });
    notifications = [];
    validator = new OutboundValidator();
    server.client.tap((direction, message) => {
      if (direction === "out") validator.noteClientRequest(message);
      else validator.check(message);
    });
    server.client.onAnyNotification((method, params) => notifications.push({ method, params }));
    await server.client.initialize({ clientInfo: CLIENT_INFO, capabilities: { experimentalApi } });
    return server.client;
  }

  /**
   * The start-up `account/updated {reason: "workspaceRoutingReady"}` (a PAT or ChatGPT tokens): it
   * follows the backend's answer, not a request, so it is awaited and taken out of `notifications`.
   */
  async function startupRoutingReady(client: AppServerClient): Promise<unknown> {
    const isReady = (params: unknown) => (params as { reason?: unknown }).reason === "workspaceRoutingReady";
    if (!notifications.some((n) => n.method === "account/updated" && isReady(n.params))) await client.nextNotification("account/updated", isReady);
    const index = notifications.findIndex((n) => n.method === "account/updated" && isReady(n.params));
    return notifications.splice(index, 1)[0]!.params;
  }

  /** Notifications arrive after the response they follow; a round trip flushes them. */
  async function settle(client: AppServerClient): Promise<Array<{ method: string; params: unknown }>> {
    await client.request("getAuthStatus", {});
    return notifications.splice(0);
  }

  it("answers initialize with the user agent, CODEX_HOME and platform, and refuses a second one", async () => {
    server = spawnAppServer({ env: dev.env() });
    validator = new OutboundValidator();
    const result = await server.client.initialize({ clientInfo: { name: "my_app", title: "My App", version: "2.0.0" }, capabilities: null });
    expect(result.userAgent).toMatch(/^my_app\/\d+\.\d+\.\d+\+codex-auth\.\d+\.\d+\.\d+ \(.+; .+\) \S+ \(my_app; 2\.0\.0\)$/);
    expect(result.codexHome).toBe((await import("node:fs")).realpathSync(server.home.dir));
    expect(result.platformFamily).toBe("unix");
    expect(result.platformOs).toBe(process.platform === "darwin" ? "macos" : process.platform);
    const second = await rejection(server.client.request("initialize", { clientInfo: CLIENT_INFO }));
    expect({ code: second.code, message: second.message }).toEqual({ code: -32600, message: "Already initialized" });
  });

  it("refuses requests before initialize and a client name that is not a header value", async () => {
    const raw = new RawAppServer({ env: dev.env() });
    try {
      expect(await raw.call({ id: 1, method: "account/read", params: {} })).toEqual({ id: 1, error: { code: -32600, message: "Not initialized" } });
      expect(await raw.call({ id: 2, method: "initialize", params: { clientInfo: { name: "bad\nname", version: "1" } } })).toEqual({
        id: 2,
        error: { code: -32600, message: "Invalid clientInfo.name: 'bad\nname'. Must be a valid HTTP header value." },
      });
      expect(await raw.call(initializeMessage(3))).toHaveProperty("result");
      // Served before `initialized` (codex-acp never sends it).
      expect(await raw.call({ id: 4, method: "account/read", params: {} })).toHaveProperty("result.account", null);
    } finally {
      expect(await raw.close()).toEqual({ code: 0, signal: null });
    }
  });

  it("logs in with an API key: response, then login/completed, then account/updated; persisted to auth.json", async () => {
    const client = await start();
    expect(await client.request("account/read", {})).toEqual({ account: null, userId: null, requiresOpenaiAuth: true, workspaceRouting: null });
    expect(await client.request("account/login/start", { type: "apiKey", apiKey: "sk-e2e-api-key-0123456789" })).toEqual({ type: "apiKey" });
    expect(await settle(client)).toEqual([
      { method: "account/login/completed", params: loginCompleted({ loginId: null, success: true, error: null }) },
      { method: "account/updated", params: accountUpdated({ authMode: "apikey", planType: null }) },
    ]);
    expect(await client.request("account/read", { refreshToken: true })).toEqual({ account: { type: "apiKey" }, userId: null, requiresOpenaiAuth: true, workspaceRouting: null });
    expect(await client.request("getAuthStatus", { includeToken: true, refreshToken: false })).toEqual({
      authMethod: "apikey",
      authToken: "sk-e2e-api-key-0123456789",
      requiresOpenaiAuth: true,
    });
    const stored = JSON.parse(readFileSync(path.join(server!.home.dir, "auth.json"), "utf8")) as Record<string, unknown>;
    expect(stored).toMatchObject({ auth_mode: "apikey", OPENAI_API_KEY: "sk-e2e-api-key-0123456789" });

    const limits = await rejection(client.request("account/rateLimits/read"));
    expect({ code: limits.code, message: limits.message }).toEqual({ code: -32600, message: "chatgpt authentication required to read rate limits" });

    expect(await client.request("account/logout")).toEqual({});
    expect(await settle(client)).toEqual([{ method: "account/updated", params: accountUpdated({ authMode: null, planType: null }) }]);
    expect(existsSync(path.join(server!.home.dir, "auth.json"))).toBe(false);
    const none = await rejection(client.request("account/rateLimits/read"));
    expect({ code: none.code, message: none.message }).toEqual({ code: -32600, message: "codex account authentication required to read rate limits" });
  });

  it("refuses an API key login under forced_login_method = chatgpt, without notifications", async () => {
    const client = await start({ config: ['forced_login_method="chatgpt"'] });
    const error = await rejection(client.request("account/login/start", { type: "apiKey", apiKey: "sk-e2e-api-key-0123456789" }));
    expect({ code: error.code, message: error.message }).toEqual({ code: -32600, message: "API key login is disabled. Use ChatGPT login instead." });
    expect(await settle(client)).toEqual([]);
  });

  it("answers ChatGPT login start failures with Codex's codes: busy port -32603, no device code -32600, issuer error -32603", async () => {
    const busy = createServer((_request, response) => response.writeHead(404).end());
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const client = await start({ env: { CODEX_AUTH_LOGIN_PORT: String(port) } });
      const browser = await rejection(client.request("account/login/start", { type: "chatgpt", codexStreamlinedLogin: true, appBrand: "codex" }));
      expect({ code: browser.code, message: browser.message }).toEqual({ code: -32603, message: `failed to start login server: Port 127.0.0.1:${port} is already in use` });

      dev.setDeviceCodeSettings({ enabled: false });
      const disabled = await rejection(client.request("account/login/start", { type: "chatgptDeviceCode" }));
      expect({ code: disabled.code, message: disabled.message }).toEqual({
        code: -32600,
        message: "device code login is not enabled for this Codex server. Use the browser login or verify the server URL.",
      });
      dev.setDeviceCodeSettings({ enabled: true });
      dev.failNext("/api/accounts/deviceauth/usercode", 500);
      const failed = await rejection(client.request("account/login/start", { type: "chatgptDeviceCode" }));
      expect({ code: failed.code, message: failed.message }).toEqual({
        code: -32603,
        message: "failed to request device code: device code request failed with status 500 Internal Server Error",
      });
      expect(await settle(client)).toEqual([]);
    } finally {
      dev.setDeviceCodeSettings({ enabled: true });
      busy.closeAllConnections();
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });

  it("gates the ChatGPT variants: forced_login_method = api", async () => {
    const client = await start({ config: ['forced_login_method="api"'] });
    for (const params of [{ type: "chatgpt" }, { type: "chatgptDeviceCode" }] as const) {
      const error = await rejection(client.request("account/login/start", params));
      expect({ code: error.code, message: error.message }).toEqual({ code: -32600, message: "ChatGPT login is disabled. Use API key login instead." });
    }
    const external = await rejection(
      client.request("account/login/start", { type: "chatgptAuthTokens", accessToken: dev.issueTokens().accessToken, chatgptAccountId: "acct-demo" }),
    );
    expect({ code: external.code, message: external.message }).toEqual({ code: -32600, message: "External ChatGPT auth is disabled. Use API key login instead." });
  });

  it("validates login/cancel ids: not a UUID is -32600, an unknown UUID is notFound", async () => {
    const client = await start();
    const error = await rejection(client.request("account/login/cancel", { loginId: "x" }));
    expect({ code: error.code, message: error.message }).toEqual({ code: -32600, message: "invalid login id: x" });
    expect(await client.request("account/login/cancel", { loginId: "6f1c2a3e-1111-4222-8333-444455556666" })).toEqual({ status: "notFound" });
  });

  it("keeps external tokens in memory: login, read, getAuthStatus, gates, logout", async () => {
    const client = await start();
    const { accessToken } = dev.issueTokens({ accountId: "acct-demo", email: "embedded@example.com", planType: "pro" });
    expect(await client.request("account/login/start", { type: "chatgptAuthTokens", accessToken, chatgptAccountId: "acct-demo", chatgptPlanType: "pro" })).toEqual({
      type: "chatgptAuthTokens",
    });
    expect(await settle(client)).toEqual([
      { method: "account/login/completed", params: loginCompleted({ loginId: null, success: true, error: null }) },
      { method: "account/updated", params: accountUpdated({ authMode: "chatgptAuthTokens", planType: "pro" }) },
    ]);
    let refreshRequests = 0;
    client.onServerRequest("account/chatgptAuthTokens/refresh", () => {
      refreshRequests++;
      throw new Error("unexpected");
    });
    // refreshToken is ignored for external tokens: no refresh request.
    expect(await client.request("account/read", { refreshToken: true })).toEqual({
      account: { type: "chatgpt", email: "embedded@example.com", planType: "pro" },
      userId: "user-demo",
      requiresOpenaiAuth: true,
      workspaceRouting: null,
    });
    expect(await client.request("getAuthStatus", { includeToken: true })).toEqual({ authMethod: "chatgptAuthTokens", authToken: accessToken, requiresOpenaiAuth: true });
    const limits = await client.request("account/rateLimits/read");
    expect(limits.rateLimits).toMatchObject({ limitId: "codex", planType: "pro" });
    expect(refreshRequests).toBe(0);

    for (const params of [{ type: "chatgpt" }, { type: "chatgptDeviceCode" }, { type: "apiKey", apiKey: "sk-e2e-api-key-0123456789" }] as const) {
      const error = await rejection(client.request("account/login/start", params));
      expect({ code: error.code, message: error.message }).toEqual({ code: -32600, message: EXTERNAL_AUTH_ACTIVE });
    }
    expect(existsSync(path.join(server!.home.dir, "auth.json"))).toBe(false);

    expect(await client.request("account/logout")).toEqual({});
    expect(await settle(client)).toEqual([{ method: "account/updated", params: accountUpdated({ authMode: null, planType: null }) }]);
    expect(await client.request("account/read", {})).toMatchObject({ account: null });
  });

  it("refuses a chatgptAuthTokens login for another workspace with -32600, and a token that is not a JWT with -32603", async () => {
    const client = await start({ config: ['forced_chatgpt_workspace_id=["acct-a", "acct-b"]'] });
    const wrong = await rejection(
      client.request("account/login/start", { type: "chatgptAuthTokens", accessToken: dev.issueTokens({ accountId: "acct-demo" }).accessToken, chatgptAccountId: "acct-demo" }),
    );
    expect({ code: wrong.code, message: wrong.message }).toEqual({
      code: -32600,
      message: 'External auth must use one of workspace(s) ["acct-a", "acct-b"], but received "acct-demo".',
    });
    const notJwt = await rejection(client.request("account/login/start", { type: "chatgptAuthTokens", accessToken: "not-a-jwt", chatgptAccountId: "acct-a" }));
    expect({ code: notJwt.code, message: notJwt.message }).toEqual({ code: -32603, message: "failed to set external auth: invalid ID token format" });
    expect(await client.request("getAuthStatus", {})).toEqual({ authMethod: null, authToken: null, requiresOpenaiAuth: true });
  });

  it("requires experimentalApi for chatgptAuthTokens", async () => {
    const client = await start({}, false);
    const error = await rejection(
      client.request("account/login/start", { type: "chatgptAuthTokens", accessToken: dev.issueTokens().accessToken, chatgptAccountId: "acct-demo" }),
    );
    expect({ code: error.code, message: error.message }).toEqual({ code: -32600, message: "account/login/start.chatgptAuthTokens requires experimentalApi capability" });
  });

  it("reports a PAT from CODEX_ACCESS_TOKEN as personalAccessToken in v1 and v2, never returning the token", async () => {
    const client = await start({ env: { CODEX_ACCESS_TOKEN: "at-demo-valid" } });
    // The recorded session ran with this PAT: Codex's start-up routing notification, as sent.
    expect(await startupRoutingReady(client)).toEqual(recordedNotification("v1-getauthstatus-pat-omits-token", "account/updated"));
    expect(await client.request("getAuthStatus", { includeToken: true, refreshToken: false })).toEqual({
      authMethod: "personalAccessToken",
      authToken: null,
      requiresOpenaiAuth: true,
    });
    expect(await client.request("account/read", {})).toEqual({
      account: { type: "chatgpt", email: "demo@example.com", planType: "plus" },
      userId: "user-demo",
      requiresOpenaiAuth: true,
      workspaceRouting: null,
    });
    const limits = await client.request("account/rateLimits/read");
    expect(limits.rateLimits).toMatchObject({ limitId: "codex", limitName: null, planType: "plus", rateLimitReachedType: null });
    expect(limits.rateLimits.primary).toMatchObject({ usedPercent: 12, windowDurationMins: 300 });
    expect(limits.rateLimits.secondary).toMatchObject({ usedPercent: 3, windowDurationMins: 10080 });
    expect(limits.rateLimits.credits).toEqual({ hasCredits: false, unlimited: false, balance: "0" });
    expect(limits.rateLimitsByLimitId).toEqual({ codex: limits.rateLimits });

    // A 401 on a PAT is final: no recovery step, no refresh request.
    dev.backend.failNext(401);
    const error = await rejection(client.request("account/rateLimits/read"));
    expect(error.code).toBe(-32603);
    expect(error.message).toBe(`failed to fetch codex rate limits: GET ${dev.chatgptBaseUrl}wham/usage failed: 401 Unauthorized`);

    dev.backend.failNext(500);
    const backendDown = await rejection(client.request("account/rateLimits/read"));
    expect({ code: backendDown.code, message: backendDown.message }).toEqual({
      code: -32603,
      message: `failed to fetch codex rate limits: GET ${dev.chatgptBaseUrl}wham/usage failed: 500 Internal Server Error`,
    });

    // Logout keeps the env PAT: account/updated reports what remains.
    expect(await client.request("account/logout")).toEqual({});
    expect(await settle(client)).toEqual([{ method: "account/updated", params: accountUpdated({ authMode: "personalAccessToken", planType: null }) }]);
  });

  it("loads a PAT stored by Codex 0.169.0 (auth.json without auth_mode) with a live whoami", async () => {
    dev.addPersonalAccessToken("at-good-1", { account: { email: "stored@example.com", accountId: "acct-stored", userId: "user-stored", planType: "team" } });
    const home = tempCodexHome();
    try {
      copyFileSync(codexFixture("auth-json", "personal-access-token.written-by-codex-0.169.0.json"), path.join(home.dir, "auth.json"));
      const client = await start({ env: { CODEX_HOME: home.dir } });
      expect(await startupRoutingReady(client)).toEqual({ ...recordedNotification("v1-getauthstatus-pat-omits-token", "account/updated"), planType: "team" });
      expect(await client.request("getAuthStatus", { includeToken: true })).toEqual({ authMethod: "personalAccessToken", authToken: null, requiresOpenaiAuth: true });
      expect(await client.request("account/read", {})).toEqual({
        account: { type: "chatgpt", email: "stored@example.com", planType: "team" },
        userId: "user-stored",
        requiresOpenaiAuth: true,
        workspaceRouting: null,
      });
      expect(dev.count("GET", "/api/accounts/v1/user-auth-credential/whoami")).toBeGreaterThan(0);
      expect(await client.request("account/logout")).toEqual({});
      expect(await settle(client)).toEqual([{ method: "account/updated", params: accountUpdated({ authMode: null, planType: null }) }]);
      expect(existsSync(path.join(home.dir, "auth.json"))).toBe(false);
      expect(await server!.close()).toEqual({ code: 0, signal: null });
      expect(validator.problems).toEqual([]);
    } finally {
      await server?.close();
      server = null;
      home.remove();
    }
  });

  it("starts without credentials when the PAT's whoami preflight fails (logged on stderr)", async () => {
    const client = await start({ env: { CODEX_ACCESS_TOKEN: "at-demo-revoked" } });
    expect(await client.request("account/read", {})).toMatchObject({ account: null });
    expect(await client.request("getAuthStatus", { includeToken: true })).toEqual({ authMethod: null, authToken: null, requiresOpenaiAuth: true });
    expect(server!.stderr()).toContain("personal access token metadata request failed with status 401");
  });

  it("suppresses notifications the client opted out of", async () => {
    server = spawnAppServer({ env: dev.env() });
    validator = new OutboundValidator();
    const seen: ServerNotificationMethod[] = [];
    server.client.on("account/updated", () => seen.push("account/updated"));
    server.client.on("account/login/completed", () => seen.push("account/login/completed"));
    await server.client.initialize({ clientInfo: CLIENT_INFO, capabilities: { optOutNotificationMethods: ["account/updated"] } });
    await server.client.request("account/login/start", { type: "apiKey", apiKey: "sk-e2e-api-key-0123456789" });
    await server.client.request("account/read", {});
    expect(seen).toEqual(["account/login/completed"]);
  });
});
