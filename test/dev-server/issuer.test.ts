import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { validateAuthorizationCodeTokens } from "../../generated/http/oauth.validators.js";
import type { DevServer, RefreshFailure } from "../../src/dev-server/index.js";
import { call, jwtClaims, start } from "./support.js";

const CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
const REDIRECT_URI = "http://localhost:1455/auth/callback";

function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(64).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

function authorizePath(challenge: string, extra: Record<string, string> = {}): string {
  const query = new URLSearchParams({
    response_type: "code",
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: "openid profile email offline_access",
    code_challenge: challenge,
    code_challenge_method: "S256",
    id_token_add_organizations: "true",
    codex_cli_simplified_flow: "true",
    state: "state-123",
    originator: "codex_cli_rs",
    ...extra,
  });
  return `/oauth/authorize?${query}`;
}

/** Opens the authorize page and clicks a button, as a browser would; returns the redirect. */
async function clickThrough(server: DevServer, challenge: string, decision: "approve" | "deny", accountId?: string): Promise<URL> {
  const page = await call(server, "GET", authorizePath(challenge));
  expect(page.status).toBe(200);
  const requestId = /name="request_id" value="([^"]+)"/.exec(page.text)?.[1];
  expect(requestId).toBeDefined();
  const form: Record<string, string> = { request_id: requestId!, decision };
  if (accountId !== undefined) form.account_id = accountId;
  const answer = await call(server, "POST", "/oauth/authorize/decision", { form });
  expect(answer.status).toBe(302);
  return new URL(answer.headers.get("location")!);
}

async function exchangeCode(server: DevServer, code: string, verifier: string, redirectUri = REDIRECT_URI) {
  return call(server, "POST", "/oauth/token", {
    form: { grant_type: "authorization_code", code, redirect_uri: redirectUri, client_id: CLIENT_ID, code_verifier: verifier },
  });
}

async function refresh(server: DevServer, refreshToken: string) {
  return call(server, "POST", "/oauth/token", { json: { client_id: CLIENT_ID, grant_type: "refresh_token", refresh_token: refreshToken } });
}

function errorCode(body: unknown): unknown {
  const error = (body as { error?: unknown }).error;
  return typeof error === "string" ? error : (error as { code?: unknown } | undefined)?.code;
}

describe("OAuth authorize page", () => {
  it("is a real HTML page showing the client, the workspace restriction and Approve/Deny", async () => {
    const { server } = await start();
    const page = await call(server, "GET", authorizePath("challenge", { allowed_workspace_id: "acct-a,acct-b" }));
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.text).toMatch(/^<!doctype html>/);
    expect(page.text).toContain(CLIENT_ID);
    expect(page.text).toContain("acct-a, acct-b");
    expect(page.text).toMatch(/<form method="post" action="\/oauth\/authorize\/decision">/);
    expect(page.text).toContain('value="approve">Approve</button>');
    expect(page.text).toContain('value="deny">Deny</button>');
  });

  it("rejects requests that are not code + S256 with a state and a challenge", async () => {
    const { server } = await start();
    for (const extra of [{ response_type: "token" }, { code_challenge_method: "plain" }, { state: "" }, { code_challenge: "" }]) {
      const page = await call(server, "GET", authorizePath("challenge", extra));
      expect(page.status).toBe(400);
      expect(page.text).toContain("Invalid sign-in request");
    }
  });

  it("redirects with access_denied and the state when the user denies", async () => {
    const { server } = await start();
    const location = await clickThrough(server, "challenge", "deny");
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("error_description")).toBeTruthy();
    expect(location.searchParams.get("state")).toBe("state-123");
    expect(location.searchParams.has("code")).toBe(false);
  });

  it("answers for the user in approve and deny modes", async () => {
    const { server } = await start();
    server.setAuthorizeMode("approve");
    const approved = await call(server, "GET", authorizePath("challenge"));
    expect(approved.status).toBe(302);
    expect(new URL(approved.headers.get("location")!).searchParams.get("code")).toBeTruthy();
    server.setAuthorizeMode("deny");
    const denied = await call(server, "GET", authorizePath("challenge"));
    expect(new URL(denied.headers.get("location")!).searchParams.get("error")).toBe("access_denied");
  });
});

describe("OAuth authorization code exchange (PKCE S256)", () => {
  it("runs the whole browser flow over plain HTTP", async () => {
    const { server } = await start();
    const { verifier, challenge } = pkcePair();
    const location = await clickThrough(server, challenge, "approve");
    expect(location.searchParams.get("state")).toBe("state-123");
    const code = location.searchParams.get("code")!;

    const wrong = await exchangeCode(server, code, pkcePair().verifier);
    expect(wrong.status).toBe(400);
    expect(errorCode(wrong.body)).toBe("invalid_grant");

    const exchanged = await exchangeCode(server, code, verifier);
    expect(exchanged.status).toBe(200);
    expect(validateAuthorizationCodeTokens(exchanged.body)).toBe(true);
    const tokens = exchanged.body as { id_token: string; access_token: string; refresh_token: string };
    expect(tokens.refresh_token).toMatch(/^rt-/);

    const idClaims = jwtClaims(tokens.id_token);
    expect(idClaims.email).toBe("demo@example.com");
    expect(idClaims["https://api.openai.com/profile"]).toEqual({ email: "demo@example.com" });
    expect(idClaims["https://api.openai.com/auth"]).toEqual({
      chatgpt_plan_type: "plus",
      chatgpt_user_id: "user-demo",
      user_id: "user-demo",
      chatgpt_account_id: "acct-demo",
      chatgpt_account_is_fedramp: false,
    });
    const accessClaims = jwtClaims(tokens.access_token);
    expect(accessClaims.exp).toBe((accessClaims.iat as number) + 3600);
    expect(accessClaims["https://api.openai.com/auth"]).toMatchObject({ chatgpt_account_id: "acct-demo" });

    // Codes are single-use.
    expect((await exchangeCode(server, code, verifier)).status).toBe(400);
    expect(server.requests.filter((request) => request.path === "/oauth/token").map((request) => request.grantType)).toEqual([
      "authorization_code",
      "authorization_code",
      "authorization_code",
    ]);
  });

  it("checks redirect_uri and client_id against the authorize request", async () => {
    const { server } = await start();
    const { verifier, challenge } = pkcePair();
    const code = (await clickThrough(server, challenge, "approve")).searchParams.get("code")!;
    expect((await exchangeCode(server, code, verifier, "http://localhost:9999/elsewhere")).status).toBe(400);
    const missingVerifier = await call(server, "POST", "/oauth/token", {
      form: { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, client_id: CLIENT_ID },
    });
    expect(missingVerifier.status).toBe(400);
    expect(errorCode(missingVerifier.body)).toBe("invalid_request");
  });

  it("signs in as the configured next account, or the workspace typed on the page", async () => {
    const { server } = await start();
    server.setNextAccount({ email: "alice@example.com", userId: "user-alice", accountId: "acct-alice", planType: "pro" });
    const first = pkcePair();
    const code = (await clickThrough(server, first.challenge, "approve")).searchParams.get("code")!;
    const tokens = (await exchangeCode(server, code, first.verifier)).body as { id_token: string };
    expect(jwtClaims(tokens.id_token)["https://api.openai.com/auth"]).toMatchObject({ chatgpt_account_id: "acct-alice", chatgpt_plan_type: "pro" });

    const second = pkcePair();
    const otherCode = (await clickThrough(server, second.challenge, "approve", "acct-typed")).searchParams.get("code")!;
    const other = (await exchangeCode(server, otherCode, second.verifier)).body as { id_token: string };
    expect(jwtClaims(other.id_token)).toMatchObject({ email: "alice@example.com" });
    expect(jwtClaims(other.id_token)["https://api.openai.com/auth"]).toMatchObject({ chatgpt_account_id: "acct-typed" });
  });

  it("exchanges an id_token for an API key (token exchange)", async () => {
    const { server } = await start();
    const { idToken } = server.issueTokens();
    const form = {
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      client_id: CLIENT_ID,
      requested_token: "openai-api-key",
      subject_token: idToken,
      subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
    };
    const exchanged = await call(server, "POST", "/oauth/token", { form });
    expect(exchanged.status).toBe(200);
    expect((exchanged.body as { access_token: string }).access_token).toMatch(/^sk-dev-/);
    expect((await call(server, "POST", "/oauth/token", { form: { ...form, subject_token: "not-ours" } })).status).toBe(400);
    server.failApiKeyExchange(500);
    expect((await call(server, "POST", "/oauth/token", { form })).status).toBe(500);
  });
});

describe("OAuth refresh", () => {
  it("rotates tokens and rejects a reused refresh token", async () => {
    const { server } = await start();
    const issued = server.issueTokens({ accountId: "acct-rotate" });
    const first = await refresh(server, issued.refreshToken);
    expect(first.status).toBe(200);
    const renewed = first.body as { id_token: string; access_token: string; refresh_token: string };
    expect(renewed.refresh_token).not.toBe(issued.refreshToken);
    expect(renewed.access_token).not.toBe(issued.accessToken);
    expect(jwtClaims(renewed.access_token)["https://api.openai.com/auth"]).toMatchObject({ chatgpt_account_id: "acct-rotate" });

    const reused = await refresh(server, issued.refreshToken);
    expect(reused.status).toBe(401);
    expect(reused.body).toMatchObject({ error: { code: "refresh_token_reused" } });
    expect((await refresh(server, renewed.refresh_token)).status).toBe(200);

    server.allowRefreshTokenReuse(true);
    expect((await refresh(server, issued.refreshToken)).status).toBe(200);
  });

  it("answers each switchable failure, globally or per refresh token", async () => {
    const { server } = await start();
    const expected: Array<[RefreshFailure, number, string]> = [
      ["refresh_token_expired", 401, "refresh_token_expired"],
      ["refresh_token_reused", 401, "refresh_token_reused"],
      ["refresh_token_invalidated", 401, "refresh_token_invalidated"],
      ["invalid_grant", 400, "invalid_grant"],
      ["server_error", 500, "server_error"],
    ];
    for (const [failure, status, code] of expected) {
      server.failRefresh(failure, { count: 1 });
      const { refreshToken } = server.issueTokens();
      const failed = await refresh(server, refreshToken);
      expect(failed.status).toBe(status);
      expect(errorCode(failed.body)).toBe(code);
      // The failure was used up and the token was not consumed by it.
      expect((await refresh(server, refreshToken)).status).toBe(200);
    }

    const targeted = server.issueTokens();
    const bystander = server.issueTokens();
    server.failRefresh("refresh_token_expired", { refreshToken: targeted.refreshToken });
    expect((await refresh(server, targeted.refreshToken)).status).toBe(401);
    expect((await refresh(server, targeted.refreshToken)).status).toBe(401);
    expect((await refresh(server, bystander.refreshToken)).status).toBe(200);

    server.failRefresh("server_error");
    const { refreshToken } = server.issueTokens();
    expect((await refresh(server, refreshToken)).status).toBe(500);
    expect((await refresh(server, refreshToken)).status).toBe(500);
    server.clearRefreshFailures();
    expect((await refresh(server, refreshToken)).status).toBe(200);
    expect((await refresh(server, targeted.refreshToken)).status).toBe(200);
  });

  it("accepts refresh only as JSON and unknown tokens fail with invalid_grant", async () => {
    const { server } = await start();
    const { refreshToken } = server.issueTokens();
    const asForm = await call(server, "POST", "/oauth/token", {
      form: { client_id: CLIENT_ID, grant_type: "refresh_token", refresh_token: refreshToken },
    });
    expect(asForm.status).toBe(400);
    expect(errorCode(asForm.body)).toBe("unsupported_grant_type");
    const unknown = await refresh(server, "rt-unknown");
    expect(unknown.status).toBe(400);
    expect(errorCode(unknown.body)).toBe("invalid_grant");
    const missingClient = await call(server, "POST", "/oauth/token", { json: { grant_type: "refresh_token", refresh_token: refreshToken } });
    expect(missingClient.status).toBe(400);
  });
});

describe("OAuth revoke", () => {
  it("records revocations and invalidates revoked refresh tokens", async () => {
    const { server } = await start();
    const { refreshToken, accessToken } = server.issueTokens();
    const revoked = await call(server, "POST", "/oauth/revoke", {
      json: { token: refreshToken, token_type_hint: "refresh_token", client_id: CLIENT_ID },
    });
    expect(revoked.status).toBe(200);
    expect(revoked.text).toBe("");
    expect(server.wasRevoked(refreshToken)).toBe(true);
    expect(server.wasRevoked(accessToken)).toBe(false);
    expect(server.revocations).toEqual([
      expect.objectContaining({ tokenTypeHint: "refresh_token", clientId: CLIENT_ID, known: true }),
    ]);
    expect(JSON.stringify(server.revocations)).not.toContain(refreshToken);

    const afterRevoke = await refresh(server, refreshToken);
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.body).toMatchObject({ error: { code: "refresh_token_invalidated" } });

    // An access token revoked without client_id stops working at the backend.
    expect((await call(server, "POST", "/oauth/revoke", { json: { token: accessToken, token_type_hint: "access_token" } })).status).toBe(200);
    expect((await call(server, "GET", "/backend-api/wham/usage", { bearer: accessToken })).status).toBe(401);
  });

  it("rejects a revoke request that breaks the contract", async () => {
    const { server } = await start();
    expect((await call(server, "POST", "/oauth/revoke", { json: { token: "x", token_type_hint: "id_token" } })).status).toBe(400);
    expect((await call(server, "POST", "/oauth/revoke", { form: { token: "x", token_type_hint: "refresh_token" } })).status).toBe(400);
  });
});
