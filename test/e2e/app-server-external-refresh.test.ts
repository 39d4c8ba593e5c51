import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AppServerError, type AppServerClient } from "../../src/client/index.js";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import type { ChatgptAuthTokensRefreshParams } from "../../src/protocol/index.js";
import { initializeMessage, RawAppServer, spawnAppServer, type ServerLaunch, type SpawnedAppServer } from "../support/app-server-process.js";

/**
 * External auth (`chatgptAuthTokens`) against the spawned server and the dev server's backend: a
 * backend 401 makes the server ask the parent app (this test, through the typed client) for new
 * tokens with `account/chatgptAuthTokens/refresh`, then retry.
 */

const USAGE = "/backend-api/wham/usage";
const CLIENT_INFO = { name: "e2e-parent-app", version: "1.0.0" };

describe("app-server external auth refresh", () => {
  let dev: DevServer;
  let server: SpawnedAppServer | null = null;

  beforeAll(async () => {
    dev = await startDevServer();
  });
  afterAll(async () => {
    await dev?.close();
  });
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  async function start(launch: ServerLaunch = {}): Promise<AppServerClient> {
    server = spawnAppServer({
      ...launch,
      env: { ...dev.env(), ...launch.env },
      config: [`chatgpt_base_url=${dev.chatgptBaseUrl}`, ...(launch.config ?? [])],
    });
    await server.client.initialize({ clientInfo: CLIENT_INFO, capabilities: { experimentalApi: true } });
    return server.client;
  }

  async function loginExternal(client: AppServerClient, accountId = "acct-demo"): Promise<string> {
    const { accessToken } = dev.issueTokens({ accountId });
    await client.request("account/login/start", { type: "chatgptAuthTokens", accessToken, chatgptAccountId: accountId, chatgptPlanType: "plus" });
    return accessToken;
  }

  async function currentToken(client: AppServerClient): Promise<string | null> {
    return (await client.request("getAuthStatus", { includeToken: true })).authToken;
  }

  it("asks the parent app on a 401, stores the new tokens in memory and retries the request", async () => {
    const client = await start();
    const first = await loginExternal(client);
    dev.backend.revokeBearer(first);
    const asked: ChatgptAuthTokensRefreshParams[] = [];
    let second = "";
    client.onServerRequest("account/chatgptAuthTokens/refresh", (params) => {
      asked.push(params);
      second = dev.issueTokens({ accountId: "acct-demo" }).accessToken;
      return { accessToken: second, chatgptAccountId: "acct-demo", chatgptPlanType: "pro" };
    });

    const limits = await client.request("account/rateLimits/read");
    expect(limits.rateLimits.limitId).toBe("codex");
    expect(asked).toEqual([{ reason: "unauthorized", previousAccountId: "acct-demo" }]);
    expect(dev.sawBearer(USAGE, second)).toBe(true);
    expect(await currentToken(client)).toBe(second);

    // The new tokens work: no second refresh.
    await client.request("account/rateLimits/read");
    expect(asked).toHaveLength(1);
    // Memory only: nothing was written.
    const { existsSync } = await import("node:fs");
    expect(existsSync(`${server!.home.dir}/auth.json`)).toBe(false);
  });

  it("fails the request with -32603 when the parent app answers with a JSON-RPC error, keeping the old tokens", async () => {
    const client = await start();
    const first = await loginExternal(client);
    dev.backend.revokeBearer(first);
    client.onServerRequest("account/chatgptAuthTokens/refresh", () => {
      throw new AppServerError("account/chatgptAuthTokens/refresh", -32000, "refresh failed");
    });

    const failure = await client.request("account/rateLimits/read").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AppServerError);
    expect(failure).toMatchObject({ code: -32603, message: "failed to fetch codex rate limits: auth refresh request failed: code=-32000 message=refresh failed" });
    expect(await currentToken(client)).toBe(first);
  });

  it("fails the request when the answer is malformed (the Python SDK's `{}`), keeping the old tokens", async () => {
    const raw = new RawAppServer({ env: dev.env(), config: [`chatgpt_base_url=${dev.chatgptBaseUrl}`] });
    try {
      expect(await raw.call(initializeMessage(1, { experimentalApi: true }))).toHaveProperty("result");
      const { accessToken } = dev.issueTokens({ accountId: "acct-demo" });
      raw.send({ id: 2, method: "account/login/start", params: { type: "chatgptAuthTokens", accessToken, chatgptAccountId: "acct-demo" } });
      expect(await raw.next()).toEqual({ id: 2, result: { type: "chatgptAuthTokens" } });
      await raw.next(); // account/login/completed
      await raw.next(); // account/updated
      dev.backend.revokeBearer(accessToken);

      raw.send({ id: 3, method: "account/rateLimits/read" });
      const refresh = await raw.next();
      expect(refresh).toEqual({ id: 0, method: "account/chatgptAuthTokens/refresh", params: { reason: "unauthorized", previousAccountId: "acct-demo" } });
      raw.send({ id: 0, result: {} });
      const answer = await raw.next();
      expect(answer).toEqual({
        id: 3,
        error: { code: -32603, message: "failed to fetch codex rate limits: auth refresh request returned an invalid response: missing field `accessToken`" },
      });
      expect(await raw.call({ id: 4, method: "getAuthStatus", params: { includeToken: true } })).toEqual({
        id: 4,
        result: { authMethod: "chatgptAuthTokens", authToken: accessToken, requiresOpenaiAuth: true },
      });

      // A token that is not a JWT is refused too (Codex: "invalid ID token format").
      raw.send({ id: 5, method: "account/rateLimits/read" });
      const again = await raw.next();
      expect(again).toMatchObject({ id: 1, method: "account/chatgptAuthTokens/refresh" });
      raw.send({ id: 1, result: { accessToken: "not-a-jwt", chatgptAccountId: "acct-demo" } });
      expect(await raw.next()).toEqual({
        id: 5,
        error: { code: -32603, message: "failed to fetch codex rate limits: auth refresh returned an invalid access token: invalid ID token format" },
      });
    } finally {
      expect(await raw.close()).toEqual({ code: 0, signal: null });
    }
  });

  it("fails the request when the parent app never answers (short configured timeout) and drops the late answer", async () => {
    const client = await start({ env: { CODEX_AUTH_APP_SERVER_REQUEST_TIMEOUT_MS: "300" } });
    const first = await loginExternal(client);
    dev.backend.revokeBearer(first);
    let answerLate!: (value: { accessToken: string; chatgptAccountId: string }) => void;
    client.onServerRequest("account/chatgptAuthTokens/refresh", () => new Promise((resolve) => (answerLate = resolve)));

    const failure = await client.request("account/rateLimits/read").catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: -32603, message: "failed to fetch codex rate limits: auth refresh request timed out after 300ms" });

    // The late answer is logged and dropped; the server keeps serving with the old tokens.
    answerLate({ accessToken: dev.issueTokens({ accountId: "acct-demo" }).accessToken, chatgptAccountId: "acct-demo" });
    expect(await currentToken(client)).toBe(first);
    expect(await client.request("account/read", {})).toMatchObject({ account: { type: "chatgpt" } });
    await server!.close();
    expect(server!.stderr()).toContain("dropping a response to unknown server request id 0");
    server = null;
  });

  it("enforces forced_chatgpt_workspace_id on refresh: the request fails, nothing is kept, the next 401 asks again", async () => {
    const client = await start({ config: ['forced_chatgpt_workspace_id="acct-demo"'] });
    const first = await loginExternal(client);
    dev.backend.revokeBearer(first);
    const answers = [
      { accessToken: dev.issueTokens({ accountId: "acct-other", email: "other@example.com" }).accessToken, chatgptAccountId: "acct-other" },
      { accessToken: dev.issueTokens({ accountId: "acct-demo" }).accessToken, chatgptAccountId: "acct-demo" },
    ];
    let asked = 0;
    client.onServerRequest("account/chatgptAuthTokens/refresh", (params) => {
      expect(params.previousAccountId).toBe("acct-demo");
      return answers[asked++]!;
    });

    const failure = await client.request("account/rateLimits/read").catch((error: unknown) => error);
    expect(failure).toMatchObject({
      code: -32603,
      message: 'failed to fetch codex rate limits: auth refresh rejected: External auth must use one of workspace(s) ["acct-demo"], but received "acct-other".',
    });
    expect(await currentToken(client)).toBe(first);
    expect(dev.sawBearer(USAGE, answers[0]!.accessToken)).toBe(false);

    const limits = await client.request("account/rateLimits/read");
    expect(limits.rateLimits.limitId).toBe("codex");
    expect(asked).toBe(2);
    expect(await currentToken(client)).toBe(answers[1]!.accessToken);
  });

  it("sends a single refresh request when two concurrent requests both get a 401", async () => {
    const client = await start();
    await loginExternal(client);
    dev.backend.failNext(401, 2);
    const before = dev.count("GET", USAGE);
    let asked = 0;
    client.onServerRequest("account/chatgptAuthTokens/refresh", async () => {
      asked++;
      // Answer only once both requests have reached the backend (and got their 401).
      for (let i = 0; i < 2000 && dev.count("GET", USAGE) < before + 2; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      return { accessToken: dev.issueTokens({ accountId: "acct-demo" }).accessToken, chatgptAccountId: "acct-demo" };
    });

    const [a, b] = await Promise.all([client.request("account/rateLimits/read"), client.request("account/rateLimits/read")]);
    expect(a.rateLimits.limitId).toBe("codex");
    expect(b.rateLimits.limitId).toBe("codex");
    expect(asked).toBe(1);
    expect(dev.count("GET", USAGE) - before).toBe(4);
  });
});
