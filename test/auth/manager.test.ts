import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { authConfigFromTable, DEFAULT_AUTH_CONFIG, type AuthConfig } from "../../src/auth/config.js";
import { AuthError } from "../../src/auth/errors.js";
import { AuthManager } from "../../src/auth/manager.js";
import { Secret } from "../../src/auth/secret.js";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { WHOAMI_PATH } from "../../src/http/authapi.js";
import { tempDir, type TempDir } from "../support/cli-process.js";
import { assertNoSecrets } from "../support/secrets.js";
import { agentIdentityJwt } from "./jwt.js";
import { rejection as rejectionOf } from "../support/helpers.js";

let dev: DevServer;
let home: TempDir;
const whoamiPath = `/api/accounts${WHOAMI_PATH}`;
const authPath = () => path.join(home.dir, "auth.json");

beforeAll(async () => {
  dev = await startDevServer({ port: 0 });
});
afterAll(async () => {
  await dev.close();
});
beforeEach(() => (home = tempDir("codex-auth-manager-")));
afterEach(() => home.remove());

function manager(options: { env?: Record<string, string>; config?: AuthConfig; enableCodexApiKeyEnv?: boolean } = {}): Promise<AuthManager> {
  return AuthManager.create({
    codexHome: home.dir,
    config: options.config ?? DEFAULT_AUTH_CONFIG,
    env: { ...dev.env(), ...options.env },
    enableCodexApiKeyEnv: options.enableCodexApiKeyEnv ?? true,
  });
}

const config = (table: Record<string, unknown>) => authConfigFromTable(table);

const rejection = (promise: Promise<unknown>) => rejectionOf(promise, AuthError);

describe("AuthManager precedence", () => {
  it("CODEX_API_KEY (when enabled) > CODEX_ACCESS_TOKEN > store; env credentials are never written", async () => {
    writeFileSync(authPath(), '{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "sk-stored-0000000000"\n}');
    const env = { CODEX_API_KEY: " sk-env-0000000000000 ", CODEX_ACCESS_TOKEN: "at-demo-valid" };
    const all = await (await manager({ env })).current();
    expect([all?.mode, all?.source, all?.bearer.reveal()]).toEqual(["apikey", "env", "sk-env-0000000000000"]);

    const statusLike = await (await manager({ env, enableCodexApiKeyEnv: false })).current();
    expect([statusLike?.mode, statusLike?.source, statusLike?.email]).toEqual(["personalAccessToken", "env", "demo@example.com"]);

    const storeOnly = await (await manager({ enableCodexApiKeyEnv: false })).current();
    expect([storeOnly?.mode, storeOnly?.source, storeOnly?.bearer.reveal()]).toEqual(["apikey", "store", "sk-stored-0000000000"]);
    expect(readFileSync(authPath(), "utf8")).toContain("sk-stored-0000000000");
  });

  it("external tokens come after CODEX_API_KEY and before CODEX_ACCESS_TOKEN", async () => {
    const m = await manager({ env: { CODEX_ACCESS_TOKEN: "at-demo-valid" } });
    const token = agentIdentityJwt({ email: "ext@example.com" });
    m.setExternalTokens({ accessToken: new Secret(token), chatgptAccountId: "acct-ext", chatgptPlanType: "pro" });
    const current = await m.current();
    expect(current).toMatchObject({ mode: "chatgptAuthTokens", source: "external", accountId: "acct-ext", planType: "pro" });
    expect(existsSync(authPath())).toBe(false);
    m.clearExternalTokens();
    expect((await m.current())?.mode).toBe("personalAccessToken");
  });

  it("returns null when nothing is configured", async () => {
    expect(await (await manager()).current()).toBeNull();
  });
});

describe("personal access tokens", () => {
  it("writes only personal_access_token (no auth_mode) and preflights whoami on every load", async () => {
    const m = await manager();
    const before = dev.count("GET", whoamiPath);
    const auth = await m.loginWithAccessToken(new Secret("at-demo-valid"));
    expect(auth).toMatchObject({ mode: "personalAccessToken", accountId: "acct-demo", userId: "user-demo", email: "demo@example.com", planType: "plus" });
    expect(readFileSync(authPath(), "utf8")).toBe('{\n  "OPENAI_API_KEY": null,\n  "personal_access_token": "at-demo-valid"\n}');
    // Within one process (one manager) the token's metadata stays in memory...
    await m.current();
    await m.current();
    expect(dev.count("GET", whoamiPath)).toBe(before + 1);
    // ...every new process loads it with a live whoami...
    expect((await (await manager()).current())?.accountId).toBe("acct-demo");
    expect(dev.count("GET", whoamiPath)).toBe(before + 2);
    // ...and so does a changed token, in the same process.
    dev.addPersonalAccessToken("at-demo-second", { account: { accountId: "acct-second" } });
    await m.loginWithAccessToken(new Secret("at-demo-second"));
    expect((await m.current())?.accountId).toBe("acct-second");
    expect(dev.count("GET", whoamiPath)).toBe(before + 3);
  });

  it("asks AuthAPI again after a failed preflight instead of remembering the failure", async () => {
    const m = await manager();
    await m.loginWithAccessToken(new Secret("at-demo-valid"));
    dev.injectFault(whoamiPath, { kind: "status", status: 503 }, { count: 1 });
    const fresh = await manager();
    await expect(fresh.current()).rejects.toMatchObject({ code: "PAT_STATUS" });
    const before = dev.count("GET", whoamiPath);
    expect((await fresh.current())?.mode).toBe("personalAccessToken");
    expect(dev.count("GET", whoamiPath)).toBe(before + 1);
  });

  it("writes nothing when whoami rejects the token, and keeps the previous file", async () => {
    const m = await manager();
    await m.loginWithApiKey(new Secret("sk-previous-000000000"));
    const previous = readFileSync(authPath());
    for (const token of ["at-demo-revoked", "at-demo-missing-email", "at-demo-forbidden"]) {
      const error = await rejection(m.loginWithAccessToken(new Secret(token)));
      expect(["PAT_STATUS", "PAT_DECODE"]).toContain(error.code);
      expect(readFileSync(authPath())).toEqual(previous);
    }
  });

  it("are exempt from forced_chatgpt_workspace_id ([differs] from Codex)", async () => {
    const m = await manager({ config: config({ forced_chatgpt_workspace_id: "acct-somewhere-else" }) });
    const auth = await m.loginWithAccessToken(new Secret("at-demo-other-workspace"));
    expect(auth.accountId).toBe("acct-other");
    expect((await m.current())?.mode).toBe("personalAccessToken");
  });

  it("are refused when API login is forced, and ignored in the store", async () => {
    const forcedApi = config({ forced_login_method: "api" });
    const error = await rejection((await manager({ config: forcedApi })).loginWithAccessToken(new Secret("at-demo-valid")));
    expect([error.code, error.message]).toEqual(["LOGIN_METHOD_DISABLED", "Access token login is disabled. Use API key login instead."]);
    await (await manager()).loginWithAccessToken(new Secret("at-demo-valid"));
    const before = dev.count("GET", whoamiPath);
    expect(await (await manager({ config: forcedApi })).current()).toBeNull();
    expect(dev.count("GET", whoamiPath)).toBe(before);
  });

  it("a revoked stored token is an error on the next load (a new process), not a cached success", async () => {
    dev.addPersonalAccessToken("at-test-revocable");
    const m = await manager();
    await m.loginWithAccessToken(new Secret("at-test-revocable"));
    dev.addPersonalAccessToken("at-test-revocable", { status: 401 });
    const error = await rejection((await manager()).current());
    expect(error.message).toBe("personal access token metadata request failed with status 401 Unauthorized");
  });
});

describe("agent identity JWTs", () => {
  it("are stored with auth_mode agentIdentity and their claims exposed", async () => {
    const jwt = agentIdentityJwt({ account_id: "acct-1", chatgpt_user_id: "user-1", email: "agent@example.com", plan_type: "hc" });
    const m = await manager();
    const auth = await m.loginWithAccessToken(new Secret(jwt));
    expect(auth).toMatchObject({ mode: "agentIdentity", accountId: "acct-1", email: "agent@example.com", planType: "enterprise" });
    expect(readFileSync(authPath(), "utf8")).toBe(`{\n  "auth_mode": "agentIdentity",\n  "OPENAI_API_KEY": null,\n  "agent_identity": "${jwt}"\n}`);
    expect((await m.current())?.mode).toBe("agentIdentity");
  });

  it("are held to forced_chatgpt_workspace_id, and nothing is written on a mismatch", async () => {
    const m = await manager({ config: config({ forced_chatgpt_workspace_id: ["ws-a", "ws-b"] }) });
    const error = await rejection(m.loginWithAccessToken(new Secret(agentIdentityJwt({ account_id: "acct-1" }))));
    expect([error.code, error.message]).toEqual(["WORKSPACE_RESTRICTED", "Login is restricted to workspace id(s) ws-a, ws-b."]);
    const missing = await rejection(m.loginWithAccessToken(new Secret(agentIdentityJwt({}))));
    expect(missing.message).toBe("Login is restricted to a specific workspace, but the token did not include an chatgpt_account_id claim.");
    expect(existsSync(authPath())).toBe(false);
  });

  it("undecodable tokens fail with the decode message and write nothing", async () => {
    const error = await rejection((await manager()).loginWithAccessToken(new Secret("not-a-jwt")));
    expect(error.message).toBe("failed to decode agent identity JWT: invalid agent identity JWT format");
    expect(existsSync(authPath())).toBe(false);
  });
});

describe("API keys and the store", () => {
  it("API key login writes Codex's format and is refused when ChatGPT login is forced", async () => {
    await (await manager()).loginWithApiKey(new Secret("sk-proj-1234567890ABCDE"));
    expect(readFileSync(authPath(), "utf8")).toBe('{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "sk-proj-1234567890ABCDE"\n}');
    const error = await rejection((await manager({ config: config({ forced_login_method: "chatgpt" }) })).loginWithApiKey(new Secret("sk-x")));
    expect(error.message).toBe("API key login is disabled. Use ChatGPT login instead.");
    expect(await (await manager({ config: config({ forced_login_method: "chatgpt" }) })).current()).toBeNull();
  });

  it("API keys are exempt from the workspace restriction", async () => {
    await (await manager()).loginWithApiKey(new Secret("sk-proj-1234567890ABCDE"));
    expect((await (await manager({ config: config({ forced_chatgpt_workspace_id: "ws-1" }) })).current())?.mode).toBe("apikey");
  });

  it("reports incomplete stored auth with Codex's texts", async () => {
    const cases: Array<[string, string]> = [
      ['{"auth_mode":"apikey"}', "API key auth is missing a key."],
      ['{"auth_mode":"personalAccessToken","OPENAI_API_KEY":null}', "personal access token auth is missing a personal access token."],
      ['{"auth_mode":"agentIdentity","OPENAI_API_KEY":null}', "agent identity auth is missing agent identity auth material."],
      ["{}", "ChatGPT auth is missing token data."],
    ];
    for (const [content, message] of cases) {
      writeFileSync(authPath(), content);
      expect((await rejection((await manager()).current())).message).toBe(message);
    }
  });

  it("resolves the mode like Codex when auth_mode is absent", async () => {
    writeFileSync(authPath(), '{"OPENAI_API_KEY":"sk-proj-1234567890ABCDE"}');
    expect((await (await manager()).current())?.mode).toBe("apikey");
    writeFileSync(authPath(), '{"OPENAI_API_KEY":"sk-proj-1234567890ABCDE","personal_access_token":"at-demo-valid"}');
    expect((await (await manager()).current())?.mode).toBe("personalAccessToken");
  });

  it("reads managed ChatGPT tokens (metadata from the id_token claims)", async () => {
    const tokens = dev.issueTokens({ accountId: "acct-chatgpt", email: "chat@example.com", planType: "pro" });
    writeFileSync(
      authPath(),
      JSON.stringify({ auth_mode: "chatgpt", OPENAI_API_KEY: null, tokens: { id_token: tokens.idToken, access_token: tokens.accessToken, refresh_token: tokens.refreshToken, account_id: "acct-chatgpt" }, last_refresh: new Date().toISOString() }),
    );
    const m = await manager();
    const auth = await m.current();
    expect(auth).toMatchObject({ mode: "chatgpt", source: "store", accountId: "acct-chatgpt", email: "chat@example.com", planType: "pro" });
    expect(m.recoveryFor(auth!).mode).toBe("managed");
    expect(m.recoveryFor(auth!).stepNames).toEqual(["reload", "refresh_token"]);
    expect(await (await manager({ config: config({ forced_chatgpt_workspace_id: "ws-other" }) })).current()).toBeNull();
  });
});

describe("external tokens", () => {
  it("enforce the workspace restriction with Codex's app-server message", async () => {
    const m = await manager({ config: config({ forced_chatgpt_workspace_id: ["acct-1", "acct-2"] }) });
    expect(() => m.setExternalTokens({ accessToken: new Secret("x.y.z"), chatgptAccountId: "acct-x" })).toThrow(
      'External auth must use one of workspace(s) ["acct-1", "acct-2"], but received "acct-x".',
    );
    expect(m.hasExternalTokens()).toBe(false);
    const forcedApi = await manager({ config: config({ forced_login_method: "api" }) });
    expect(() => forcedApi.setExternalTokens({ accessToken: new Secret("x.y.z"), chatgptAccountId: "acct-1" })).toThrow(
      "External ChatGPT auth is disabled. Use API key login instead.",
    );
  });

  it("use the external refresh step for 401 recovery", async () => {
    const m = await manager();
    const auth = m.setExternalTokens({ accessToken: new Secret("a.b.c"), chatgptAccountId: "acct-1" });
    expect(m.recoveryFor(auth).stepNames).toEqual([]);
    m.setExternalRefreshStep({ name: "external_refresh", attempt: async () => true });
    const recovery = m.recoveryFor(auth);
    expect([recovery.mode, recovery.stepNames]).toEqual(["external", ["external_refresh"]]);
  });

  it("external_refresh retries at once with tokens a concurrent recovery already installed, and asks the parent app only when they are still the failed ones", async () => {
    const m = await manager();
    const failed = m.setExternalTokens({ accessToken: new Secret("a.b.c"), chatgptAccountId: "acct-1" });
    let asked = 0;
    m.setExternalRefreshStep({
      name: "parent-app",
      attempt: async () => {
        asked++;
        m.setExternalTokens({ accessToken: new Secret(`d.e.f${asked}`), chatgptAccountId: "acct-1" });
        return true;
      },
    });
    // The bearer the request was sent with is still in memory: the parent app is asked.
    const sent: string[] = [];
    const send = async () => {
      const current = await m.current();
      sent.push(current!.bearer.reveal());
      return sent.length === 1 ? 401 : 200;
    };
    expect(await m.recoveryFor(failed).run(send, (status) => status === 401)).toBe(200);
    expect([asked, sent]).toEqual([1, ["a.b.c", "d.e.f1"]]);
    // A request that failed with the old bearer after that refresh: retried with the new one, no second ask.
    const later: string[] = [];
    const result = await m.recoveryFor(failed).run(
      async () => {
        later.push(later.length === 0 ? failed.bearer.reveal() : (await m.current())!.bearer.reveal());
        return later.length === 1 ? 401 : 200;
      },
      (status) => status === 401,
    );
    expect([result, asked, later]).toEqual([200, 1, ["a.b.c", "d.e.f1"]]);
  });

  it("logout clears them from memory and reports a removal", async () => {
    const m = await manager();
    m.setExternalTokens({ accessToken: new Secret("a.b.c"), chatgptAccountId: "acct-1" });
    expect(await m.logout()).toEqual({ removed: true });
    expect(await m.current()).toBeNull();
    expect(await m.logout()).toEqual({ removed: false });
  });
});

describe("logout and redaction", () => {
  it("removes a malformed file (the one way it is ever removed)", async () => {
    writeFileSync(authPath(), "{broken");
    expect(await (await manager()).logout()).toEqual({ removed: true });
    expect(existsSync(authPath())).toBe(false);
  });

  it("API keys and PATs get no recovery steps", async () => {
    const m = await manager();
    await m.loginWithApiKey(new Secret("sk-proj-1234567890ABCDE"));
    const auth = (await m.current())!;
    expect([m.recoveryFor(auth).mode, m.recoveryFor(auth).stepNames]).toEqual(["none", []]);
  });

  it("CurrentAuth shows no secret in inspect or JSON", async () => {
    const m = await manager({ env: { CODEX_API_KEY: "sk-env-secret-0000000000" } });
    const auth = await m.current();
    assertNoSecrets([inspect(auth, { depth: 5 }), JSON.stringify(auth), inspect(m, { depth: 5 })], ["sk-env-secret-0000000000"]);
  });
});
