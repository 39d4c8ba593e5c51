import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { initializeMessage, RawAppServer } from "../support/app-server-process.js";
import { OutboundValidator } from "../support/app-server-validation.js";
import { recordedNotification } from "../support/transcripts.js";

/**
 * Start-up workspace routing discovery, as the pinned Codex does it (see the recording
 * v1-getauthstatus-pat-omits-token): one GET wham/accounts/check for a PAT or stored ChatGPT
 * tokens, then one `account/updated {reason: "workspaceRoutingReady"}` after the `initialize`
 * response; nothing for an API key; a failed check sends nothing and logs one line.
 */

const CHECK_PATH = "/backend-api/wham/accounts/check";
const RECORDED = "v1-getauthstatus-pat-omits-token";
const STDERR_DEADLINE_MS = 20_000;

async function stderrLine(server: RawAppServer, text: string): Promise<string> {
  const deadline = Date.now() + STDERR_DEADLINE_MS;
  for (;;) {
    const line = server.stderr.split("\n").find((candidate) => candidate.includes(text));
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error(`no stderr line with ${JSON.stringify(text)} within ${STDERR_DEADLINE_MS} ms:\n${server.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("app-server workspace routing discovery at start-up", () => {
  let dev: DevServer;
  beforeAll(async () => {
    dev = await startDevServer();
  });
  afterAll(async () => {
    await dev?.close();
  });

  function launch(env: Record<string, string>): RawAppServer {
    return new RawAppServer({ env: { ...dev.env(), ...env }, config: [`chatgpt_base_url=${dev.chatgptBaseUrl}`] });
  }

  it("stored ChatGPT tokens: one check with the access token, then workspaceRoutingReady after the initialize response", async () => {
    const tokens = dev.issueTokens();
    const server = launch({});
    const validator = new OutboundValidator();
    const auth = {
      auth_mode: "chatgpt",
      OPENAI_API_KEY: null,
      tokens: { id_token: tokens.idToken, access_token: tokens.accessToken, refresh_token: tokens.refreshToken, account_id: tokens.account.accountId },
      last_refresh: new Date().toISOString(),
    };
    writeFileSync(path.join(server.home.dir, "auth.json"), JSON.stringify(auth));
    const before = dev.count("GET", CHECK_PATH);
    try {
      validator.noteClientRequest(initializeMessage(1));
      const init = await server.call(initializeMessage(1));
      expect(init).toHaveProperty("result");
      const notification = await server.next();
      expect(notification).toEqual({ method: "account/updated", params: { ...recordedNotification(RECORDED, "account/updated"), authMode: "chatgpt" } });
      for (const line of server.lines) validator.checkLine(line);
      expect(validator.problems).toEqual([]);
    } finally {
      expect(await server.close()).toEqual({ code: 0, signal: null });
    }
    expect(dev.count("GET", CHECK_PATH) - before).toBe(1);
    expect(dev.sawBearer(CHECK_PATH, tokens.accessToken)).toBe(true);
    expect(server.stdout.includes(tokens.accessToken)).toBe(false);
  });

  it("a failed check sends nothing and logs one secret-free line; requests are answered meanwhile", async () => {
    dev.failNext(CHECK_PATH, 500);
    const server = launch({ CODEX_ACCESS_TOKEN: "at-demo-valid" });
    try {
      expect(await server.call(initializeMessage(1))).toHaveProperty("result");
      const line = await stderrLine(server, "workspace routing discovery failed");
      expect(line).toContain("500");
      expect(await server.call({ id: 2, method: "getAuthStatus", params: {} })).toMatchObject({ id: 2, result: { authMethod: "personalAccessToken" } });
    } finally {
      expect(await server.close()).toEqual({ code: 0, signal: null });
    }
    expect(server.lines.map((text) => JSON.parse(text) as Record<string, unknown>).filter((message) => "method" in message)).toEqual([]);
    expect(server.stderr.split("\n").filter((text) => text.includes("workspace routing discovery failed"))).toHaveLength(1);
    expect(server.stderr.includes("at-demo-valid")).toBe(false);
  });

  it("an API key: no check, no notification (the recorded apikey session has none)", async () => {
    const server = launch({});
    writeFileSync(path.join(server.home.dir, "auth.json"), JSON.stringify({ auth_mode: "apikey", OPENAI_API_KEY: "sk-routing-test-key" }));
    const before = dev.count("GET", CHECK_PATH);
    try {
      expect(await server.call(initializeMessage(1))).toHaveProperty("result");
      expect(await server.call({ id: 2, method: "getAuthStatus", params: {} })).toMatchObject({ id: 2, result: { authMethod: "apikey" } });
    } finally {
      expect(await server.close()).toEqual({ code: 0, signal: null });
    }
    expect(server.lines).toHaveLength(2);
    expect(dev.count("GET", CHECK_PATH) - before).toBe(0);
  });
});
