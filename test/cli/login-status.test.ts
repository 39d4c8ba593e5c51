import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { WHOAMI_PATH } from "../../src/http/authapi.js";
import { agentIdentityJwt } from "../auth/jwt.js";
import { useCliHarness } from "../support/cli-harness.js";
import { runCliInProcess } from "../support/cli-in-process.js";

let dev: DevServer;
beforeAll(async () => {
  dev = await startDevServer({ port: 0 });
});
afterAll(async () => {
  await dev.close();
});

/**
 * `login status` as the shipped bin (a process: exit codes, streams, a live whoami per process) for
 * the API key, the PAT and nobody logged in; the other cases run the same command in process
 * (`runCli`, what the bin calls: test/support/cli-in-process.ts), without a Node start-up each.
 */
const cli = useCliHarness(() => dev.env());
const runHere = (args: string[], env: Record<string, string> = {}) =>
  runCliInProcess(args, { env: { ...dev.env(), CODEX_HOME: cli.home, ...env }, captured: cli.captured });
const whoamiPath = `/api/accounts${WHOAMI_PATH}`;
const writeAuth = (content: string) => writeFileSync(path.join(cli.home, "auth.json"), content, { mode: 0o600 });

describe("codex-auth login status", () => {
  it("API key: Codex's two lines with the masked key, exit 0", async () => {
    const key = cli.secret("sk-proj-1234567890ABCDE");
    writeAuth(`{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "${key}"\n}`);
    expect(await cli.run(["login", "status"])).toEqual({
      code: 0,
      stdout: "",
      stderr: "API key configured - sk-proj-***ABCDE\nAuthentication is checked when you send a request.\n",
    });
    const short = cli.secret("sk-short");
    writeAuth(`{"OPENAI_API_KEY":"${short}"}`);
    expect((await cli.run(["login", "status"])).stderr).toBe("API key configured - ***\nAuthentication is checked when you send a request.\n");
  });

  it("--json prints one machine-readable object on stdout", async () => {
    writeAuth(`{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "${cli.secret("sk-proj-1234567890ABCDE")}"\n}`);
    const result = await runHere(["login", "status", "--json"]);
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split("\n")).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toEqual({
      loggedIn: true,
      authMode: "apikey",
      source: "store",
      credential: "sk-proj-***ABCDE",
      accountId: null,
      email: null,
      planType: null,
      error: null,
    });
  });

  it("PAT: every status performs a new whoami (no cache), and --json shows email and plan", async () => {
    const token = cli.secret("at-status-valid-000000000001");
    dev.addPersonalAccessToken(token);
    writeAuth(`{\n  "OPENAI_API_KEY": null,\n  "personal_access_token": "${token}"\n}`);
    const before = dev.count("GET", whoamiPath);
    expect(await cli.run(["login", "status"])).toEqual({ code: 0, stdout: "", stderr: "Logged in using personal access token\n" });
    const json = await cli.run(["login", "status", "--json"]);
    expect(dev.count("GET", whoamiPath)).toBe(before + 2);
    expect(JSON.parse(json.stdout)).toMatchObject({ loggedIn: true, authMode: "personalAccessToken", email: "demo@example.com", planType: "plus", accountId: "acct-demo" });
  });

  it("PAT revoked since login: the live check fails the status, exit 1", async () => {
    const token = cli.secret("at-status-revoked-later-0001");
    dev.addPersonalAccessToken(token);
    writeAuth(`{\n  "OPENAI_API_KEY": null,\n  "personal_access_token": "${token}"\n}`);
    expect((await runHere(["login", "status"])).code).toBe(0);
    dev.addPersonalAccessToken(token, { status: 401 });
    const result = await runHere(["login", "status", "--json"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("Error checking login status: personal access token metadata request failed with status 401 Unauthorized\n");
    expect(JSON.parse(result.stdout)).toMatchObject({ loggedIn: false, error: "personal access token metadata request failed with status 401 Unauthorized" });
  });

  it("Agent Identity JWT: 'Logged in using access token'", async () => {
    writeAuth(JSON.stringify({ auth_mode: "agentIdentity", OPENAI_API_KEY: null, agent_identity: cli.secret(agentIdentityJwt({ account_id: "acct-1" })) }));
    expect((await runHere(["login", "status"])).stderr).toBe("Logged in using access token\n");
  });

  it("not logged in: exit 1 (and --json says so)", async () => {
    expect(await cli.run(["login", "status"])).toEqual({ code: 1, stdout: "", stderr: "Not logged in\n" });
    const json = await cli.run(["login", "status", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ loggedIn: false, authMode: null, error: null });
  });

  it("ignores CODEX_API_KEY but honours CODEX_ACCESS_TOKEN, as Codex's status does", async () => {
    const envKey = cli.secret("sk-env-key-for-status-00000");
    expect((await runHere(["login", "status"], { CODEX_API_KEY: envKey })).stderr).toBe("Not logged in\n");
    const result = await runHere(["login", "status", "--json"], { CODEX_ACCESS_TOKEN: "at-demo-valid" });
    expect(JSON.parse(result.stdout)).toMatchObject({ authMode: "personalAccessToken", source: "env" });
  });

  it("filters stored auth the forced login method does not allow", async () => {
    writeAuth(`{\n  "OPENAI_API_KEY": null,\n  "personal_access_token": "at-demo-valid"\n}`);
    expect(await runHere(["-c", "forced_login_method=api", "login", "status"])).toEqual({ code: 1, stdout: "", stderr: "Not logged in\n" });
  });
});
