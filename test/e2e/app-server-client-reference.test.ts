import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppServerClient, AppServerError } from "../../src/client/index.js";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { appServerArgv, tempCodexHome } from "../support/app-server-process.js";
import { CODEX_VERSION, referenceCodexBinary } from "../support/codex-reference.js";

/**
 * Differential run: the same typed-client script against the reference `codex app-server`
 * (the pinned Codex, from the cache `npm run upstream:install` fills; CODEX_REFERENCE_BIN overrides)
 * and against `codex-auth app-server`. Results, errors and notifications must match after
 * normalising host-dependent fields. Never skipped: the binary is installed on first use.
 */
const REFERENCE = referenceCodexBinary();

type Step = { step: string; outcome: unknown };

async function script(client: AppServerClient, dev: DevServer): Promise<Step[]> {
  const steps: Step[] = [];
  const notifications: unknown[] = [];
  client.onAnyNotification((method, params) => {
    if (method.startsWith("account/")) notifications.push({ method, params });
  });
  const record = async (step: string, call: () => Promise<unknown>) => {
    let outcome: unknown;
    try {
      outcome = { result: await call() };
    } catch (error) {
      outcome = error instanceof AppServerError ? { error: { code: error.code, message: error.message.split(", expected")[0] } } : { thrown: String(error) };
    }
    // Notifications follow their response; a cheap round trip flushes them.
    await client.request("getAuthStatus", {});
    steps.push({ step, outcome: { ...(outcome as object), notifications: notifications.splice(0) } });
  };
  await record("initialize", async () => {
    const result = await client.initialize({ clientInfo: { name: "diff", version: "0.0.1" }, capabilities: { experimentalApi: true } });
    return { ...result, userAgent: result.userAgent.split("/")[0], codexHome: "<home>" };
  });
  await record("read (none)", () => client.request("account/read", {}));
  await record("status (none)", () => client.request("getAuthStatus", { includeToken: true }));
  await record("limits (none)", () => client.request("account/rateLimits/read"));
  await record("cancel (not a uuid)", () => client.request("account/login/cancel", { loginId: "nope" }));
  await record("cancel (unknown)", () => client.request("account/login/cancel", { loginId: "00000000-0000-4000-8000-000000000000" }));
  await record("login apiKey", () => client.request("account/login/start", { type: "apiKey", apiKey: "sk-diff-0123456789abcdef" }));
  await record("read (apiKey)", () => client.request("account/read", { refreshToken: false }));
  await record("status (apiKey)", () => client.request("getAuthStatus", { includeToken: true, refreshToken: false }));
  await record("limits (apiKey)", () => client.request("account/rateLimits/read"));
  await record("logout", () => client.request("account/logout"));
  await record("read (after logout)", () => client.request("account/read", {}));
  await record("external bad token", () => client.request("account/login/start", { type: "chatgptAuthTokens", accessToken: "not-a-jwt", chatgptAccountId: "acct-demo" }));
  void dev;
  return steps;
}

describe(`typed client against the reference Codex ${CODEX_VERSION} app-server (differential)`, () => {
  let dev: DevServer;
  beforeAll(async () => {
    dev = await startDevServer();
  });
  afterAll(async () => {
    await dev?.close();
  });

  async function runAgainst(command: string, args: string[]): Promise<Step[]> {
    const home = tempCodexHome();
    const env: NodeJS.ProcessEnv = { ...process.env, ...dev.env(), CODEX_HOME: home.dir };
    for (const name of ["CODEX_API_KEY", "OPENAI_API_KEY", "CODEX_ACCESS_TOKEN"]) delete env[name];
    const client = AppServerClient.spawn(command, args, { env, stderr: "ignore" });
    try {
      return await script(client, dev);
    } finally {
      await client.close();
      home.remove();
    }
  }

  it("gets the same answers from both servers", async () => {
    const ours = appServerArgv();
    const [reference, codexAuth] = await Promise.all([runAgainst(REFERENCE, ["app-server"]), runAgainst(ours.command, ours.args)]);
    if (process.env.SHOW_DIFF_STEPS) console.log(JSON.stringify(reference, null, 1));
    expect(reference.length).toBeGreaterThan(10);
    expect(codexAuth).toEqual(reference);
  });
});
