import { describe, expect, it } from "vitest";
import { validateAccountsCheckResponse, validateUsagePayload } from "../../generated/http/backend.validators.js";
import { ACCOUNT_ROUTING_OVERRIDE } from "../../src/dev-server/backend.js";
import type { UsagePayload } from "../../generated/http/backend.js";
import { call, jwtClaims, start } from "./support.js";

const USAGE = "/backend-api/wham/usage";
const CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";

describe("backend usage", () => {
  it("serves chatgpt_base_url + wham/usage", async () => {
    const { server } = await start();
    expect(`${server.chatgptBaseUrl}wham/usage`).toBe(`${server.url}${USAGE}`);
    expect(server.configOverrides()).toEqual(["-c", `chatgpt_base_url=${server.url}/backend-api/`]);
  });

  it("answers 401 without a bearer or for an unknown one", async () => {
    const { server } = await start();
    expect((await call(server, "GET", USAGE)).status).toBe(401);
    expect((await call(server, "GET", USAGE, { bearer: "eyJ.unknown.token" })).status).toBe(401);
    expect((await call(server, "GET", USAGE, { bearer: "at-demo-revoked" })).status).toBe(401);
  });

  it("answers a usage payload that validates for an issued token, a PAT and an allowed bearer", async () => {
    const { server } = await start();
    const { accessToken } = server.issueTokens({ planType: "pro", accountId: "acct-pro" });
    const usage = await call(server, "GET", USAGE, { bearer: accessToken, headers: { "ChatGPT-Account-Id": "acct-pro" } });
    expect(usage.status).toBe(200);
    expect(validateUsagePayload(usage.body)).toBe(true);
    expect(usage.body).toMatchObject({ plan_type: "pro", rate_limit: { primary_window: { used_percent: 12 } } });

    const pat = await call(server, "GET", USAGE, { bearer: "at-demo-valid" });
    expect(pat.body).toMatchObject({ plan_type: "plus" });

    server.backend.allowBearer("external-access-token", { planType: "enterprise" });
    expect((await call(server, "GET", USAGE, { bearer: "external-access-token" })).body).toMatchObject({ plan_type: "enterprise" });

    const custom: UsagePayload = { plan_type: "team", rate_limit: null, credits: { has_credits: true, unlimited: true } };
    server.backend.setUsage(custom);
    expect((await call(server, "GET", USAGE, { bearer: accessToken })).body).toEqual(custom);
  });

  it("answers 403 when ChatGPT-Account-Id names another workspace", async () => {
    const { server } = await start();
    const { accessToken } = server.issueTokens();
    const mismatch = await call(server, "GET", USAGE, { bearer: accessToken, headers: { "ChatGPT-Account-Id": "acct-other" } });
    expect(mismatch.status).toBe(403);
    expect(server.requests.at(-1)?.chatgptAccountId).toBe("acct-other");
  });

  it("fails the next requests on demand", async () => {
    const { server } = await start();
    const { accessToken } = server.issueTokens();
    server.backend.failNext(401, 2);
    expect((await call(server, "GET", USAGE, { bearer: accessToken })).status).toBe(401);
    expect((await call(server, "GET", USAGE, { bearer: accessToken })).status).toBe(401);
    expect((await call(server, "GET", USAGE, { bearer: accessToken })).status).toBe(200);
    server.backend.failNext(503);
    expect((await call(server, "GET", USAGE, { bearer: accessToken })).status).toBe(503);
    expect((await call(server, "GET", USAGE, { bearer: accessToken })).status).toBe(200);
  });

  it("revokes bearers", async () => {
    const { server } = await start();
    const { accessToken } = server.issueTokens();
    server.backend.revokeBearer(accessToken);
    server.backend.revokeBearer("at-demo-valid");
    expect((await call(server, "GET", USAGE, { bearer: accessToken })).status).toBe(401);
    expect((await call(server, "GET", USAGE, { bearer: "at-demo-valid" })).status).toBe(401);
  });

  it("rejects expired tokens and tokens issued before the cut-off, until refreshed", async () => {
    const { server } = await start();
    const expired = server.issueTokens(undefined, { ttlSeconds: -60 });
    expect(jwtClaims(expired.accessToken).exp).toBeLessThan(Date.now() / 1000);
    expect((await call(server, "GET", USAGE, { bearer: expired.accessToken })).status).toBe(401);

    const nearExpiry = server.issueTokens(undefined, { ttlSeconds: 240 });
    const claims = jwtClaims(nearExpiry.accessToken);
    expect((claims.exp as number) - (claims.iat as number)).toBe(240);
    expect((await call(server, "GET", USAGE, { bearer: nearExpiry.accessToken })).status).toBe(200);

    server.backend.rejectTokensIssuedBefore();
    expect((await call(server, "GET", USAGE, { bearer: nearExpiry.accessToken })).status).toBe(401);
    const refreshed = await call(server, "POST", "/oauth/token", {
      json: { client_id: CLIENT_ID, grant_type: "refresh_token", refresh_token: nearExpiry.refreshToken },
    });
    const { access_token } = refreshed.body as { access_token: string };
    expect((await call(server, "GET", USAGE, { bearer: access_token })).status).toBe(200);
    expect(server.sawBearer(USAGE, access_token)).toBe(true);

    server.backend.rejectTokensIssuedBefore(null);
    expect((await call(server, "GET", USAGE, { bearer: nearExpiry.accessToken })).status).toBe(200);
  });

  it("mints tokens that honour the access token lifetime setting", async () => {
    const { server } = await start({ accessTokenTtlSeconds: 120 });
    const claims = jwtClaims(server.issueTokens().accessToken);
    expect((claims.exp as number) - (claims.iat as number)).toBe(120);
    server.setAccessTokenTtl(-1);
    const expired = server.issueTokens();
    expect((await call(server, "GET", USAGE, { bearer: expired.accessToken })).status).toBe(401);
  });
});

describe("workspace routing discovery (wham/accounts/check, called by Codex 0.169.0+)", () => {
  const CHECK = "/backend-api/wham/accounts/check";

  it("lists the bearer's workspace once, with an HTTPS origin of this server and Codex's accepted override", async () => {
    const { server } = await start();
    const { accessToken } = server.issueTokens({ accountId: "acct-routing" });
    const check = await call(server, "GET", CHECK, { bearer: accessToken, headers: { "ChatGPT-Account-Id": "acct-routing" } });
    expect(check.status).toBe(200);
    expect(validateAccountsCheckResponse(check.body)).toBe(true);
    const origin = new URL(server.url);
    expect(check.body).toEqual({
      accounts: [{ id: "acct-routing", workspace_backend_origin: `https://${origin.host}`, account_routing_override: ACCOUNT_ROUTING_OVERRIDE }],
      account_ordering: ["acct-routing"],
    });
    expect(server.count("GET", CHECK)).toBe(1);
  });

  it("answers 401 for a missing or unknown bearer and 403 for another workspace, like wham/usage", async () => {
    const { server } = await start();
    expect((await call(server, "GET", CHECK)).status).toBe(401);
    expect((await call(server, "GET", CHECK, { bearer: "eyJ.unknown.token" })).status).toBe(401);
    const { accessToken } = server.issueTokens();
    expect((await call(server, "GET", CHECK, { bearer: accessToken, headers: { "ChatGPT-Account-Id": "acct-other" } })).status).toBe(403);
  });
});
