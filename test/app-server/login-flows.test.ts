import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LoginFlowContext, LoginFlows, LoginOutcome } from "../../src/app-server/logins.js";
import { parseLoginId } from "../../src/app-server/logins.js";
import { createAppServer } from "../../src/app-server/server.js";
import { silentLogger } from "../../src/app-server/log.js";
import { loadAuthConfig } from "../../src/auth/config.js";
import { AuthManager } from "../../src/auth/manager.js";
import { AppServerConnection, AppServerError } from "../../src/client/index.js";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { accountUpdated, loginCompleted } from "../support/transcripts.js";
import { CODEX_VERSION } from "../support/codex-reference.js";

/**
 * The pending-login plumbing (loginId registry, cancel, replacement, completion notifications),
 * driven in-process through a test-only LoginFlows implementation: the real browser and
 * device-code flows arrive later and plug into the same interface.
 */

interface StartedFlow {
  kind: "browser" | "deviceCode";
  context: LoginFlowContext;
  finish(outcome: LoginOutcome): void;
}

/** Test double for the future managed-login flows: records each start, finishes on demand. */
class ScriptedFlows implements LoginFlows {
  readonly started: StartedFlow[] = [];
  failNextStart: Error | null = null;

  async startBrowserLogin(_params: unknown, context: LoginFlowContext) {
    const completion = this.#begin("browser", context);
    return { authUrl: `http://localhost:1455/test-authorize?login=${context.loginId}`, completion };
  }

  async startDeviceCodeLogin(_params: unknown, context: LoginFlowContext) {
    const completion = this.#begin("deviceCode", context);
    return { verificationUrl: "https://auth.example/codex/device", userCode: "ABCD-1234", completion };
  }

  #begin(kind: StartedFlow["kind"], context: LoginFlowContext): Promise<LoginOutcome> {
    if (this.failNextStart) {
      const error = this.failNextStart;
      this.failNextStart = null;
      throw error;
    }
    return new Promise((resolve) => this.started.push({ kind, context, finish: resolve }));
  }
}

describe("app-server login plumbing (in-process, scripted flows)", () => {
  let dev: DevServer;
  let home: string;
  let flows: ScriptedFlows;
  let client: AppServerConnection;
  let input: PassThrough;
  let manager: AuthManager;
  let running: Promise<void>;
  let notifications: Array<{ method: string; params: unknown }>;

  beforeAll(async () => {
    dev = await startDevServer();
  });
  afterAll(async () => {
    await dev?.close();
  });

  async function start(options: { loginTimeoutMs?: number; config?: string[] } = {}) {
    home = mkdtempSync(path.join(tmpdir(), "codex-auth-logins-"));
    const config = await loadAuthConfig(home, options.config ?? []);
    manager = await AuthManager.create({ codexHome: home, config, env: {}, enableCodexApiKeyEnv: false });
    flows = new ScriptedFlows();
    input = new PassThrough();
    const output = new PassThrough();
    const server = createAppServer({
      input,
      output,
      errorOutput: new PassThrough(),
      auth: manager,
      config,
      codexHome: home,
      version: "0.0.0-test",
      codexVersion: CODEX_VERSION,
      loginFlows: flows,
      log: silentLogger,
      ...(options.loginTimeoutMs !== undefined ? { loginTimeoutMs: options.loginTimeoutMs } : {}),
    });
    running = server.run().then(() => void output.end());
    client = new AppServerConnection(output, input);
    notifications = [];
    client.onAnyNotification((method, params) => notifications.push({ method, params }));
    await client.initialize({ clientInfo: { name: "unit", version: "1" }, capabilities: { experimentalApi: true } });
  }

  afterEach(async () => {
    input.end();
    await running;
    rmSync(home, { recursive: true, force: true });
  });

  async function settle() {
    await client.request("getAuthStatus", {});
    return notifications.splice(0);
  }

  async function saveChatgptLogin() {
    const tokens = dev.issueTokens({ planType: "pro" });
    await manager.store.save({
      auth_mode: "chatgpt",
      OPENAI_API_KEY: null,
      tokens: { id_token: tokens.idToken, access_token: tokens.accessToken, refresh_token: tokens.refreshToken, account_id: tokens.account.accountId },
      last_refresh: new Date().toISOString(),
    });
  }

  it("starts a browser login under a fresh UUID and reports success with account/updated", async () => {
    await start();
    const started = await client.request("account/login/start", { type: "chatgpt" });
    expect(started).toMatchObject({ type: "chatgpt" });
    if (started.type !== "chatgpt") throw new Error("unreachable");
    expect(parseLoginId(started.loginId)).toBe(started.loginId);
    expect(started.authUrl).toBe(`http://localhost:1455/test-authorize?login=${started.loginId}`);
    expect(flows.started.map((f) => [f.kind, f.context.loginId])).toEqual([["browser", started.loginId]]);

    const completed = client.nextNotification("account/login/completed");
    const updated = client.nextNotification("account/updated");
    await saveChatgptLogin();
    flows.started[0]!.finish({ success: true });
    expect(await completed).toEqual(loginCompleted({ loginId: started.loginId, success: true, error: null }));
    expect(await updated).toEqual(accountUpdated({ authMode: "chatgpt", planType: "pro" }));
    expect(await client.request("account/read", {})).toMatchObject({ account: { type: "chatgpt", planType: "pro" } });
    // Finished: nothing left to cancel.
    expect(await client.request("account/login/cancel", { loginId: started.loginId })).toEqual({ status: "notFound" });
  });

  it("cancels: canceled, then login/completed {success:false} after the response, no account/updated; then notFound", async () => {
    await start();
    const started = await client.request("account/login/start", { type: "chatgptDeviceCode" });
    if (started.type !== "chatgptDeviceCode") throw new Error("unreachable");
    expect(started).toMatchObject({ verificationUrl: "https://auth.example/codex/device", userCode: "ABCD-1234" });
    notifications.length = 0;

    const order: string[] = [];
    client.tap((direction, message) => {
      if (direction === "in") order.push(typeof message.method === "string" ? message.method : `response:${String(message.id)}`);
    });
    const cancel = await client.request("account/login/cancel", { loginId: started.loginId.toUpperCase() });
    expect(cancel).toEqual({ status: "canceled" });
    expect(await settle()).toEqual([
      { method: "account/login/completed", params: loginCompleted({ loginId: started.loginId, success: false, error: "Login was not completed" }) },
    ]);
    expect(order.slice(0, 2)).toEqual([expect.stringMatching(/^response:/), "account/login/completed"]);
    expect(flows.started[0]!.context.signal.aborted).toBe(true);
    // A flow that resolves after the cancel changes nothing.
    flows.started[0]!.finish({ success: true });
    expect(await settle()).toEqual([]);
    expect(await client.request("account/login/cancel", { loginId: started.loginId })).toEqual({ status: "notFound" });
  });

  it("replaces a pending login with a new one, an API key login or external tokens", async () => {
    await start();
    const first = await client.request("account/login/start", { type: "chatgpt" });
    const second = await client.request("account/login/start", { type: "chatgpt" });
    if (first.type !== "chatgpt" || second.type !== "chatgpt") throw new Error("unreachable");
    expect(second.loginId).not.toBe(first.loginId);
    expect(await settle()).toEqual([
      {
        method: "account/login/completed",
        params: loginCompleted({ loginId: first.loginId, success: false, error: "Login server error: Login was not completed" }),
      },
    ]);

    // A parent app's tokens cancel the pending login (a later cancel of it is notFound).
    await client.request("account/login/start", { type: "chatgptAuthTokens", accessToken: dev.issueTokens().accessToken, chatgptAccountId: "acct-demo" });
    expect((await settle()).map((n) => [n.method, (n.params as { loginId?: unknown; success?: unknown }).loginId, (n.params as { success?: unknown }).success])).toEqual([
      ["account/login/completed", second.loginId, false],
      ["account/login/completed", null, true],
      ["account/updated", undefined, undefined],
    ]);
    expect(await client.request("account/login/cancel", { loginId: second.loginId })).toEqual({ status: "notFound" });
    await client.request("account/logout");
    await settle();

    const third = await client.request("account/login/start", { type: "chatgptDeviceCode" });
    if (third.type !== "chatgptDeviceCode") throw new Error("unreachable");
    await client.request("account/login/start", { type: "apiKey", apiKey: "sk-unit-0123456789abcdef" });
    expect((await settle()).map((n) => n.method)).toEqual(["account/login/completed", "account/login/completed", "account/updated"]);
  });

  it("keeps the pending login when a new start fails, and answers -32603 with Codex's prefix", async () => {
    await start();
    const first = await client.request("account/login/start", { type: "chatgpt" });
    if (first.type !== "chatgpt") throw new Error("unreachable");
    flows.failNextStart = new Error("Address already in use (os error 98)");
    const error = await client.request("account/login/start", { type: "chatgpt" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppServerError);
    expect(error).toMatchObject({ code: -32603, message: "failed to start login server: Address already in use (os error 98)" });
    flows.failNextStart = new Error("error sending request for url (https://auth.example/api/accounts/deviceauth/usercode)");
    expect(await client.request("account/login/start", { type: "chatgptDeviceCode" }).catch((e: unknown) => e)).toMatchObject({
      code: -32603,
      message: "failed to request device code: error sending request for url (https://auth.example/api/accounts/deviceauth/usercode)",
    });
    expect(await client.request("account/login/cancel", { loginId: first.loginId })).toEqual({ status: "canceled" });
  });

  it("logout cancels a pending login", async () => {
    await start();
    const started = await client.request("account/login/start", { type: "chatgpt" });
    if (started.type !== "chatgpt") throw new Error("unreachable");
    await client.request("account/logout");
    expect(await settle()).toEqual([
      {
        method: "account/login/completed",
        params: loginCompleted({ loginId: started.loginId, success: false, error: "Login server error: Login was not completed" }),
      },
      { method: "account/updated", params: accountUpdated({ authMode: null, planType: null }) },
    ]);
  });

  it("reports a failed flow and a timed-out one without account/updated", async () => {
    await start({ loginTimeoutMs: 50 });
    const failed = await client.request("account/login/start", { type: "chatgptDeviceCode" });
    if (failed.type !== "chatgptDeviceCode") throw new Error("unreachable");
    const failure = client.nextNotification("account/login/completed");
    flows.started[0]!.finish({ success: false, error: "device auth failed with status 403 Forbidden" });
    expect(await failure).toEqual(loginCompleted({ loginId: failed.loginId, success: false, error: "device auth failed with status 403 Forbidden" }));

    const slow = await client.request("account/login/start", { type: "chatgpt" });
    if (slow.type !== "chatgpt") throw new Error("unreachable");
    expect(await client.nextNotification("account/login/completed")).toEqual(loginCompleted({ loginId: slow.loginId, success: false, error: "Login timed out" }));
    expect(flows.started[1]!.context.signal.aborted).toBe(true);
    expect((await settle()).map((n) => n.method)).not.toContain("account/updated");
  });

  it("accepts the UUID spellings Codex accepts", () => {
    const id = "6f1c2a3e-1111-4222-8333-444455556666";
    expect(parseLoginId(id.toUpperCase())).toBe(id);
    expect(parseLoginId(id.replace(/-/g, ""))).toBe(id);
    expect(parseLoginId(`{${id}}`)).toBe(id);
    expect(parseLoginId(`urn:uuid:${id}`)).toBe(id);
    expect(parseLoginId("x")).toBeNull();
    expect(parseLoginId(`${id}0`)).toBeNull();
  });
});
