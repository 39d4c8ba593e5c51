import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  DEVICE_AUTH_TIMED_OUT_MESSAGE,
  DEVICE_CODE_MAX_WAIT_MS,
  describeWait,
  deviceAuthTimedOutMessage,
  parseInterval,
  startDeviceCodeLogin,
  type DeviceCodeLoginOptions,
} from "../../../src/auth/chatgpt/device-code.js";
import { ChatgptLoginError } from "../../../src/auth/chatgpt/errors.js";
import { FileAuthStore } from "../../../src/auth/store/file-store.js";
import type { DevServer } from "../../../src/dev-server/index.js";
import { start, until } from "../../dev-server/support.js";
import { inspect } from "node:util";
import { assertNoSecrets } from "../../support/secrets.js";
import { authPath, fileMode, json, readAuth, recordingServer, tempHome } from "./support.js";

const TOKEN = "/api/accounts/deviceauth/token";

function options(server: DevServer, home: string, extra: Partial<DeviceCodeLoginOptions> = {}): DeviceCodeLoginOptions {
  const store = new FileAuthStore(home);
  return { issuer: server.issuerUrl, persist: (auth) => store.save(auth), ...extra };
}

async function failure(promise: Promise<unknown>): Promise<ChatgptLoginError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ChatgptLoginError);
    return error as ChatgptLoginError;
  }
  throw new Error("expected the login to fail");
}

describe("device-code login", () => {
  it("returns the verification URL and code at once, then polls, exchanges and saves with OPENAI_API_KEY null", async () => {
    const { server } = await start({ deviceCodeInterval: "0" });
    const home = tempHome();
    const login = await startDeviceCodeLogin(options(server, home));
    expect(login.verificationUrl).toBe(`${server.issuerUrl}/codex/device`);
    expect(login.userCode).toMatch(/^[A-Z]{4}-\d{4}$/);
    expect(login.intervalSeconds).toBe(0);

    await until(() => server.count("POST", TOKEN) >= 1, "a pending poll");
    server.approveDeviceCode(login.userCode);
    await expect(login.done).resolves.toEqual({
      accountId: "acct-demo",
      userId: "user-demo",
      email: "demo@example.com",
      planType: "plus",
      isFedramp: false,
      apiKeyExchanged: false,
    });
    const auth = readAuth(home);
    expect(auth).toMatchObject({ auth_mode: "chatgpt", OPENAI_API_KEY: null, tokens: { account_id: "acct-demo" } });
    expect(Object.keys(auth.tokens!)).toEqual(["id_token", "access_token", "refresh_token", "oauth_provenance", "login_owner_id", "account_id"]);
    expect(fileMode(authPath(home))).toBe(0o600);
    // One code exchange (with redirect_uri={issuer}/deviceauth/callback, checked by the issuer), no API-key exchange.
    expect(server.count("POST", "/oauth/token")).toBe(1);
    expect(server.requests.filter((request) => request.path === "/oauth/token").map((request) => request.grantType)).toEqual(["authorization_code"]);
  });

  it("keeps polling at the issuer's interval (\"1\") through a slow approval", async () => {
    const { server } = await start({ deviceCodeInterval: "1" });
    server.setDeviceCodeSettings({ autoApproveAfterPolls: 2 });
    const home = tempHome();
    const login = await startDeviceCodeLogin(options(server, home));
    expect(login.intervalSeconds).toBe(1);
    await expect(login.done).resolves.toMatchObject({ accountId: "acct-demo" });
    expect(server.count("POST", TOKEN)).toBe(3);
    expect(server.deviceCodes[0]).toMatchObject({ status: "approved", polls: 3 });
    expect(readAuth(home).tokens?.account_id).toBe("acct-demo");
  });

  it("times out naming the (injected) limit; at the default it is Codex's text", async () => {
    expect(deviceAuthTimedOutMessage()).toBe("device auth timed out after 15 minutes");
    expect(deviceAuthTimedOutMessage(DEVICE_CODE_MAX_WAIT_MS)).toBe(DEVICE_AUTH_TIMED_OUT_MESSAGE);
    expect([60_000, 2_000, 1_000, 1_500].map(describeWait)).toEqual(["1 minute", "2 seconds", "1 second", "1500 ms"]);
    const { server } = await start({ deviceCodeInterval: "1" });
    const home = tempHome();
    const login = await startDeviceCodeLogin(options(server, home, { maxWaitMs: 30 }));
    expect(await failure(login.done)).toMatchObject({ code: "DEVICE_AUTH_TIMED_OUT", message: "device auth timed out after 30 ms" });
    // One last poll at the limit, unless the first poll alone outlasted it (a loaded machine).
    expect([1, 2]).toContain(server.count("POST", TOKEN));
    expect(existsSync(authPath(home))).toBe(false);
  });

  it("says so when the issuer has no device-code login (404)", async () => {
    const { server } = await start();
    server.setDeviceCodeSettings({ enabled: false });
    const error = await failure(startDeviceCodeLogin(options(server, tempHome())));
    expect(error).toMatchObject({
      code: "DEVICE_CODE_DISABLED",
      message: "device code login is not enabled for this Codex server. Use the browser login or verify the server URL.",
    });
  });

  it("reports other user-code failures with the status", async () => {
    const { server } = await start();
    server.failNext("/api/accounts/deviceauth/usercode", 503);
    const error = await failure(startDeviceCodeLogin(options(server, tempHome())));
    expect(error).toMatchObject({ code: "DEVICE_CODE_REQUEST_FAILED", message: "device code request failed with status 503 Service Unavailable" });
  });

  it("fails on a poll status other than 403/404", async () => {
    const { server } = await start({ deviceCodeInterval: "0" });
    for (const [status, text] of [
      [500, "500 Internal Server Error"],
      [401, "401 Unauthorized"],
    ] as const) {
      server.failNext(TOKEN, status);
      const home = tempHome();
      const login = await startDeviceCodeLogin(options(server, home));
      expect(await failure(login.done)).toMatchObject({ code: "DEVICE_AUTH_FAILED", message: `device auth failed with status ${text}` });
      expect(existsSync(authPath(home))).toBe(false);
    }
  });

  it("prefixes a failed code exchange with `device code exchange failed:`", async () => {
    const { server } = await start({ deviceCodeInterval: "0" });
    server.setDeviceCodeSettings({ autoApproveAfterPolls: 0 });
    server.failNext("/oauth/token", 500);
    const home = tempHome();
    const login = await startDeviceCodeLogin(options(server, home));
    const error = await failure(login.done);
    expect(error.code).toBe("DEVICE_CODE_EXCHANGE_FAILED");
    expect(error.message).toMatch(/^device code exchange failed: token endpoint returned status 500 Internal Server Error: /);
    expect(existsSync(authPath(home))).toBe(false);
  });

  it("enforces forced_chatgpt_workspace_id before saving", async () => {
    const { server } = await start({ deviceCodeInterval: "0" });
    server.setDeviceCodeSettings({ autoApproveAfterPolls: 0 });
    const home = tempHome();
    const login = await startDeviceCodeLogin(options(server, home, { forcedWorkspaceIds: ["ws-1", "ws-2"] }));
    expect(await failure(login.done)).toMatchObject({ code: "WORKSPACE_RESTRICTED", message: "Login is restricted to workspace id(s) ws-1, ws-2." });
    expect(existsSync(authPath(home))).toBe(false);
  });

  it("stops polling when cancelled (cancel() or the signal), and saves nothing", async () => {
    const { server } = await start({ deviceCodeInterval: "1" });
    const home = tempHome();
    const login = await startDeviceCodeLogin(options(server, home));
    await until(() => server.count("POST", TOKEN) >= 1, "the first poll");
    login.cancel();
    expect(await failure(login.done)).toMatchObject({ code: "CANCELLED", message: "Login was not completed" });
    const polls = server.count("POST", TOKEN);
    server.approveDeviceCode(login.userCode);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(server.count("POST", TOKEN)).toBe(polls);
    expect(existsSync(authPath(home))).toBe(false);

    const controller = new AbortController();
    const aborted = await startDeviceCodeLogin(options(server, home, { signal: controller.signal }));
    controller.abort();
    expect(await failure(aborted.done)).toMatchObject({ code: "CANCELLED" });
  });

  it("keeps the code and verifier out of the error even when the issuer echoes them back", async () => {
    const code = "code-echoed-0123456789abcdef";
    const verifier = "verifier-echoed-0123456789abcdef0123456789";
    const issuer = await recordingServer((request, response) => {
      if (request.url.endsWith("/usercode")) return json(response, 200, { device_auth_id: "d-1", user_code: "ABCD-2345", interval: "0" });
      if (request.url.endsWith("/deviceauth/token")) return json(response, 200, { authorization_code: code, code_challenge: "c", code_verifier: verifier });
      json(response, 400, { error: "invalid_grant", error_description: `bad ${new URLSearchParams(request.body).get("code")} / ${request.body}` });
    });
    const home = tempHome();
    const login = await startDeviceCodeLogin({ issuer: issuer.url, persist: async () => undefined });
    const error = await failure(login.done);
    expect(error.message).toMatch(/^device code exchange failed: token endpoint returned status 400 Bad Request: bad \[REDACTED\]/);
    expect(new URLSearchParams(issuer.requests.at(-1)!.body).get("redirect_uri")).toBe(`${issuer.url}/deviceauth/callback`);
    assertNoSecrets([error.message, inspect(error), String(error.stack)], [code, verifier]);
    expect(existsSync(authPath(home))).toBe(false);
  });

  it("parses the interval as a string or a number, defaulting to 5", () => {
    expect(parseInterval("3")).toBe(3);
    expect(parseInterval(" 7 ")).toBe(7);
    expect(parseInterval(2)).toBe(2);
    expect(parseInterval(undefined)).toBe(5);
    expect(parseInterval("soon")).toBe(5);
    expect(parseInterval(-1)).toBe(5);
  });
});
