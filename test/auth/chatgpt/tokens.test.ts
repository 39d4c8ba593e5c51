import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildAuthorizeUrl, callbackRedirectUri } from "../../../src/auth/chatgpt/authorize-url.js";
import { accessTokenExpiresAt, parseChatgptIdToken } from "../../../src/auth/chatgpt/id-token.js";
import { buildChatgptAuthDotJson, formatLastRefresh, parseLastRefresh } from "../../../src/auth/chatgpt/persist.js";
import { generatePkce, generateState, pkceChallenge } from "../../../src/auth/chatgpt/pkce.js";
import { Secret } from "../../../src/auth/secret.js";
import { serializeAuthDotJson } from "../../../src/auth/store/format.js";
import { agentIdentityJwt } from "../jwt.js";

describe("PKCE and state", () => {
  it("makes a 64-byte base64url verifier, its S256 challenge and a 32-byte state", () => {
    const pkce = generatePkce();
    expect(pkce.codeVerifier.reveal()).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(Buffer.from(pkce.codeVerifier.reveal(), "base64url")).toHaveLength(64);
    expect(pkce.codeChallenge).toBe(createHash("sha256").update(pkce.codeVerifier.reveal()).digest("base64url"));
    expect(pkce.codeChallenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pkceChallenge(new Secret("abc"))).toBe("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    const state = generateState();
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateState()).not.toBe(state);
    expect(String(pkce.codeVerifier)).toBe("[REDACTED]");
  });
});

describe("authorize URL", () => {
  it("has Codex 0.169.0's parameters in its order, with only the challenge and the state as PKCE material", () => {
    const pkce = generatePkce();
    const url = buildAuthorizeUrl({
      issuer: "https://auth.openai.com/",
      clientId: "app_EMoamEEZ73f0CkXaXp7hrann",
      redirectUri: callbackRedirectUri(1455),
      codeChallenge: pkce.codeChallenge,
      state: "STATE",
    });
    expect(url).toBe(
      "https://auth.openai.com/oauth/authorize?response_type=code&client_id=app_EMoamEEZ73f0CkXaXp7hrann" +
        "&redirect_uri=http%3A%2F%2F127.0.0.1%3A1455%2Fauth%2Fcallback" +
        `&code_challenge=${pkce.codeChallenge}&code_challenge_method=S256&state=STATE` +
        "&scope=openid+profile+email+offline_access+api.connectors.read+api.connectors.invoke" +
        "&id_token_add_organizations=true&codex_cli_simplified_flow=true&originator=codex_cli_rs",
    );
    expect(url).not.toContain(pkce.codeVerifier.reveal());
  });

  it("joins forced workspaces into one allowed_workspace_id parameter, last; the originator is configurable", () => {
    const url = new URL(
      buildAuthorizeUrl({ issuer: "http://i", clientId: "c", redirectUri: "r", codeChallenge: "x", state: "s", originator: "my_app", allowedWorkspaceIds: ["ws-1", "ws-2"] }),
    );
    expect(url.search.endsWith("&originator=my_app&allowed_workspace_id=ws-1%2Cws-2")).toBe(true);
    expect(url.searchParams.getAll("allowed_workspace_id")).toEqual(["ws-1,ws-2"]);
    expect(buildAuthorizeUrl({ issuer: "http://i", clientId: "c", redirectUri: "r", codeChallenge: "x", state: "s", allowedWorkspaceIds: [] })).not.toContain(
      "allowed_workspace_id",
    );
  });
});

describe("ChatGPT token claims", () => {
  const auth = { chatgpt_plan_type: "pro", chatgpt_user_id: "user-1", chatgpt_account_id: "acct-1", chatgpt_account_is_fedramp: true };

  it("reads email, plan, user, account and FedRAMP from the id_token", () => {
    expect(parseChatgptIdToken(agentIdentityJwt({ email: "a@b.c", "https://api.openai.com/auth": auth }))).toEqual({
      email: "a@b.c",
      rawPlanType: "pro",
      planType: "pro",
      userId: "user-1",
      accountId: "acct-1",
      isFedramp: true,
    });
  });

  it("falls back to the profile email and user_id, maps unknown plans and tolerates missing claims", () => {
    const claims = parseChatgptIdToken(
      agentIdentityJwt({ "https://api.openai.com/profile": { email: "p@b.c" }, "https://api.openai.com/auth": { user_id: "u-2", chatgpt_plan_type: "galaxy" } }),
    );
    expect(claims).toMatchObject({ email: "p@b.c", userId: "u-2", planType: "unknown", rawPlanType: "galaxy", accountId: null, isFedramp: false });
    expect(parseChatgptIdToken(agentIdentityJwt({}))).toMatchObject({ email: null, planType: null, accountId: null });
    expect(parseChatgptIdToken("not-a-jwt")).toBeNull();
  });

  it("reads the access token's exp", () => {
    expect(accessTokenExpiresAt(agentIdentityJwt({ exp: 1_800_000_000 }))).toEqual(new Date(1_800_000_000_000));
    expect(accessTokenExpiresAt(agentIdentityJwt({}))).toBeNull();
    expect(accessTokenExpiresAt("opaque")).toBeNull();
  });
});

describe("auth.json for a ChatGPT login", () => {
  it("formats last_refresh like chrono (3, 6 or 9 fractional digits, the fewest that show every digit)", () => {
    const second = 1_795_315_003n * 1_000_000_000n;
    expect(formatLastRefresh(second + 300_005_444n)).toBe("2026-11-22T02:36:43.300005444Z");
    expect(formatLastRefresh(second + 300_005_000n)).toBe("2026-11-22T02:36:43.300005Z");
    expect(formatLastRefresh(second + 300_000_000n)).toBe("2026-11-22T02:36:43.300Z");
    expect(formatLastRefresh(second)).toBe("2026-11-22T02:36:43Z");
    expect(formatLastRefresh(new Date("2026-01-02T03:04:05.678Z"))).toBe("2026-01-02T03:04:05.678Z");
    expect(parseLastRefresh("2026-11-22T02:36:43.300005444Z")).toEqual(new Date("2026-11-22T02:36:43.300Z"));
    expect(parseLastRefresh("garbage")).toBeNull();
    expect(parseLastRefresh(undefined)).toBeNull();
  });

  it("is exactly the contract's shape, validated, serialized in Codex's member order", () => {
    // The provenance and owner id of the captured Codex 0.169.0 device-code login (fixtures/).
    const captured = JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures/device-code.written-by-codex-0.169.0.json"), "utf8")) as {
      tokens: { oauth_provenance: { issuer: string; client_id: string }; login_owner_id: string };
    };
    const provenance = { issuer: captured.tokens.oauth_provenance.issuer, clientId: captured.tokens.oauth_provenance.client_id };
    const auth = buildChatgptAuthDotJson({
      tokens: { idToken: new Secret("h.p.s"), accessToken: new Secret("a.b.c"), refreshToken: new Secret("rt-1") },
      accountId: "acct-1",
      apiKey: null,
      provenance,
      loginOwnerId: captured.tokens.login_owner_id,
      lastRefresh: "2026-11-22T02:36:01.300005444Z",
    });
    expect(serializeAuthDotJson(auth)).toBe(`{
  "auth_mode": "chatgpt",
  "OPENAI_API_KEY": null,
  "tokens": {
    "id_token": "h.p.s",
    "access_token": "a.b.c",
    "refresh_token": "rt-1",
    "oauth_provenance": {
      "issuer": "${provenance.issuer}",
      "client_id": "${provenance.clientId}"
    },
    "login_owner_id": "${captured.tokens.login_owner_id}",
    "account_id": "acct-1"
  },
  "last_refresh": "2026-11-22T02:36:01.300005444Z"
}`);
    const fresh = buildChatgptAuthDotJson({
      tokens: { idToken: new Secret("h.p.s"), accessToken: new Secret("a"), refreshToken: new Secret("r") },
      accountId: null,
      apiKey: new Secret("sk-x"),
      provenance,
    });
    expect(fresh.OPENAI_API_KEY).toBe("sk-x");
    // Like Codex: 32 random bytes per login, base64url without padding.
    expect(fresh.tokens.login_owner_id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fresh.tokens.login_owner_id).not.toBe(buildChatgptAuthDotJson({ tokens: { idToken: new Secret("h.p.s"), accessToken: new Secret("a"), refreshToken: new Secret("r") }, accountId: null, apiKey: null, provenance }).tokens.login_owner_id);
    expect(fresh.tokens.account_id).toBeNull();
    expect(fresh.last_refresh).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z$/);
    const tokens = { idToken: new Secret("h.p.s"), accessToken: new Secret("a"), refreshToken: new Secret("r") };
    expect(() => buildChatgptAuthDotJson({ tokens, accountId: null, apiKey: null, provenance, lastRefresh: "yesterday" })).toThrow(
      "refusing to write an invalid auth.json: invalid format at /last_refresh",
    );
  });
});
