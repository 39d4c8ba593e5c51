import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { initializeMessage, RawAppServer } from "../support/app-server-process.js";
import { recordedNotification } from "../support/transcripts.js";

/**
 * No secret given to the server shows up on stdout, except where the contract returns it
 * (`getAuthStatus` with `includeToken`), nor anywhere on stderr, on success and error paths alike.
 */

function linesContaining(text: string, secret: string): string[] {
  return text.split("\n").filter((line) => line.includes(secret));
}

describe("app-server secret hygiene", () => {
  let dev: DevServer;
  beforeAll(async () => {
    dev = await startDevServer();
  });
  afterAll(async () => {
    await dev?.close();
  });

  it("returns an API key or external access token only in getAuthStatus {includeToken: true}", async () => {
    const apiKey = "sk-proj-e2e-secret-api-key-AAAAAAAAAAAAAAAAAAAA";
    const notJwt = "not-a-jwt-e2e-secret-BBBBBBBBBBBBBBBBBBBB";
    const first = dev.issueTokens({ accountId: "acct-demo" }).accessToken;
    const second = dev.issueTokens({ accountId: "acct-demo" }).accessToken;
    const server = new RawAppServer({
      env: { ...dev.env(), CODEX_AUTH_APP_SERVER_MAX_LINE_BYTES: "4096" },
      config: [`chatgpt_base_url=${dev.chatgptBaseUrl}`],
    });
    const revealing: number[] = [];
    try {
      expect(await server.call(initializeMessage(1, { experimentalApi: true }))).toHaveProperty("result");
      // Secrets in lines the server cannot use.
      server.send(`not json ${apiKey}`);
      server.send(JSON.stringify({ id: 2, method: "account/login/start", params: { type: "apiKey", apiKey, pad: "p".repeat(8000) } }));
      expect(await server.call({ id: 3, method: "getAuthStatus", params: { includeToken: apiKey } })).toMatchObject({ error: { code: -32600 } });
      expect(await server.call({ id: 4, method: "account/read", params: { refreshToken: apiKey } })).toMatchObject({ error: { code: -32600 } });

      expect(await server.call({ id: 5, method: "account/login/start", params: { type: "apiKey", apiKey } })).toEqual({ id: 5, result: { type: "apiKey" } });
      await server.next();
      await server.next();
      revealing.push(6);
      expect(await server.call({ id: 6, method: "getAuthStatus", params: { includeToken: true } })).toMatchObject({ result: { authToken: apiKey } });
      expect(await server.call({ id: 7, method: "getAuthStatus", params: {} })).toMatchObject({ result: { authToken: null } });
      expect(await server.call({ id: 8, method: "account/read", params: {} })).toMatchObject({ result: { account: { type: "apiKey" } } });
      expect(await server.call({ id: 9, method: "account/rateLimits/read" })).toMatchObject({ error: { code: -32600 } });
      expect(await server.call({ id: 10, method: "account/logout" })).toEqual({ id: 10, result: {} });
      await server.next();

      expect(await server.call({ id: 11, method: "account/login/start", params: { type: "chatgptAuthTokens", accessToken: notJwt, chatgptAccountId: "acct-demo" } })).toMatchObject({
        error: { code: -32603 },
      });
      expect(await server.call({ id: 12, method: "account/login/start", params: { type: "chatgptAuthTokens", accessToken: first, chatgptAccountId: "acct-demo" } })).toMatchObject({
        result: { type: "chatgptAuthTokens" },
      });
      await server.next();
      await server.next();
      dev.backend.revokeBearer(first);
      server.send({ id: 13, method: "account/rateLimits/read" });
      const refresh = await server.next();
      expect(refresh).toMatchObject({ method: "account/chatgptAuthTokens/refresh", params: { reason: "unauthorized", previousAccountId: "acct-demo" } });
      server.send({ id: refresh.id, result: { accessToken: second, chatgptAccountId: "acct-demo" } });
      expect(await server.next()).toMatchObject({ id: 13, result: { rateLimits: { limitId: "codex" } } });
      revealing.push(14);
      expect(await server.call({ id: 14, method: "getAuthStatus", params: { includeToken: true } })).toMatchObject({ result: { authToken: second } });

      // A refresh answer that is refused (not a JWT) must not be echoed either.
      dev.backend.revokeBearer(second);
      server.send({ id: 15, method: "account/rateLimits/read" });
      const again = await server.next();
      server.send({ id: again.id, result: { accessToken: notJwt, chatgptAccountId: "acct-demo" } });
      expect(await server.next()).toMatchObject({ id: 15, error: { code: -32603 } });
    } finally {
      expect(await server.close()).toEqual({ code: 0, signal: null });
    }

    for (const secret of [apiKey, notJwt, first, second]) {
      expect(server.stderr.includes(secret), "secret on stderr").toBe(false);
    }
    const allowedLines = (secret: string) =>
      linesContaining(server.stdout, secret).map((line) => {
        const message = JSON.parse(line) as { id: number; result?: { authToken?: string } };
        expect(message.result?.authToken).toBe(secret);
        return message.id;
      });
    expect(allowedLines(apiKey)).toEqual([6]);
    expect(allowedLines(second)).toEqual([14]);
    expect(linesContaining(server.stdout, first)).toEqual([]);
    expect(linesContaining(server.stdout, notJwt)).toEqual([]);
    expect(revealing).toEqual([6, 14]);
  });

  it("never returns or logs a personal access token", async () => {
    const pat = "at-e2e-secret-personal-access-token-CCCCCCCCCCCC";
    dev.addPersonalAccessToken(pat, { account: { email: "pat@example.com", accountId: "acct-pat", planType: "pro" } });
    const server = new RawAppServer({ env: { ...dev.env(), CODEX_ACCESS_TOKEN: pat }, config: [`chatgpt_base_url=${dev.chatgptBaseUrl}`] });
    try {
      expect(await server.call(initializeMessage(1))).toHaveProperty("result");
      // Start-up workspace routing discovery sends the PAT to wham/accounts/check, then reports readiness.
      expect(await server.next()).toEqual({
        method: "account/updated",
        params: { ...recordedNotification("v1-getauthstatus-pat-omits-token", "account/updated"), planType: "pro" },
      });
      expect(await server.call({ id: 2, method: "getAuthStatus", params: { includeToken: true } })).toEqual({
        id: 2,
        result: { authMethod: "personalAccessToken", authToken: null, requiresOpenaiAuth: true },
      });
      expect(await server.call({ id: 3, method: "account/read", params: {} })).toMatchObject({ result: { account: { type: "chatgpt", email: "pat@example.com" } } });
      expect(await server.call({ id: 4, method: "account/rateLimits/read" })).toMatchObject({ result: { rateLimits: { planType: "pro" } } });
      dev.backend.failNext(401);
      expect(await server.call({ id: 5, method: "account/rateLimits/read" })).toMatchObject({ error: { code: -32603 } });
      expect(await server.call({ id: 6, method: "account/logout" })).toEqual({ id: 6, result: {} });
      await server.next();
    } finally {
      expect(await server.close()).toEqual({ code: 0, signal: null });
    }
    expect(server.stdout.includes(pat)).toBe(false);
    expect(server.stderr.includes(pat)).toBe(false);
    expect(dev.sawBearer("/backend-api/wham/usage", pat)).toBe(true);
    expect(dev.sawBearer("/backend-api/wham/accounts/check", pat)).toBe(true);
  });
});
