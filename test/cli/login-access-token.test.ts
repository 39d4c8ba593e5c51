import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { WHOAMI_PATH } from "../../src/http/authapi.js";
import { agentIdentityJwt } from "../auth/jwt.js";
import { useCliHarness } from "../support/cli-harness.js";

let dev: DevServer;
beforeAll(async () => {
  dev = await startDevServer({ port: 0 });
});
afterAll(async () => {
  await dev.close();
});

const cli = useCliHarness(() => dev.env());
const authPath = () => path.join(cli.home, "auth.json");
const whoamiPath = `/api/accounts${WHOAMI_PATH}`;
const PREVIOUS = '{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "sk-previous-login-000000000"\n}';

describe("codex-auth login --with-access-token (PAT, against the dev server)", () => {
  it("sends whoami with the PAT as bearer, then writes only personal_access_token", async () => {
    const token = cli.secret("at-cli-valid-token-0000001");
    dev.addPersonalAccessToken(token);
    const before = dev.count("GET", whoamiPath);
    const result = await cli.run(["login", "--with-access-token"], { stdin: `${token}\n` });
    expect(result).toEqual({ code: 0, stdout: "", stderr: "Reading access token from stdin...\nSuccessfully logged in\n" });
    expect(dev.count("GET", whoamiPath)).toBe(before + 1);
    expect(dev.sawBearer(whoamiPath, token)).toBe(true);
    expect(readFileSync(authPath(), "utf8")).toBe(`{\n  "OPENAI_API_KEY": null,\n  "personal_access_token": "${token}"\n}`);
  });

  it.each([
    ["revoked (401)", "at-demo-revoked", "personal access token metadata request failed with status 401 Unauthorized"],
    ["unknown (401)", "at-cli-never-issued-000000", "personal access token metadata request failed with status 401 Unauthorized"],
    ["forbidden (403)", "at-demo-forbidden", "personal access token metadata request failed with status 403 Forbidden"],
    ["missing email", "at-demo-missing-email", "failed to decode personal access token metadata: invalid type: null, expected a string at /email"],
  ])("%s: contract message, exit 1, previous auth.json untouched", async (_name, token, reason) => {
    cli.secret(token);
    writeFileSync(authPath(), PREVIOUS, { mode: 0o600 });
    const result = await cli.run(["login", "--with-access-token"], { stdin: token });
    expect(result).toEqual({ code: 1, stdout: "", stderr: `Reading access token from stdin...\nError logging in with access token: ${reason}\n` });
    expect(readFileSync(authPath(), "utf8")).toBe(PREVIOUS);
  });

  it("an unreachable AuthAPI is a request failure, nothing written", async () => {
    const token = cli.secret("at-cli-unreachable-00000000");
    const result = await cli.run(["login", "--with-access-token"], { stdin: token, env: { CODEX_AUTHAPI_BASE_URL: "http://127.0.0.1:9/api/accounts" } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Reading access token from stdin...\nError logging in with access token: failed to request personal access token metadata: error sending request for url \(http:\/\/127\.0\.0\.1:9\/api\/accounts\/v1\/user-auth-credential\/whoami\)/);
    expect(existsSync(authPath())).toBe(false);
  });

  it("a PAT is not held to forced_chatgpt_workspace_id ([differs] from Codex 0.169.0)", async () => {
    cli.secret("at-demo-other-workspace");
    const result = await cli.run(["-c", "forced_chatgpt_workspace_id=acct-demo", "login", "--with-access-token"], { stdin: "at-demo-other-workspace" });
    expect(result.code).toBe(0);
    expect(existsSync(authPath())).toBe(true);
  });

  it("refuses access tokens when API login is forced", async () => {
    cli.secret("at-demo-valid");
    const result = await cli.run(["-c", 'forced_login_method="api"', "login", "--with-access-token"], { stdin: "at-demo-valid" });
    expect(result).toEqual({ code: 1, stdout: "", stderr: "Reading access token from stdin...\nAccess token login is disabled. Use API key login instead.\n" });
  });

  it("refuses an empty token", async () => {
    const result = await cli.run(["login", "--with-access-token"], { stdin: "\n" });
    expect(result).toEqual({ code: 1, stdout: "", stderr: "Reading access token from stdin...\nNo access token provided via stdin.\n" });
  });
});

describe("codex-auth login --with-access-token (Agent Identity JWT)", () => {
  it("stores a decodable JWT with auth_mode agentIdentity", async () => {
    const jwt = cli.secret(agentIdentityJwt({ account_id: "acct-agent", email: "agent@example.com" }));
    const result = await cli.run(["login", "--with-access-token"], { stdin: jwt });
    expect(result.code).toBe(0);
    expect(JSON.parse(readFileSync(authPath(), "utf8"))).toEqual({ auth_mode: "agentIdentity", OPENAI_API_KEY: null, agent_identity: jwt });
  });

  it("rejects what is neither a PAT nor a JWT, writing nothing", async () => {
    const result = await cli.run(["login", "--with-access-token"], { stdin: cli.secret("not-a-jwt-but-secret-0000") });
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: "Reading access token from stdin...\nError logging in with access token: failed to decode agent identity JWT: invalid agent identity JWT format\n",
    });
    expect(existsSync(authPath())).toBe(false);
  });

  it("holds an Agent Identity JWT to forced_chatgpt_workspace_id", async () => {
    const jwt = cli.secret(agentIdentityJwt({ account_id: "acct-agent" }));
    const result = await cli.run(["-c", 'forced_chatgpt_workspace_id=["ws-1","ws-2"]', "login", "--with-access-token"], { stdin: jwt });
    expect(result.stderr).toBe("Reading access token from stdin...\nError logging in with access token: Login is restricted to workspace id(s) ws-1, ws-2.\n");
    expect(result.code).toBe(1);
    expect(existsSync(authPath())).toBe(false);
  });
});
