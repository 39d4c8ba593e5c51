import { describe, expect, it } from "vitest";
import type { DevServer } from "../../src/dev-server/index.js";
import { call, jwtClaims, start } from "./support.js";

const CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
const WHOAMI = "/api/accounts/v1/user-auth-credential/whoami";
const USAGE = "/backend-api/wham/usage";

async function control(server: DevServer, path: string, body?: unknown) {
  return call(server, body === undefined ? "GET" : "POST", `/__dev/${path}`, body === undefined ? {} : { json: body });
}

describe("control plane (/__dev/)", () => {
  it("describes the server in /__dev/state", async () => {
    const { server } = await start();
    await call(server, "GET", WHOAMI, { bearer: "at-demo-valid" });
    const state = await control(server, "state");
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({
      ok: true,
      url: server.url,
      authApiBaseUrl: server.authApiBaseUrl,
      chatgptBaseUrl: server.chatgptBaseUrl,
      env: server.env(),
      configOverrides: server.configOverrides(),
      counts: { [`GET ${WHOAMI}`]: 1 },
      settings: { authorizeMode: "page", refreshTokenReuse: false, device: { enabled: true, interval: "5" } },
    });
    expect(server.env()).toEqual({
      CODEX_AUTHAPI_BASE_URL: `${server.url}/api/accounts`,
      CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${server.url}/oauth/token`,
      CODEX_REVOKE_TOKEN_URL_OVERRIDE: `${server.url}/oauth/revoke`,
      CODEX_AUTH_ISSUER: server.url,
    });
    // Control requests are not part of the request log.
    expect(server.count("GET", "/__dev/state")).toBe(0);
    expect((await control(server, "count?method=GET&path=" + encodeURIComponent(WHOAMI))).body).toEqual({ ok: true, count: 1 });
  });

  it("registers PATs and switches the next account", async () => {
    const { server } = await start();
    const pat = await control(server, "pat", { token: "at-child-process", account: { accountId: "acct-child" }, status: 200 });
    expect(pat.body).toEqual({ ok: true });
    expect((await call(server, "GET", WHOAMI, { bearer: "at-child-process" })).body).toMatchObject({ chatgpt_account_id: "acct-child" });
    await control(server, "pat", { token: "at-child-missing", nullFields: ["email"] });
    expect((await call(server, "GET", WHOAMI, { bearer: "at-child-missing", nonConforming: true })).body).toMatchObject({ email: null });

    const next = await control(server, "next-account", { account: { email: "n@example.com", accountId: "acct-next" } });
    expect(next.body).toMatchObject({ account: { email: "n@example.com", accountId: "acct-next", userId: "user-demo" } });
    const issued = (await control(server, "issue-tokens", { account: { accountId: "acct-issued" }, ttlSeconds: 240 })).body as {
      tokens: { id_token: string; access_token: string; refresh_token: string; account_id: string };
    };
    expect(issued.tokens.account_id).toBe("acct-issued");
    const claims = jwtClaims(issued.tokens.access_token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(240);
    expect((await control(server, "saw-bearer", { path: WHOAMI, token: "at-child-process" })).body).toEqual({ ok: true, seen: true });
  });

  it("switches refresh failures, backend failures and device codes", async () => {
    const { server } = await start();
    const { refreshToken, accessToken } = server.issueTokens();
    await control(server, "refresh/fail", { code: "refresh_token_expired", count: 1 });
    const refresh = { json: { client_id: CLIENT_ID, grant_type: "refresh_token", refresh_token: refreshToken } };
    expect((await call(server, "POST", "/oauth/token", refresh)).body).toMatchObject({ error: { code: "refresh_token_expired" } });
    expect((await call(server, "POST", "/oauth/token", refresh)).status).toBe(200);

    await control(server, "backend/fail-next", { status: 401, count: 1 });
    expect((await call(server, "GET", USAGE, { bearer: accessToken })).status).toBe(401);
    expect((await call(server, "GET", USAGE, { bearer: accessToken })).status).toBe(200);
    await control(server, "backend/reject-issued-before", {});
    expect((await call(server, "GET", USAGE, { bearer: accessToken })).status).toBe(401);
    await control(server, "backend/reject-issued-before", { at: null });
    await control(server, "backend/revoke-bearer", { token: accessToken });
    expect((await call(server, "GET", USAGE, { bearer: accessToken })).status).toBe(401);
    await control(server, "backend/allow-bearer", { token: "parent-app-token", account: { accountId: "acct-parent" } });
    expect((await call(server, "GET", USAGE, { bearer: "parent-app-token", headers: { "ChatGPT-Account-Id": "acct-parent" } })).status).toBe(200);

    await control(server, "device/settings", { interval: "1" });
    const userCode = (await call(server, "POST", "/api/accounts/deviceauth/usercode", { json: { client_id: CLIENT_ID } })).body as {
      device_auth_id: string;
      user_code: string;
      interval: string;
    };
    expect(userCode.interval).toBe("1");
    expect((await control(server, "device/approve", { user_code: userCode.user_code })).status).toBe(200);
    const poll = await call(server, "POST", "/api/accounts/deviceauth/token", {
      json: { device_auth_id: userCode.device_auth_id, user_code: userCode.user_code },
    });
    expect(poll.status).toBe(200);
    await control(server, "device/settings", { enabled: false });
    expect((await call(server, "POST", "/api/accounts/deviceauth/usercode", { json: { client_id: CLIENT_ID } })).status).toBe(404);
  });

  it("answers 400 to bad control requests and 409 when an action cannot apply", async () => {
    const { server } = await start();
    expect((await control(server, "refresh/fail", { code: "bogus" })).status).toBe(400);
    expect((await control(server, "backend/fail-next", { status: "401" })).status).toBe(400);
    expect((await control(server, "pat", {})).status).toBe(400);
    expect((await control(server, "authorize-mode", { mode: "approve" })).status).toBe(200);
    const approve = await control(server, "device/approve", {});
    expect(approve.status).toBe(409);
    expect(approve.body).toEqual({ error: "no pending device code" });
  });
});
