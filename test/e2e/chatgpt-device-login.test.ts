import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AuthDotJson } from "../../generated/storage/auth-json.js";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import type { AccountLoginCompletedNotification, AccountUpdatedNotification } from "../../src/protocol/index.js";
import { spawnAppServer, type SpawnedAppServer } from "../support/app-server-process.js";
import { startCodexAuth } from "../support/cli-session.js";
import { runCodexAuth, tempDir, type TempDir } from "../support/cli-process.js";
import { startIssuerProxy, type IssuerProxy } from "../support/issuer-proxy.js";
import { CapturedStreams } from "../support/secrets.js";
import { accountUpdated, loginCompleted } from "../support/transcripts.js";
import { until } from "../support/helpers.js";

const VERSION = (JSON.parse(readFileSync(path.join(import.meta.dirname, "../../package.json"), "utf8")) as { version: string }).version;

/**
 * Device-code login end to end: the spawned `codex-auth login --device-auth` and the spawned
 * app-server against the dev issuer (polling interval "1"), with a slow approval, the timeout (a
 * small configured limit, asserted by outcome), a disabled issuer and a cancel.
 */
describe("ChatGPT device-code login", () => {
  let dev: DevServer;
  let proxy: IssuerProxy;
  let home: TempDir;
  const captured = new CapturedStreams();

  beforeAll(async () => {
    dev = await startDevServer({ deviceCodeInterval: "1" });
    proxy = await startIssuerProxy(dev.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await dev?.close();
    const secrets = proxy.secrets();
    expect(secrets.length).toBeGreaterThan(5);
    captured.assertNoSecrets(secrets);
  });
  beforeEach(() => {
    home = tempDir("codex-auth-device-login-");
    dev.setDeviceCodeSettings({ enabled: true, interval: "1", autoApproveAfterPolls: null });
  });
  afterEach(() => home.remove());

  const env = (extra: Record<string, string> = {}) => ({ ...dev.env(), CODEX_AUTH_ISSUER: proxy.url, CODEX_HOME: home.dir, ...extra });
  const authFile = () => path.join(home.dir, "auth.json");

  /** Waits until the newest device code has been polled `polls` times (a slow approval). */
  async function polled(userCode: string, polls: number): Promise<void> {
    for (let i = 0; i < 400; i++) {
      if ((dev.deviceCodes.find((code) => code.userCode === userCode)?.polls ?? 0) >= polls) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`device code ${userCode} was not polled ${polls} times`);
  }

  it("codex-auth login --device-auth: prompt on stdout, slow approval, `Successfully logged in`, revoking the old auth first", async () => {
    // An existing managed login: revoked and removed before the new device code is requested.
    const previous = dev.issueTokens();
    const before: AuthDotJson = {
      auth_mode: "chatgpt",
      OPENAI_API_KEY: null,
      tokens: { id_token: previous.idToken, access_token: previous.accessToken, refresh_token: previous.refreshToken, account_id: previous.account.accountId },
      last_refresh: new Date().toISOString(),
    };
    writeFileSync(authFile(), JSON.stringify(before, null, 2), { mode: 0o600 });
    const firstRequest = dev.requests.length;

    const cli = startCodexAuth(["login", "--device-auth"], env());
    const [, userCode] = (await cli.waitFor("stdout", /\n {3}(\w{4}-\w{4,5})\n/)) as RegExpMatchArray & [string, string];
    await cli.waitFor("stdout", /cancel\.\n\n$/);
    expect(cli.stdout()).toBe(
      [
        "",
        `Welcome to codex-auth [v${VERSION}]`,
        "The Codex login and account system",
        "",
        "Follow these steps to sign in with ChatGPT using device code authorization:",
        "",
        "1. Open this link in your browser and sign in to your account",
        `   ${proxy.url}/codex/device`,
        "",
        "2. Enter this one-time code (expires in 15 minutes)",
        `   ${userCode}`,
        "",
        "Continue only if you started this login in codex-auth. If a website or another person gave you this code, cancel.",
        "",
        "",
      ].join("\n"),
    );
    await polled(userCode, 3);
    dev.approveDeviceCode(userCode);
    expect(await cli.exit()).toBe(0);
    expect(cli.stderr()).toBe("Successfully logged in\n");
    captured.add("device stdout", cli.stdout());
    captured.add("device stderr", cli.stderr());

    const paths = dev.requests.slice(firstRequest).map((request) => `${request.method} ${request.path}`);
    expect(paths.indexOf("POST /oauth/revoke")).toBeGreaterThanOrEqual(0);
    expect(paths.indexOf("POST /oauth/revoke")).toBeLessThan(paths.indexOf("POST /api/accounts/deviceauth/usercode"));
    expect(paths.filter((p) => p === "POST /api/accounts/deviceauth/token").length).toBeGreaterThanOrEqual(4);
    expect(dev.wasRevoked(previous.refreshToken)).toBe(true);

    expect(statSync(authFile()).mode & 0o777).toBe(0o600);
    const auth = JSON.parse(readFileSync(authFile(), "utf8")) as AuthDotJson;
    expect(auth).toMatchObject({ auth_mode: "chatgpt", OPENAI_API_KEY: null, tokens: { account_id: "acct-demo" } });
    expect(auth.tokens?.refresh_token).not.toBe(previous.refreshToken);
    const status = await runCodexAuth(["login", "status"], { env: { CODEX_HOME: home.dir } });
    expect(status).toEqual({ code: 0, stdout: "", stderr: "Logged in using ChatGPT\n" });
    captured.assertNoSecrets([previous.idToken, previous.accessToken, previous.refreshToken]);
  });

  it("times out after the configured limit with the limit in the message; nothing saved", async () => {
    const cli = startCodexAuth(["login", "--device-auth"], env({ CODEX_AUTH_DEVICE_CODE_TIMEOUT_MS: "2000" }));
    await cli.waitFor("stdout", /\(expires in 2 seconds\)/);
    expect(await cli.exit()).toBe(1);
    expect(cli.stderr()).toBe("Error logging in: device auth timed out after 2 seconds\n");
    expect(existsSync(authFile())).toBe(false);
    captured.add("timeout stderr", cli.stderr());
  });

  it("an issuer without device code login: Codex's message, exit 1, no prompt", async () => {
    dev.setDeviceCodeSettings({ enabled: false });
    const result = await runCodexAuth(["login", "--device-auth"], { env: env() });
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: "Error logging in: device code login is not enabled for this Codex server. Use the browser login or verify the server URL.\n",
    });
  });

  it("forced_chatgpt_workspace_id applies to device code too", async () => {
    dev.setNextAccount({ accountId: "acct-other" });
    try {
      const cli = startCodexAuth(["-c", 'forced_chatgpt_workspace_id="acct-x"', "login", "--device-auth"], env());
      const [, userCode] = (await cli.waitFor("stdout", /\n {3}(\w{4}-\w{4,5})\n/)) as RegExpMatchArray & [string, string];
      dev.approveDeviceCode(userCode);
      expect(await cli.exit()).toBe(1);
      expect(cli.stderr()).toBe("Error logging in: Login is restricted to workspace id(s) acct-x.\n");
      expect(existsSync(authFile())).toBe(false);
    } finally {
      dev.setNextAccount(null);
    }
  });

  describe("through the app-server", () => {
    let server: SpawnedAppServer | null = null;
    afterEach(async () => {
      if (server) {
        captured.add("app-server stdout", server.stdout());
        captured.add("app-server stderr", server.stderr());
        expect(await server.close()).toEqual({ code: 0, signal: null });
      }
      server = null;
    });

    async function startServer(extraEnv: Record<string, string> = {}) {
      server = spawnAppServer({ env: { ...dev.env(), CODEX_APP_SERVER_LOGIN_ISSUER: proxy.url, ...extraEnv } });
      const completed: AccountLoginCompletedNotification[] = [];
      const updated: AccountUpdatedNotification[] = [];
      server.client.on("account/login/completed", (params) => completed.push(params));
      server.client.on("account/updated", (params) => updated.push(params));
      await server.client.initialize({ clientInfo: { name: "device-e2e", version: "1.0.0" } });
      return { client: server.client, completed, updated, home: server.home.dir };
    }

    it("chatgptDeviceCode: {loginId, verificationUrl, userCode}, slow approval, then login/completed and account/updated", async () => {
      const { client, completed, updated, home: serverHome } = await startServer();
      const started = await client.request("account/login/start", { type: "chatgptDeviceCode" });
      if (started.type !== "chatgptDeviceCode") throw new Error("expected a device-code login");
      expect(started.verificationUrl).toBe(`${proxy.url}/codex/device`);
      expect(started.userCode).toMatch(/^\w{4}-\w{4,5}$/);
      await polled(started.userCode, 2);
      expect(completed).toEqual([]);
      dev.approveDeviceCode(started.userCode);
      await until(() => updated.length > 0);
      expect(completed).toEqual([loginCompleted({ loginId: started.loginId, success: true, error: null })]);
      expect(updated).toEqual([accountUpdated({ authMode: "chatgpt", planType: "plus" })]);
      const auth = JSON.parse(readFileSync(path.join(serverHome, "auth.json"), "utf8")) as AuthDotJson;
      expect(auth).toMatchObject({ auth_mode: "chatgpt", OPENAI_API_KEY: null });
    });

    it("cancel stops polling (`Login was not completed`); the timeout completes with its message", async () => {
      const { client, completed } = await startServer({ CODEX_AUTH_DEVICE_CODE_TIMEOUT_MS: "2000" });
      const first = await client.request("account/login/start", { type: "chatgptDeviceCode" });
      if (first.type !== "chatgptDeviceCode") throw new Error("expected a device-code login");
      expect(await client.request("account/login/cancel", { loginId: first.loginId })).toEqual({ status: "canceled" });
      const pollsAtCancel = dev.deviceCodes.find((code) => code.userCode === first.userCode)?.polls ?? 0;
      await until(() => completed.length === 1);

      const second = await client.request("account/login/start", { type: "chatgptDeviceCode" });
      if (second.type !== "chatgptDeviceCode") throw new Error("expected a device-code login");
      await until(() => completed.length === 2);
      expect(completed).toEqual([
        loginCompleted({ loginId: first.loginId, success: false, error: "Login was not completed" }),
        loginCompleted({ loginId: second.loginId, success: false, error: "device auth timed out after 2 seconds" }),
      ]);
      // Polling stopped: at most the one poll already in flight when the cancel arrived was answered later (2 s, two intervals, ago).
      expect(dev.deviceCodes.find((code) => code.userCode === first.userCode)?.polls ?? 0).toBeLessThanOrEqual(pollsAtCancel + 1);
      expect(await client.request("account/read", {})).toMatchObject({ account: null });
    });
  });
});
