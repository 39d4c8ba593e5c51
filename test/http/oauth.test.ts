import { describe, expect, it } from "vitest";
import { Secret } from "../../src/auth/secret.js";
import { HttpError } from "../../src/http/request.js";
import {
  CODEX_CLIENT_ID,
  DEFAULT_ISSUER,
  deriveRevokeUrl,
  exchangeAuthorizationCode,
  exchangeIdTokenForApiKey,
  OAuthStatusError,
  pollDeviceToken,
  readOAuthErrorBody,
  requestDeviceUserCode,
  requestTokenRefresh,
  resolveOAuthEndpoints,
  revokeToken,
} from "../../src/http/oauth.js";
import { generatePkce } from "../../src/auth/chatgpt/pkce.js";
import { buildAuthorizeUrl } from "../../src/auth/chatgpt/authorize-url.js";
import { json, recordingServer } from "../auth/chatgpt/support.js";
import { start } from "../dev-server/support.js";
import { rejection } from "../support/helpers.js";
import { assertNoSecrets } from "../support/secrets.js";

describe("resolveOAuthEndpoints", () => {
  it("defaults to auth.openai.com and Codex's client id", () => {
    expect(resolveOAuthEndpoints({})).toEqual({
      issuer: DEFAULT_ISSUER,
      refreshUrl: "https://auth.openai.com/oauth/token",
      revokeUrl: "https://auth.openai.com/oauth/revoke",
      clientId: "app_EMoamEEZ73f0CkXaXp7hrann",
    });
  });

  it("takes CODEX_AUTH_ISSUER (trimmed, no trailing slash), and an explicit issuer over it", () => {
    expect(resolveOAuthEndpoints({ CODEX_AUTH_ISSUER: " http://127.0.0.1:9/ " }).refreshUrl).toBe("http://127.0.0.1:9/oauth/token");
    expect(resolveOAuthEndpoints({ CODEX_AUTH_ISSUER: "http://a" }, { issuer: "http://b/" }).issuer).toBe("http://b");
    expect(resolveOAuthEndpoints({ CODEX_AUTH_ISSUER: "  " }).issuer).toBe(DEFAULT_ISSUER);
  });

  it("uses the refresh and revoke overrides as given", () => {
    const endpoints = resolveOAuthEndpoints({
      CODEX_REFRESH_TOKEN_URL_OVERRIDE: "http://r.test/custom/token?x=1",
      CODEX_REVOKE_TOKEN_URL_OVERRIDE: "http://v.test/custom/revoke",
    });
    expect(endpoints.refreshUrl).toBe("http://r.test/custom/token?x=1");
    expect(endpoints.revokeUrl).toBe("http://v.test/custom/revoke");
  });

  it("derives the revoke URL from the refresh override: same origin, path /oauth/revoke, no query", () => {
    expect(resolveOAuthEndpoints({ CODEX_REFRESH_TOKEN_URL_OVERRIDE: "http://r.test:8080/some/token?x=1#f" }).revokeUrl).toBe("http://r.test:8080/oauth/revoke");
    expect(deriveRevokeUrl("not a url")).toBeNull();
    expect(resolveOAuthEndpoints({ CODEX_REFRESH_TOKEN_URL_OVERRIDE: "not a url", CODEX_AUTH_ISSUER: "http://i" }).revokeUrl).toBe("http://i/oauth/revoke");
  });

  it("overrides the refresh/revoke client id with CODEX_APP_SERVER_LOGIN_CLIENT_ID", () => {
    expect(resolveOAuthEndpoints({ CODEX_APP_SERVER_LOGIN_CLIENT_ID: "app_custom" }).clientId).toBe("app_custom");
  });
});

describe("readOAuthErrorBody", () => {
  it("reads the error code from error.code, a string error, or code", () => {
    expect(readOAuthErrorBody('{"error":{"code":"refresh_token_reused","message":"used"}}')).toEqual({ errorCode: "refresh_token_reused", detail: "used" });
    expect(readOAuthErrorBody('{"error":"invalid_grant","error_description":"bad"}')).toEqual({ errorCode: "invalid_grant", detail: "bad" });
    expect(readOAuthErrorBody('{"code":"refresh_token_expired"}')).toEqual({ errorCode: "refresh_token_expired", detail: "refresh_token_expired" });
    expect(readOAuthErrorBody("upstream down")).toEqual({ errorCode: undefined, detail: "upstream down" });
    expect(readOAuthErrorBody("")).toEqual({ errorCode: undefined, detail: null });
  });
});

describe("OAuth client against the dev server", () => {
  async function authorizationCode(issuer: string, redirectUri: string, challenge: string): Promise<string> {
    const url = buildAuthorizeUrl({ issuer, clientId: CODEX_CLIENT_ID, redirectUri, codeChallenge: challenge, state: "s" });
    const answer = await fetch(url, { redirect: "manual" });
    return new URL(answer.headers.get("location")!).searchParams.get("code")!;
  }

  it("exchanges an authorization code (form) for three tokens, and the id_token for an API key", async () => {
    const { server } = await start();
    server.setAuthorizeMode("approve");
    const pkce = generatePkce();
    const redirectUri = "http://127.0.0.1:1/auth/callback";
    const code = await authorizationCode(server.issuerUrl, redirectUri, pkce.codeChallenge);
    const tokens = await exchangeAuthorizationCode({
      issuer: server.issuerUrl,
      clientId: CODEX_CLIENT_ID,
      code: new Secret(code),
      codeVerifier: pkce.codeVerifier,
      redirectUri,
    });
    expect(Object.keys(tokens)).toEqual(expect.arrayContaining(["id_token", "access_token", "refresh_token"]));
    const key = await exchangeIdTokenForApiKey({ issuer: server.issuerUrl, clientId: CODEX_CLIENT_ID, idToken: new Secret(tokens.id_token) });
    expect(key).toMatch(/^sk-dev-/);

    // A second use of the code: 400 invalid_grant, described without the code or verifier.
    const error = await rejection(
      exchangeAuthorizationCode({ issuer: server.issuerUrl, clientId: CODEX_CLIENT_ID, code: new Secret(code), codeVerifier: pkce.codeVerifier, redirectUri }),
    );
    expect(error).toBeInstanceOf(OAuthStatusError);
    expect((error as OAuthStatusError).errorCode).toBe("invalid_grant");
    expect(error.message).toBe("400 Bad Request: The authorization code is unknown or was already used.");
    assertNoSecrets([error.message, String(error.stack)], [code, pkce.codeVerifier.reveal()]);
  });

  it("refreshes with JSON, reads the three error shapes, and never echoes the refresh token", async () => {
    const { server } = await start();
    const issued = server.issueTokens();
    const refreshUrl = `${server.url}/oauth/token`;
    const answer = await requestTokenRefresh({ refreshUrl, clientId: CODEX_CLIENT_ID, refreshToken: new Secret(issued.refreshToken) });
    expect(answer.refresh_token).not.toBe(issued.refreshToken);

    const reused = await rejection(requestTokenRefresh({ refreshUrl, clientId: CODEX_CLIENT_ID, refreshToken: new Secret(issued.refreshToken) }));
    expect(reused).toMatchObject({ code: "STATUS", status: 401, errorCode: "refresh_token_reused" });
    const unknown = await rejection(requestTokenRefresh({ refreshUrl, clientId: CODEX_CLIENT_ID, refreshToken: new Secret("rt-unknown-token-value") }));
    expect(unknown).toMatchObject({ status: 400, errorCode: "invalid_grant" });
    assertNoSecrets([reused.message, unknown.message], [issued.refreshToken, "rt-unknown-token-value"]);
  });

  it("posts exactly Codex's bodies: form order for the code exchange, JSON order for refresh, revoke shapes", async () => {
    const recorder = await recordingServer((request, response) => {
      if (request.url.startsWith("/oauth/token") && request.headers["content-type"]?.startsWith("application/json")) {
        return json(response, 200, { access_token: "a", refresh_token: "r" });
      }
      if (request.url === "/oauth/token") return json(response, 200, { id_token: "i.j.k", access_token: "a", refresh_token: "r" });
      response.writeHead(200).end();
    });
    await exchangeAuthorizationCode({
      issuer: recorder.url,
      clientId: CODEX_CLIENT_ID,
      code: new Secret("the-code"),
      codeVerifier: new Secret("the-verifier"),
      redirectUri: "http://127.0.0.1:1455/auth/callback",
    });
    await exchangeIdTokenForApiKey({ issuer: recorder.url, clientId: CODEX_CLIENT_ID, idToken: new Secret("i.j.k") });
    await requestTokenRefresh({ refreshUrl: `${recorder.url}/oauth/token?tenant=1`, clientId: "app_x", refreshToken: new Secret("rt-1") });
    await revokeToken({ revokeUrl: `${recorder.url}/oauth/revoke`, token: new Secret("rt-1"), tokenTypeHint: "refresh_token", clientId: "app_x" });
    await revokeToken({ revokeUrl: `${recorder.url}/oauth/revoke`, token: new Secret("at-1"), tokenTypeHint: "access_token", clientId: null });

    const [code, apiKey, refresh, revokeRefresh, revokeAccess] = recorder.requests;
    expect(code!.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(code!.body).toBe(
      "grant_type=authorization_code&client_id=app_EMoamEEZ73f0CkXaXp7hrann&code=the-code&redirect_uri=http%3A%2F%2F127.0.0.1%3A1455%2Fauth%2Fcallback&code_verifier=the-verifier",
    );
    expect(apiKey!.body).toBe(
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&client_id=app_EMoamEEZ73f0CkXaXp7hrann&requested_token=openai-api-key&subject_token=i.j.k&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid_token",
    );
    expect(refresh!.url).toBe("/oauth/token?tenant=1");
    expect(refresh!.headers["content-type"]).toBe("application/json");
    expect(refresh!.body).toBe('{"client_id":"app_x","grant_type":"refresh_token","refresh_token":"rt-1"}');
    expect(revokeRefresh!.body).toBe('{"token":"rt-1","token_type_hint":"refresh_token","client_id":"app_x"}');
    expect(revokeAccess!.body).toBe('{"token":"at-1","token_type_hint":"access_token"}');
  });

  it("rejects a code exchange answer without all three tokens", async () => {
    const recorder = await recordingServer((_request, response) => json(response, 200, { access_token: "a", refresh_token: "r" }));
    const error = await rejection(
      exchangeAuthorizationCode({ issuer: recorder.url, clientId: CODEX_CLIENT_ID, code: new Secret("c"), codeVerifier: new Secret("v"), redirectUri: "http://x" }),
    );
    expect(error).toMatchObject({ code: "INVALID_RESPONSE", message: "missing field `id_token`" });
  });

  it("scrubs a secret the issuer echoes back in an error body", async () => {
    const refreshToken = "rt-echoed-secret-value-0123456789";
    const recorder = await recordingServer((request, response) => json(response, 500, { error: { code: "boom", message: `cannot use ${JSON.parse(request.body).refresh_token}` } }));
    const error = await rejection(requestTokenRefresh({ refreshUrl: `${recorder.url}/oauth/token`, clientId: "c", refreshToken: new Secret(refreshToken) }));
    expect(error.message).toBe("500 Internal Server Error: cannot use [REDACTED]");
    assertNoSecrets([error.message], [refreshToken]);
  });

  it("gives up after the deadline with a typed TIMEOUT", async () => {
    const recorder = await recordingServer(() => {
      // never answers
    });
    const error = await rejection(requestTokenRefresh({ refreshUrl: `${recorder.url}/oauth/token`, clientId: "c", refreshToken: new Secret("rt-x") }, { timeoutMs: 200 }));
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ code: "TIMEOUT" });
    expect(error.message).toBe(`operation timed out after 200 ms (${recorder.url}/oauth/token)`);
  });

  it("revokes at the dev server (200, empty body) and reports other statuses", async () => {
    const { server } = await start();
    const issued = server.issueTokens();
    await revokeToken({ revokeUrl: `${server.url}/oauth/revoke`, token: new Secret(issued.refreshToken), tokenTypeHint: "refresh_token", clientId: CODEX_CLIENT_ID });
    expect(server.wasRevoked(issued.refreshToken)).toBe(true);
    expect(server.revocations.at(-1)).toMatchObject({ tokenTypeHint: "refresh_token", clientId: CODEX_CLIENT_ID, known: true });
    server.failNext("/oauth/revoke", 500);
    const error = await rejection(revokeToken({ revokeUrl: `${server.url}/oauth/revoke`, token: new Secret(issued.accessToken), tokenTypeHint: "access_token", clientId: null }));
    expect(error).toMatchObject({ code: "STATUS", status: 500 });
    assertNoSecrets([error.message], [issued.accessToken]);
  });

  it("runs the device-code endpoints: user code, pending (403) as null, the grant once approved", async () => {
    const { server } = await start({ deviceCodeInterval: "1" });
    const code = await requestDeviceUserCode({ issuer: server.issuerUrl, clientId: CODEX_CLIENT_ID });
    expect(code).toMatchObject({ interval: "1" });
    expect(code.userCode).toMatch(/^[A-Z]{4}-\d{4}$/);
    const poll = { issuer: server.issuerUrl, deviceAuthId: code.deviceAuthId, userCode: code.userCode };
    expect(await pollDeviceToken(poll)).toBeNull();
    server.approveDeviceCode(code.userCode);
    expect(Object.keys((await pollDeviceToken(poll))!)).toEqual(["authorization_code", "code_challenge", "code_verifier"]);
    // An unknown code is a 404: pending, as for Codex.
    expect(await pollDeviceToken({ ...poll, userCode: "ZZZZ-0000" })).toBeNull();

    server.failNext("/api/accounts/deviceauth/token", 500);
    expect(await rejection(pollDeviceToken(poll))).toMatchObject({ status: 500 });
    server.setDeviceCodeSettings({ enabled: false });
    expect(await rejection(requestDeviceUserCode({ issuer: server.issuerUrl, clientId: CODEX_CLIENT_ID }))).toMatchObject({ status: 404 });
  });

  it("accepts the older `usercode` spelling and a numeric interval", async () => {
    const recorder = await recordingServer((_request, response) => json(response, 200, { device_auth_id: "d", usercode: "ABCD-1234", interval: 7 }));
    expect(await requestDeviceUserCode({ issuer: recorder.url, clientId: "c" })).toEqual({ deviceAuthId: "d", userCode: "ABCD-1234", interval: 7 });
    expect(JSON.parse(recorder.requests[0]!.body)).toEqual({ client_id: "c" });
  });
});
