import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIN_POLL_INTERVAL_MS, startDeviceCodeLogin } from "../../src/auth/chatgpt/device-code.js";
import { describeSystemError } from "../../src/auth/errors.js";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { describeLibraryError, displayArgument, maskArgumentsIn, terminalSafe } from "../../src/protocol/safe-text.js";
import { freePort } from "../auth/chatgpt/support.js";
import { appServerArgv, initializeMessage, RawAppServer } from "../support/app-server-process.js";
import { useCliHarness } from "../support/cli-harness.js";
import { cleanEnv } from "../support/cli-process.js";
import { startCodexAuth } from "../support/cli-session.js";
import { waitForDist } from "./support.js";

/**
 * One test (or a few) per class of hostile input in issue #10, each asserting the outcome: the
 * message, the exit code, the file state, the response on the wire. The property over every
 * credential entry point is hostile-credentials.test.ts; the rules are in docs/security.md.
 */

const REFUSED = "contains characters that cannot be sent in an HTTP header (only visible ASCII characters are allowed)";
const ESC = "\u001b";

let dev: DevServer;
const cli = useCliHarness(() => ({ ...dev.env(), CODEX_AUTH_NO_BROWSER: "1" }));

beforeAll(async () => {
  waitForDist();
  dev = await startDevServer({ deviceCodeInterval: "1" });
});
afterAll(async () => {
  await dev.close();
});

const authPath = () => path.join(cli.home, "auth.json");

/** A local HTTP server for answers the dev server does not give (an echoing proxy, a hanging poll). */
async function localServer(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("1. a credential that cannot go in an HTTP header is refused where it enters, naming its source", () => {
  it("stdin: login --with-access-token and --with-api-key exit 1, write nothing, and never quote the value", async () => {
    const pat = cli.secret("at-hostile-crlf-0000\r\nX-Injected: 1");
    expect(await cli.run(["login", "--with-access-token"], { stdin: pat })).toEqual({
      code: 1,
      stdout: "",
      stderr: `Reading access token from stdin...\nError logging in with access token: the access token read from stdin ${REFUSED}\n`,
    });
    const key = cli.secret(`sk-proj-hostile-${ESC}]0;owned${"\u0007"}-000000`);
    expect(await cli.run(["login", "--with-api-key"], { stdin: key })).toEqual({
      code: 1,
      stdout: "",
      stderr: `Reading API key from stdin...\nError logging in: the API key read from stdin ${REFUSED}\n`,
    });
    expect(existsSync(authPath())).toBe(false);
  });

  it("CODEX_ACCESS_TOKEN: login status --json reports the source on stdout and stderr, never the token", async () => {
    const token = cli.secret("at-hostile-env-token-0000\rtail");
    const result = await cli.run(["login", "status", "--json"], { env: { CODEX_ACCESS_TOKEN: token } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`Error checking login status: CODEX_ACCESS_TOKEN ${REFUSED}\n`);
    expect(JSON.parse(result.stdout)).toMatchObject({ loggedIn: false, error: `CODEX_ACCESS_TOKEN ${REFUSED}` });
  });

  it("auth.json: a tampered credential field is refused with the path and the field; the file is left as it was", async () => {
    const key = cli.secret(`sk-proj-tampered-${ESC}[2J-0000000000`);
    const text = JSON.stringify({ OPENAI_API_KEY: key }, null, 2);
    writeFileSync(authPath(), text, { mode: 0o600 });
    const status = await cli.run(["login", "status"]);
    expect(status).toEqual({ code: 1, stdout: "", stderr: `Error checking login status: failed to deserialize CLI auth from file "${authPath()}": OPENAI_API_KEY ${REFUSED}\n` });
    // A login does not overwrite it either (malformed files are kept until an explicit logout).
    expect((await cli.run(["login", "--with-api-key"], { stdin: cli.secret("sk-proj-clean-key-0000000000") })).code).toBe(1);
    expect(readFileSync(authPath(), "utf8")).toBe(text);
    expect((await cli.run(["logout"])).code).toBe(0);
    expect(existsSync(authPath())).toBe(false);
  });

  it("app-server: account/login/start apiKey and chatgptAuthTokens answer -32600 naming the field; a refresh answer fails the request", async () => {
    const server = new RawAppServer({ env: dev.env(), config: [dev.configOverrides()[1]!] });
    const hostile = cli.secret("at-hostile-wire-token\r\n0000000000");
    try {
      expect((await server.call(initializeMessage(0, { experimentalApi: true }))).result).toBeDefined();
      expect(await server.call({ id: 1, method: "account/login/start", params: { type: "apiKey", apiKey: hostile } })).toEqual({
        id: 1,
        error: { code: -32600, message: `Invalid request: apiKey ${REFUSED}` },
      });
      expect(await server.call({ id: 2, method: "account/login/start", params: { type: "chatgptAuthTokens", accessToken: hostile, chatgptAccountId: "acct-1" } })).toEqual({
        id: 2,
        error: { code: -32600, message: `Invalid request: accessToken ${REFUSED}` },
      });
      const expired = dev.issueTokens(undefined, { ttlSeconds: -60 });
      server.send({ id: 3, method: "account/login/start", params: { type: "chatgptAuthTokens", accessToken: expired.accessToken, chatgptAccountId: expired.account.accountId } });
      expect(await server.next()).toEqual({ id: 3, result: { type: "chatgptAuthTokens" } });
      await server.next(); // account/login/completed
      await server.next(); // account/updated
      server.send({ id: 4, method: "account/rateLimits/read" });
      const refresh = await server.next();
      expect(refresh.method).toBe("account/chatgptAuthTokens/refresh");
      server.send({ id: refresh.id, result: { accessToken: hostile, chatgptAccountId: expired.account.accountId } });
      expect(await server.next()).toEqual({
        id: 4,
        error: { code: -32603, message: `failed to fetch codex rate limits: auth refresh returned an invalid answer: the refreshed accessToken ${REFUSED}` },
      });
    } finally {
      expect((await server.close()).code).toBe(0);
      cli.captured.add("app-server stdout", server.stdout);
      cli.captured.add("app-server stderr", server.stderr);
    }
  });
});

describe("2. a library's error text never reaches a message: ours is used, without input text", () => {
  it("a short malformed auth.json (V8 would quote it whole): login status names the path, not the content", async () => {
    const secret = cli.secret("sk-short-secret");
    writeFileSync(authPath(), `{"OPENAI_API_KEY": ${secret}}`, { mode: 0o600 });
    expect(await cli.run(["login", "status"])).toEqual({
      code: 1,
      stdout: "",
      stderr: `Error checking login status: failed to deserialize CLI auth from file "${authPath()}": invalid JSON\n`,
    });
  });

  it("a 2xx non-JSON body from AuthAPI that echoes the bearer (a proxy) does not print the PAT", async () => {
    const pat = cli.secret("at-echoed-by-a-proxy-0000000000");
    const proxy = await localServer((request, response) => {
      response.writeHead(200, { "content-type": "text/plain" }).end(`you sent ${request.headers.authorization ?? ""}`);
    });
    try {
      const result = await cli.run(["login", "--with-access-token"], { stdin: pat, env: { CODEX_AUTHAPI_BASE_URL: `${proxy.url}/api/accounts` } });
      expect(result).toEqual({
        code: 1,
        stdout: "",
        stderr: "Reading access token from stdin...\nError logging in with access token: failed to decode personal access token metadata: error decoding response body: invalid JSON\n",
      });
      expect(existsSync(authPath())).toBe(false);
    } finally {
      await proxy.close();
    }
  });

  it("a whoami answer that repeats the PAT in a field we display is refused, not printed", async () => {
    const pat = cli.secret("at-echoed-into-the-email-000000000");
    const proxy = await localServer((request, response) => {
      const bearer = (request.headers.authorization ?? "").replace(/^Bearer /, "");
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ email: bearer, chatgpt_user_id: "u-1", chatgpt_account_id: "a-1", chatgpt_plan_type: "plus" }));
    });
    try {
      expect(await cli.run(["login", "--with-access-token"], { stdin: pat, env: { CODEX_AUTHAPI_BASE_URL: `${proxy.url}/api/accounts` } })).toEqual({
        code: 1,
        stdout: "",
        stderr: "Reading access token from stdin...\nError logging in with access token: failed to decode personal access token metadata: the response repeats the credential\n",
      });
    } finally {
      await proxy.close();
    }
  });

  it("describeLibraryError keeps only kinds, codes and positions", () => {
    const secret = "sk-library-quoted-000000000";
    const errors: unknown[] = [];
    for (const text of [secret, `{"a": 1 ${secret}}`, `{"a":"${secret}`]) {
      try {
        JSON.parse(text);
      } catch (error) {
        errors.push(error);
      }
    }
    try {
      new Headers().set("authorization", `Bearer ${secret}\r\nX-Injected: 1`);
    } catch (error) {
      errors.push(error);
    }
    try {
      new Headers().set("authorization", `Bearer ${secret}€`);
    } catch (error) {
      errors.push(error);
    }
    errors.push(Object.assign(new Error(`ENOENT: no such file or directory, open '/tmp/${secret}'`), { code: "ENOENT" }));
    errors.push(new TypeError("fetch failed", { cause: Object.assign(new Error(`connect ECONNREFUSED ${secret}`), { code: "ECONNREFUSED" }) }));
    errors.push(new RangeError(`weird ${secret}`));
    const described = errors.map(describeLibraryError);
    expect(described).toEqual([
      "invalid JSON",
      "invalid JSON at position 8",
      "invalid JSON: unexpected end of input",
      "a request header holds characters that cannot be sent in an HTTP header",
      "a request header holds characters that cannot be sent in an HTTP header",
      "No such file or directory (ENOENT)",
      "Connection refused (ECONNREFUSED)",
      "unexpected RangeError",
    ]);
    expect(describeSystemError(errors[5])).toBe("No such file or directory (ENOENT)");
  });
});

describe("4. a closed stderr never stops the app-server", () => {
  it("with its stderr closed by the parent, warnings fail silently and every request is answered; exit 0 at EOF", async () => {
    const { command, args } = appServerArgv();
    const child = spawn(command, args, { env: cleanEnv({ CODEX_HOME: cli.home }), stdio: ["pipe", "pipe", "pipe"] });
    child.stderr.destroy();
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    child.stdin.write(`${JSON.stringify(initializeMessage(0))}\n`);
    // Each of these makes the server write a warning to the closed stderr.
    for (let i = 0; i < 50; i++) child.stdin.write(`not json ${i}\n{"method":"unknown/notification"}\n`);
    for (let id = 1; id <= 20; id++) child.stdin.write(`${JSON.stringify({ id, method: "account/read", params: {} })}\n`);
    child.stdin.end();
    expect(await exited).toBe(0);
    const responses = stdout.trim().split("\n").map((line) => JSON.parse(line) as { id?: number; result?: unknown });
    expect(responses.map((message) => message.id)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(responses.every((message) => message.result !== undefined)).toBe(true);
  });
});

describe("5. text from outside reaches the terminal without escape sequences", () => {
  it("terminalSafe removes CSI, OSC, C0/C1 controls and bidi overrides, keeping our line breaks", () => {
    expect(terminalSafe(`a${ESC}[31mred${ESC}[0m ${ESC}]0;title\u0007b\u0007\u0000\u009b2Jc\u202ed\r\nnext\tline`)).toBe("ared bcd\nnext\tline");
  });

  it("the issuer's device user_code and a callback's error_description are printed stripped", async () => {
    dev.injectFault("/api/accounts/deviceauth/usercode", { kind: "contract", body: { device_auth_id: "dev-auth-1", user_code: `AB${ESC}[2J${ESC}]0;owned\u0007CD`, interval: "5" } });
    const device = await cli.run(["login", "--device-auth"], { env: { CODEX_AUTH_DEVICE_CODE_TIMEOUT_MS: "1" } });
    expect(device.code).toBe(1);
    expect(device.stdout).toContain("\n   ABCD\n");
    expect(device.stdout + device.stderr).not.toContain(ESC);
    expect(device.stderr).toBe("Error logging in: device auth timed out after 1 ms\n");

    const port = await freePort();
    const login = startCodexAuth(["login"], { ...dev.env(), CODEX_AUTH_NO_BROWSER: "1", CODEX_HOME: cli.home, CODEX_AUTH_LOGIN_PORT: String(port) });
    const [, authUrl] = (await login.waitFor("stderr", /\n\n(http:\/\/\S+)\n\n/)) as RegExpMatchArray & [string, string];
    const state = new URL(authUrl).searchParams.get("state")!;
    const description = encodeURIComponent(`denied${ESC}[2J${ESC}]52;c;cHduZWQ=\u0007 by policy\u0007`);
    await (await fetch(`http://127.0.0.1:${port}/auth/callback?error=access_denied&error_description=${description}&state=${encodeURIComponent(state)}`)).text();
    expect(await login.exit()).toBe(1);
    expect(login.stderr()).not.toContain(ESC);
    expect(login.stderr()).not.toContain("\u0007");
    expect(login.stderr()).toMatch(/\nOAuth callback error: .*denied by policy.*\nError logging in: .*denied by policy/);
  });
});

describe("6. one argv masker: no command echoes a pasted credential", () => {
  const key = "sk-proj-pasted-on-the-command-line-12345";

  it("app-server <key>, app-server --listen=<key>, dev-server <key>, -c <key>, -c key=<key>", async () => {
    cli.secret(key);
    const masked = displayArgument(key);
    expect(masked).toBe("sk-proj-***12345");
    expect(await cli.run(["app-server", key])).toEqual({ code: 2, stdout: "", stderr: `error: unexpected argument '${masked}' found\n\nUsage: codex-auth app-server [--listen stdio://]\n` });
    expect((await cli.run(["app-server", `--listen=${key}`])).stderr).toBe(`error: unsupported --listen value '${masked}': only stdio:// is supported\n\nUsage: codex-auth app-server [--listen stdio://]\n`);
    expect((await cli.run(["dev-server", key])).stderr).toMatch(new RegExp(`^error: unexpected argument ${masked.replace(/\*/g, "\\*")}\n`));
    expect(await cli.run(["-c", key, "login", "status"])).toEqual({ code: 1, stdout: "", stderr: `Error parsing -c overrides: Invalid override (missing '='): ${masked}\n` });
    const value = await cli.run(["-c", `forced_login_method=${key}`, "login", "status"]);
    expect(value.code).toBe(1);
    expect(value.stderr).toContain(masked);
    expect(maskArgumentsIn(`unknown variant \`${key}\``, [`forced_login_method=${key}`])).toBe(`unknown variant \`${masked}\``);
  });
});

describe("9. device-code polling: a floor on the interval, and a cancel ends an in-flight wait at once", () => {
  /** An issuer whose device code says `interval: "0"`; polls are recorded, and answered 403 (pending) or never. */
  async function issuer(mode: "pending" | "hang") {
    const polls: number[] = [];
    let pollClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => (pollClosed = resolve));
    const server = await localServer((request, response) => {
      if (request.url?.endsWith("/usercode")) {
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ device_auth_id: "d-1", user_code: "ABCD-2345", interval: "0" }));
        return;
      }
      polls.push(performance.now());
      if (mode === "pending") {
        response.writeHead(403, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "deviceauth_authorization_pending" } }));
        return;
      }
      request.socket.on("close", () => pollClosed());
    });
    return { ...server, polls, closed };
  }

  async function waitFor(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  it("interval \"0\" is polled no faster than the floor (default 1 s, lowered by the knob)", async () => {
    expect(MIN_POLL_INTERVAL_MS).toBe(1_000);
    const fast = await issuer("pending");
    try {
      const login = await startDeviceCodeLogin({ issuer: fast.url, persist: async () => {}, env: { CODEX_AUTH_DEVICE_CODE_MIN_INTERVAL_MS: "150" }, maxWaitMs: 600_000 });
      await waitFor(() => fast.polls.length >= 4);
      login.cancel();
      await expect(login.done).rejects.toThrow("Login was not completed");
      const gaps = fast.polls.slice(1).map((at, i) => at - fast.polls[i]!);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(145);
    } finally {
      await fast.close();
    }
    const slow = await issuer("pending");
    try {
      const login = await startDeviceCodeLogin({ issuer: slow.url, persist: async () => {}, env: {}, maxWaitMs: 600_000 });
      await waitFor(() => slow.polls.length >= 2);
      login.cancel();
      await expect(login.done).rejects.toThrow("Login was not completed");
      expect(slow.polls[1]! - slow.polls[0]!).toBeGreaterThanOrEqual(MIN_POLL_INTERVAL_MS - 5);
    } finally {
      await slow.close();
    }
  });

  it("a cancel while a poll is in flight aborts that request (its deadline is 10 minutes here)", async () => {
    const hanging = await issuer("hang");
    try {
      const login = await startDeviceCodeLogin({ issuer: hanging.url, persist: async () => {}, env: {}, httpTimeoutMs: 600_000, maxWaitMs: 600_000 });
      await waitFor(() => hanging.polls.length >= 1);
      login.cancel();
      await expect(login.done).rejects.toThrow("Login was not completed");
      // The issuer sees the poll's connection closed by the client: the wait ended, not just our interest in it.
      await hanging.closed;
    } finally {
      await hanging.close();
    }
  });
});
