import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AuthDotJson } from "../../generated/storage/auth-json.js";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import type { AccountLoginCompletedNotification, AccountUpdatedNotification } from "../../src/protocol/index.js";
import { freePort } from "../auth/chatgpt/support.js";
import { spawnAppServer, type SpawnedAppServer } from "../support/app-server-process.js";
import { describeWithChromium, launchChromium, type Browser } from "../support/chromium.js";
import { startCodexAuth } from "../support/cli-session.js";
import { runCodexAuth, tempDir, type TempDir } from "../support/cli-process.js";
import { startIssuerProxy, type IssuerProxy } from "../support/issuer-proxy.js";
import { CapturedStreams } from "../support/secrets.js";
import { accountUpdated, loginCompleted } from "../support/transcripts.js";
import { until } from "../support/helpers.js";

/**
 * Browser login end to end in a real browser: headless Chromium (Debian's package, driven by
 * playwright-core) on the dev issuer's authorize page, clicking Approve or Deny, against the spawned
 * `codex-auth login` and the spawned app-server. The issuer is reached through a recording proxy so
 * the scans also know the authorization code and the PKCE verifier the child processes sent.
 */
describeWithChromium("ChatGPT browser login in Chromium", () => {
  let dev: DevServer;
  let proxy: IssuerProxy;
  let browser: Browser;
  let home: TempDir;
  const captured = new CapturedStreams();
  /** Every URL the browser visited (checked for tokens and the verifier; the code is expected in the callback). */
  const visited: string[] = [];
  /** Every page's HTML. */
  const pages: string[] = [];

  beforeAll(async () => {
    dev = await startDevServer();
    proxy = await startIssuerProxy(dev.url);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await dev?.close();
    // Tokens, refresh tokens, id_tokens, exchanged API keys, authorization codes and verifiers.
    const secrets = proxy.secrets();
    expect(secrets.length).toBeGreaterThan(10);
    // The PKCE verifiers (base64url of 64 random bytes) of the four logins that reached the code exchange are among them.
    expect(proxy.verifiers()).toHaveLength(4);
    expect(proxy.verifiers().every((verifier) => /^[A-Za-z0-9_-]{86}$/.test(verifier) && secrets.includes(verifier))).toBe(true);
    captured.assertNoSecrets(secrets);
    const urlSecrets = secrets.filter((secret) => !visited.some((url) => new URL(url).searchParams.get("code") === secret));
    const urls = new CapturedStreams();
    visited.forEach((url) => urls.add("browser URL", url));
    urls.assertNoSecrets(urlSecrets);
    const html = new CapturedStreams();
    pages.forEach((text) => html.add("page HTML", text));
    html.assertNoSecrets(secrets);
  });
  beforeEach(() => {
    home = tempDir("codex-auth-browser-login-");
    dev.setAuthorizeMode("page");
    dev.setNextAccount(null);
  });
  afterEach(() => home.remove());

  /** The CLI's environment: the dev server behind the proxy, a free callback port, no browser opener. */
  function env(port: number): Record<string, string> {
    return { ...serverEnv(port), CODEX_HOME: home.dir };
  }

  function serverEnv(port: number): Record<string, string> {
    return { ...dev.env(), CODEX_AUTH_ISSUER: proxy.url, CODEX_AUTH_LOGIN_PORT: String(port), CODEX_AUTH_NO_BROWSER: "1" };
  }

  async function openPage(): Promise<Page> {
    const page = await browser.newPage();
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame()) visited.push(frame.url());
    });
    return page;
  }

  /** Opens the authorize URL, checks the page, clicks a button, and returns where the browser landed. */
  async function decide(authUrl: string, decision: "approve" | "deny", accountId?: string): Promise<{ page: Page; text: string }> {
    const page = await openPage();
    await page.goto(authUrl);
    expect(await page.textContent("h1")).toBe("Sign in to Codex");
    pages.push(await page.content());
    if (accountId !== undefined) await page.fill("input[name=account_id]", accountId);
    await Promise.all([page.waitForURL((url) => url.hostname === "127.0.0.1" && url.pathname !== "/oauth/authorize"), page.click(`button[value=${decision}]`)]);
    await page.waitForLoadState("load");
    const html = await page.content();
    pages.push(html);
    return { page, text: (await page.textContent("body")) ?? "" };
  }

  function readAuth(): AuthDotJson {
    return JSON.parse(readFileSync(path.join(home.dir, "auth.json"), "utf8")) as AuthDotJson;
  }

  it("codex-auth login: Approve lands on the success page, exit 0, `login status` says ChatGPT, auth.json 0600", async () => {
    const port = await freePort();
    const cli = startCodexAuth(["login"], env(port));
    const [, authUrl] = (await cli.waitFor("stderr", /\n\n(http:\/\/\S+\/oauth\/authorize\?\S+)\n\n/)) as RegExpMatchArray & [string, string];
    expect(cli.stderr()).toBe(
      `Starting local login server on http://localhost:${port}.\nIf your browser did not open, navigate to this URL to authenticate:\n\n${authUrl}\n\nOn a remote or headless machine? Use \`codex-auth login --device-auth\` instead.\n`,
    );
    const query = new URL(authUrl).searchParams;
    expect([...query.keys()]).toEqual([
      "response_type",
      "client_id",
      "redirect_uri",
      "code_challenge",
      "code_challenge_method",
      "state",
      "scope",
      "id_token_add_organizations",
      "codex_cli_simplified_flow",
      "originator",
    ]);
    expect(query.get("redirect_uri")).toBe(`http://127.0.0.1:${port}/auth/callback`);
    expect(query.get("code_challenge_method")).toBe("S256");

    const { page, text } = await decide(authUrl, "approve");
    expect(page.url()).toBe(`http://127.0.0.1:${port}/success`);
    expect(await page.textContent("h1")).toBe("Signed in to Codex");
    expect(text).toContain("You may now close this page");
    await page.close();

    expect(await cli.exit()).toBe(0);
    expect(cli.stderr().endsWith("\nSuccessfully logged in\n")).toBe(true);
    expect(cli.stdout()).toBe("");
    captured.add("login stderr", cli.stderr());

    const authFile = path.join(home.dir, "auth.json");
    expect(statSync(authFile).mode & 0o777).toBe(0o600);
    const auth = readAuth();
    expect(auth).toMatchObject({ auth_mode: "chatgpt", tokens: { account_id: "acct-demo" } });
    expect(typeof auth.OPENAI_API_KEY).toBe("string");
    expect(auth.last_refresh).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

    const status = await runCodexAuth(["login", "status"], { env: { ...dev.env(), CODEX_HOME: home.dir } });
    expect(status).toEqual({ code: 0, stdout: "", stderr: "Logged in using ChatGPT\n" });
    const json = await runCodexAuth(["login", "status", "--json"], { env: { ...dev.env(), CODEX_HOME: home.dir } });
    expect(JSON.parse(json.stdout)).toMatchObject({ loggedIn: true, authMode: "chatgpt", accountId: "acct-demo", email: "demo@example.com", planType: "plus" });
    captured.add("status", status.stderr + json.stdout + json.stderr);
  });

  it("codex-auth login: Deny shows the error page, prints Codex's lines, exit 1, nothing saved", async () => {
    const port = await freePort();
    const cli = startCodexAuth(["login"], env(port));
    const [, authUrl] = (await cli.waitFor("stderr", /\n\n(http:\/\/\S+)\n\n/)) as RegExpMatchArray & [string, string];
    const { page, text } = await decide(authUrl, "deny");
    expect(await page.textContent("h1")).toBe("Sign-in could not be completed");
    expect(text).toContain("Sign-in failed: The user denied the sign-in request.");
    expect(text).toContain("access_denied");
    await page.close();
    expect(await cli.exit()).toBe(1);
    expect(cli.stderr()).toContain(
      "\nOAuth callback error: Sign-in failed: The user denied the sign-in request.\nError logging in: Sign-in failed: The user denied the sign-in request.\n",
    );
    expect(existsSync(path.join(home.dir, "auth.json"))).toBe(false);
    captured.add("deny stderr", cli.stderr());
  });

  it("forced_chatgpt_workspace_id: signing in to another workspace saves nothing (the old auth was cleared first) and says why", async () => {
    writeFileSync(path.join(home.dir, "auth.json"), JSON.stringify({ auth_mode: "apikey", OPENAI_API_KEY: "sk-browser-e2e-previous-key-000" }), { mode: 0o600 });
    const port = await freePort();
    const cli = startCodexAuth(["-c", 'forced_chatgpt_workspace_id="acct-x"', "login"], env(port));
    const [, authUrl] = (await cli.waitFor("stderr", /\n\n(http:\/\/\S+)\n\n/)) as RegExpMatchArray & [string, string];
    expect(new URL(authUrl).searchParams.get("allowed_workspace_id")).toBe("acct-x");
    const { page, text } = await decide(authUrl, "approve", "acct-other");
    expect(await page.textContent("h1")).toBe("Sign-in could not be completed");
    expect(text).toContain("Login is restricted to workspace id(s) acct-x.");
    await page.close();
    expect(await cli.exit()).toBe(1);
    expect(cli.stderr().endsWith("\nError logging in: Login is restricted to workspace id(s) acct-x.\n")).toBe(true);
    // As Codex: existing auth is cleared before a ChatGPT login, and the refused one is never written.
    expect(existsSync(path.join(home.dir, "auth.json"))).toBe(false);
    captured.add("workspace stderr", cli.stderr());
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

    async function startServer(port: number, config: string[] = []) {
      server = spawnAppServer({ env: serverEnv(port), config: [`chatgpt_base_url=${dev.chatgptBaseUrl}`, ...config] });
      const completed: AccountLoginCompletedNotification[] = [];
      const updated: AccountUpdatedNotification[] = [];
      server.client.on("account/login/completed", (params) => completed.push(params));
      server.client.on("account/updated", (params) => updated.push(params));
      await server.client.initialize({ clientInfo: { name: "browser-e2e", version: "1.0.0" } });
      return { client: server.client, completed, updated, home: server.home.dir };
    }

    it("account/login/start chatgpt: authUrl in Chromium, Approve, then login/completed and account/updated", async () => {
      const port = await freePort();
      const { client, completed, updated, home: serverHome } = await startServer(port);
      const started = await client.request("account/login/start", { type: "chatgpt" });
      expect(started.type).toBe("chatgpt");
      if (started.type !== "chatgpt") return;
      const url = new URL(started.authUrl);
      expect(url.origin).toBe(proxy.url);
      expect(url.searchParams.get("originator")).toBe("browser-e2e");
      expect(url.searchParams.get("redirect_uri")).toBe(`http://127.0.0.1:${port}/auth/callback`);

      const { page } = await decide(started.authUrl, "approve");
      expect(await page.textContent("h1")).toBe("Signed in to Codex");
      await page.close();
      await until(() => updated.length > 0);
      expect(completed).toEqual([loginCompleted({ loginId: started.loginId, success: true, error: null })]);
      expect(updated).toEqual([accountUpdated({ authMode: "chatgpt", planType: "plus" })]);
      expect(await client.request("account/read", {})).toMatchObject({ account: { type: "chatgpt", email: "demo@example.com", planType: "plus" } });
      expect(await client.request("getAuthStatus", {})).toEqual({ authMethod: "chatgpt", authToken: null, requiresOpenaiAuth: true });
      const auth = JSON.parse(readFileSync(path.join(serverHome, "auth.json"), "utf8")) as AuthDotJson;
      expect(auth.auth_mode).toBe("chatgpt");
    });

    it("Deny and a foreign workspace complete with success:false and Codex's `Login server error: ...`, and save nothing", async () => {
      const port = await freePort();
      const { client, completed, updated, home: serverHome } = await startServer(port, ['forced_chatgpt_workspace_id="acct-x"']);
      const first = await client.request("account/login/start", { type: "chatgpt" });
      if (first.type !== "chatgpt") throw new Error("expected a chatgpt login");
      const denied = await decide(first.authUrl, "deny");
      expect(denied.text).toContain("access_denied");
      await denied.page.close();
      await until(() => completed.length === 1);

      const second = await client.request("account/login/start", { type: "chatgpt" });
      if (second.type !== "chatgpt") throw new Error("expected a chatgpt login");
      const foreign = await decide(second.authUrl, "approve", "acct-other");
      expect(foreign.text).toContain("Login is restricted to workspace id(s) acct-x.");
      await foreign.page.close();
      await until(() => completed.length === 2);

      expect(completed).toEqual([
        loginCompleted({ loginId: first.loginId, success: false, error: "Login server error: Sign-in failed: The user denied the sign-in request." }),
        loginCompleted({ loginId: second.loginId, success: false, error: "Login server error: Login is restricted to workspace id(s) acct-x." }),
      ]);
      expect(updated).toEqual([]);
      expect(existsSync(path.join(serverHome, "auth.json"))).toBe(false);
    });
  });
});
