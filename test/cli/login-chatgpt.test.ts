import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { browserCommand, shouldOpenBrowser } from "../../src/cli/browser.js";
import { deviceCodePrompt } from "../../src/cli/commands/login-chatgpt.js";
import { readLoginKnobs } from "../../src/cli/login-knobs.js";
import { freePort } from "../auth/chatgpt/support.js";
import { useCliHarness } from "../support/cli-harness.js";
import { hasCommand } from "../support/cli-process.js";
import { itIf, scriptCommand } from "../support/requirements.js";
import { startCodexAuth } from "../support/cli-session.js";

/**
 * `codex-auth login` / `login --device-auth` details that need no browser: the forced-method gate,
 * Ctrl-C, busy ports, the knobs, Codex's failure lines, the hidden issuer flag, when a browser is
 * opened and when the prompt is coloured.
 */
let dev: DevServer;
const cli = useCliHarness(() => ({ ...dev.env(), CODEX_AUTH_NO_BROWSER: "1" }));

beforeAll(async () => {
  dev = await startDevServer({ deviceCodeInterval: "1" });
});
afterAll(async () => {
  await dev.close();
});

function session(args: string[], env: Record<string, string> = {}) {
  return startCodexAuth(args, { ...dev.env(), CODEX_AUTH_NO_BROWSER: "1", CODEX_HOME: cli.home, ...env });
}

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

describe("ChatGPT login gates and failures", () => {
  it("forced_login_method = api refuses browser and device login with Codex's text, before anything is cleared", async () => {
    await cli.run(["login", "--with-api-key"], { stdin: cli.secret("sk-chatgpt-gate-000000000000") });
    for (const args of [["login"], ["login", "--device-auth"]]) {
      expect(await cli.run(["-c", 'forced_login_method="api"', ...args])).toEqual({
        code: 1,
        stdout: "",
        stderr: "ChatGPT login is disabled. Use API key login instead.\n",
      });
    }
    expect(existsSync(path.join(cli.home, "auth.json"))).toBe(true);
  });

  it("rejects a malformed knob", async () => {
    expect(await cli.run(["login"], { env: { CODEX_AUTH_LOGIN_PORT: "http" } })).toEqual({
      code: 1,
      stdout: "",
      stderr: "Error logging in: CODEX_AUTH_LOGIN_PORT must be an integer from 0 to 65535, got 'http'\n",
    });
    expect(() => readLoginKnobs({ CODEX_AUTH_DEVICE_CODE_TIMEOUT_MS: "0" })).toThrow("CODEX_AUTH_DEVICE_CODE_TIMEOUT_MS must be an integer from 1");
    expect(readLoginKnobs({ CODEX_AUTH_LOGIN_PORT: " 0 ", CODEX_AUTH_DEVICE_CODE_TIMEOUT_MS: "1500" })).toEqual({ loginPort: 0, deviceCodeTimeoutMs: 1500 });
    expect(readLoginKnobs({})).toEqual({});
  });

  it("Ctrl-C cancels a browser login: `Error logging in: Login was not completed`, exit 130, the port is released", async () => {
    const port = await freePort();
    const login = session(["login"], { CODEX_AUTH_LOGIN_PORT: String(port) });
    await login.waitFor("stderr", /instead\.\n$/);
    expect(await portIsFree(port)).toBe(false);
    login.child.kill("SIGINT");
    expect(await login.exit()).toBe(130);
    expect(login.stderr().endsWith("\nError logging in: Login was not completed\n")).toBe(true);
    expect(await portIsFree(port)).toBe(true);
  });

  it("Ctrl-C stops a device-code login the same way", async () => {
    const login = session(["login", "--device-auth"]);
    await login.waitFor("stdout", /cancel\.\n\n$/);
    login.child.kill("SIGINT");
    expect(await login.exit()).toBe(130);
    expect(login.stderr()).toBe("Error logging in: Login was not completed\n");
  });

  it("uses port 1455 by default (when it is free here)", async (context) => {
    if (!(await portIsFree(1455))) context.skip();
    const login = session(["login"]);
    const [, port] = (await login.waitFor("stderr", /^Starting local login server on http:\/\/localhost:(\d+)\.\n/)) as RegExpMatchArray & [string, string];
    expect(port).toBe("1455");
    expect(login.stderr()).toContain("redirect_uri=http%3A%2F%2F127.0.0.1%3A1455%2Fauth%2Fcallback");
    login.child.kill("SIGINT");
    expect(await login.exit()).toBe(130);
  });

  it("a busy port that is not ours: `Error logging in: Port 127.0.0.1:<p> is already in use`", async () => {
    const busy = createServer((_request, response) => response.writeHead(404).end());
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const result = await cli.run(["login"], { env: { CODEX_AUTH_LOGIN_PORT: String(port) } });
      expect(result).toEqual({ code: 1, stdout: "", stderr: `Error logging in: Port 127.0.0.1:${port} is already in use\n` });
    } finally {
      busy.closeAllConnections();
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });

  it("a failed code exchange prints Codex's two lines", async () => {
    const port = await freePort();
    const login = session(["login"], { CODEX_AUTH_LOGIN_PORT: String(port) });
    const [, authUrl] = (await login.waitFor("stderr", /\n\n(http:\/\/\S+)\n\n/)) as RegExpMatchArray & [string, string];
    const state = new URL(authUrl).searchParams.get("state")!;
    const callback = await fetch(`http://127.0.0.1:${port}/auth/callback?code=not-a-code-the-issuer-made&state=${encodeURIComponent(state)}`);
    expect(await callback.text()).toContain("token_exchange_failed");
    expect(await login.exit()).toBe(1);
    const lines = login.stderr().trimEnd().split("\n").slice(-2);
    expect(lines[0]).toMatch(/^Token exchange error: token endpoint returned status 400 Bad Request: \S/);
    expect(lines[1]).toBe(lines[0]!.replace("Token exchange error: ", "Error logging in: Token exchange failed: "));
  });

  it("the hidden --experimental_issuer wins over CODEX_AUTH_ISSUER; a missing value is a usage error", async () => {
    const port = await freePort();
    const login = session(["login", "--experimental_issuer", dev.issuerUrl], { CODEX_AUTH_LOGIN_PORT: String(port), CODEX_AUTH_ISSUER: "http://127.0.0.1:9" });
    const [, authUrl] = (await login.waitFor("stderr", /\n\n(http:\/\/\S+)\n\n/)) as RegExpMatchArray & [string, string];
    expect(authUrl.startsWith(`${dev.issuerUrl}/oauth/authorize?`)).toBe(true);
    login.child.kill("SIGINT");
    expect(await login.exit()).toBe(130);
    expect((await cli.run(["login", "--experimental_issuer"])).code).toBe(2);
  });
});

describe("browser opening and the device prompt", () => {
  it("opens a browser only with a display, never under CI or with CODEX_AUTH_NO_BROWSER", () => {
    expect(shouldOpenBrowser({ DISPLAY: ":0" }, "linux")).toBe(true);
    expect(shouldOpenBrowser({ WAYLAND_DISPLAY: "wayland-0" }, "linux")).toBe(true);
    expect(shouldOpenBrowser({}, "linux")).toBe(false);
    expect(shouldOpenBrowser({ DISPLAY: ":0", CI: "true" }, "linux")).toBe(false);
    expect(shouldOpenBrowser({ CI: "1" }, "darwin")).toBe(false);
    expect(shouldOpenBrowser({ DISPLAY: ":0", CODEX_AUTH_NO_BROWSER: "1" }, "linux")).toBe(false);
    expect(shouldOpenBrowser({ CODEX_AUTH_NO_BROWSER: "0" }, "darwin")).toBe(true);
    expect(browserCommand("http://x/?a=1&b=2", "linux")).toEqual({ command: "xdg-open", args: ["http://x/?a=1&b=2"] });
    expect(browserCommand("http://x/", "darwin")).toEqual({ command: "open", args: ["http://x/"] });
    expect(browserCommand("http://x/?a=1&b=2", "win32")).toEqual({ command: "cmd", args: ["/c", "start", '""', "http://x/?a=1^&b=2"] });
  });

  it("colours the device prompt only on request", () => {
    const input = { version: "1.2.3", verificationUrl: "http://issuer/codex/device", userCode: "ABCD-1234", expiresIn: "15 minutes" };
    const plain = deviceCodePrompt({ ...input, color: false });
    expect(plain).not.toContain("\u001b[");
    const coloured = deviceCodePrompt({ ...input, color: true });
    expect(coloured).toContain("   \u001b[94mABCD-1234\u001b[0m\n");
    expect(coloured.replace(/\u001b\[\d+m/g, "")).toBe(plain);
  });

  itIf(scriptCommand(hasCommand("script")), "colours the prompt on a terminal, not with NO_COLOR (a deliberate difference from Codex)", async () => {
    // CI exports NO_COLOR (and FORCE_COLOR=0) for readable logs: the terminal case runs without them.
    const env = { CODEX_AUTH_DEVICE_CODE_TIMEOUT_MS: "1000", NO_COLOR: undefined, FORCE_COLOR: undefined };
    const tty = await cli.run(["login", "--device-auth"], { stdin: "tty", env });
    expect(tty.stdout).toContain("\u001b[94m");
    expect(tty.stdout).toContain("device auth timed out after 1 second");
    const noColor = await cli.run(["login", "--device-auth"], { stdin: "tty", env: { ...env, NO_COLOR: "1" } });
    expect(noColor.stdout).toContain("Follow these steps to sign in with ChatGPT using device code authorization:");
    expect(noColor.stdout).not.toContain("\u001b[");
  });
});
