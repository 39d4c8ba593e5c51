import { describe, expect, it } from "vitest";
import { revokeManagedTokens } from "../../../src/auth/chatgpt/revoke.js";
import { resolveOAuthEndpoints } from "../../../src/http/oauth.js";
import { start } from "../../dev-server/support.js";
import { assertNoSecrets } from "../../support/secrets.js";
import { chatgptAuth, recordingServer } from "./support.js";

describe("revokeManagedTokens (logout)", () => {
  it("revokes the refresh token with its hint and the client id", async () => {
    const { server } = await start();
    const issued = server.issueTokens();
    const outcome = await revokeManagedTokens(chatgptAuth(issued), { env: server.env() });
    expect(outcome).toEqual({ revoked: true, error: null });
    expect(server.revocations).toEqual([expect.objectContaining({ tokenTypeHint: "refresh_token", clientId: "app_EMoamEEZ73f0CkXaXp7hrann", known: true })]);
    expect(server.wasRevoked(issued.refreshToken)).toBe(true);
  });

  it("falls back to the access token (hint access_token, no client id) when there is no refresh token", async () => {
    const { server } = await start();
    const issued = server.issueTokens();
    const auth = chatgptAuth(issued);
    auth.tokens!.refresh_token = "";
    expect(await revokeManagedTokens(auth, { env: server.env() })).toEqual({ revoked: true, error: null });
    expect(server.revocations).toEqual([expect.objectContaining({ tokenTypeHint: "access_token", clientId: null })]);
    expect(server.wasRevoked(issued.accessToken)).toBe(true);
  });

  it("posts to the revoke override, else one derived from the refresh override, else {issuer}/oauth/revoke", async () => {
    const recorder = await recordingServer();
    const auth = chatgptAuth({ idToken: "i.d.t", accessToken: "at", refreshToken: "rt-1", account: { accountId: "a" } } as never);
    await revokeManagedTokens(auth, { env: { CODEX_REVOKE_TOKEN_URL_OVERRIDE: `${recorder.url}/custom/revoke?x=1` } });
    await revokeManagedTokens(auth, { env: { CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${recorder.url}/custom/token?x=1` } });
    await revokeManagedTokens(auth, { env: { CODEX_AUTH_ISSUER: recorder.url, CODEX_APP_SERVER_LOGIN_CLIENT_ID: "app_custom" } });
    expect(recorder.requests.map((request) => request.url)).toEqual(["/custom/revoke?x=1", "/oauth/revoke", "/oauth/revoke"]);
    expect(recorder.requests.map((request) => JSON.parse(request.body))).toEqual([
      { token: "rt-1", token_type_hint: "refresh_token", client_id: "app_EMoamEEZ73f0CkXaXp7hrann" },
      { token: "rt-1", token_type_hint: "refresh_token", client_id: "app_EMoamEEZ73f0CkXaXp7hrann" },
      { token: "rt-1", token_type_hint: "refresh_token", client_id: "app_custom" },
    ]);
  });

  it("never throws: a failure comes back as Codex's log line, without the token", async () => {
    const { server } = await start();
    const issued = server.issueTokens();
    server.failNext("/oauth/revoke", 500);
    const outcome = await revokeManagedTokens(chatgptAuth(issued), { env: server.env() });
    expect(outcome.revoked).toBe(false);
    expect(outcome.error).toBe(
      "failed to revoke auth tokens during logout: failed to revoke refresh token: 500 Internal Server Error: The dev server was told to fail this request with 500.",
    );
    const unreachable = await revokeManagedTokens(chatgptAuth(issued), { endpoints: { ...resolveOAuthEndpoints({}), revokeUrl: "http://127.0.0.1:1/oauth/revoke" } });
    expect(unreachable.error).toMatch(/^failed to revoke auth tokens during logout: failed to revoke refresh token: error sending request for url \(http:\/\/127\.0\.0\.1:1\/oauth\/revoke\)/);
    const slow = await recordingServer(() => {
      // never answers
    });
    const timedOut = await revokeManagedTokens(chatgptAuth(issued), { env: { CODEX_AUTH_ISSUER: slow.url }, timeoutMs: 100 });
    expect(timedOut.error).toBe(`failed to revoke auth tokens during logout: failed to revoke refresh token: operation timed out after 100 ms (${slow.url}/oauth/revoke)`);
    assertNoSecrets([outcome.error!, unreachable.error!, timedOut.error!], [issued.refreshToken, issued.accessToken]);
  });

  it("revokes nothing for other modes or no auth", async () => {
    const recorder = await recordingServer();
    const env = { CODEX_AUTH_ISSUER: recorder.url };
    expect(await revokeManagedTokens(null, { env })).toEqual({ revoked: false, error: null });
    expect(await revokeManagedTokens({ auth_mode: "apikey", OPENAI_API_KEY: "sk-x" }, { env })).toEqual({ revoked: false, error: null });
    expect(await revokeManagedTokens({ OPENAI_API_KEY: null, personal_access_token: "at-x" }, { env })).toEqual({ revoked: false, error: null });
    // OPENAI_API_KEY next to tokens without auth_mode resolves to apikey (Codex's rule): not revoked either.
    expect(await revokeManagedTokens({ OPENAI_API_KEY: "sk-x", tokens: { id_token: "i", access_token: "a", refresh_token: "r" } }, { env })).toEqual({
      revoked: false,
      error: null,
    });
    expect(recorder.requests).toEqual([]);
  });
});
