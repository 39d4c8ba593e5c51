import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { UsagePayload } from "../../generated/http/backend.js";
import { startDevServer } from "../../src/dev-server/index.js";
import { call, start } from "./support.js";

const CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
const WHOAMI = "/api/accounts/v1/user-auth-credential/whoami";
const USAGE = "/backend-api/wham/usage";

describe("request log", () => {
  it("records method, path, query, status, bearer fingerprint and time", async () => {
    const { server } = await start();
    const before = Date.now();
    await call(server, "GET", WHOAMI, { bearer: "at-demo-valid" });
    await call(server, "GET", `${WHOAMI}?probe=1`);
    await call(server, "GET", "/no/such/route");
    await call(server, "POST", WHOAMI);

    const [withBearer, withoutBearer, unknown, wrongMethod] = server.requests;
    expect(withBearer).toMatchObject({ method: "GET", path: WHOAMI, status: 200, query: {}, chatgptAccountId: null, grantType: null });
    expect(withBearer!.bearerFingerprint).toBe(createHash("sha256").update("at-demo-valid").digest("hex").slice(0, 16));
    expect(withBearer!.at).toBeGreaterThanOrEqual(before);
    expect(withoutBearer).toMatchObject({ status: 401, query: { probe: "1" }, bearerFingerprint: null });
    expect(unknown).toMatchObject({ path: "/no/such/route", status: 404 });
    expect(wrongMethod).toMatchObject({ method: "POST", status: 405 });

    expect(server.count("GET", WHOAMI)).toBe(2);
    expect(server.count("get", `${server.url}${WHOAMI}`)).toBe(2);
    expect(server.sawBearer(WHOAMI, "at-demo-valid")).toBe(true);
    expect(server.sawBearer(WHOAMI, "at-demo-revoked")).toBe(false);
    expect(server.sawBearer(USAGE, "at-demo-valid")).toBe(false);
  });

  it("never writes a secret into log lines, the request log or /__dev/state", async () => {
    const { server, logLines } = await start();
    server.addPersonalAccessToken("at-secret-registered-0123456789");
    const secrets: string[] = ["at-secret-registered-0123456789"];

    await call(server, "GET", WHOAMI, { bearer: "at-demo-valid" });
    await call(server, "GET", WHOAMI, { bearer: "at-demo-revoked" });
    await call(server, "GET", WHOAMI, { bearer: "at-secret-registered-0123456789" });

    // Browser login, API-key exchange, refresh, usage, revoke.
    server.setAuthorizeMode("approve");
    const verifier = randomBytes(64).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const redirectUri = "http://localhost:1455/auth/callback";
    const query = new URLSearchParams({
      response_type: "code", client_id: CLIENT_ID, redirect_uri: redirectUri, scope: "openid",
      code_challenge: challenge, code_challenge_method: "S256", state: "s",
    });
    const authorized = await call(server, "GET", `/oauth/authorize?${query}`);
    const code = new URL(authorized.headers.get("location")!).searchParams.get("code")!;
    const exchanged = await call(server, "POST", "/oauth/token", {
      form: { grant_type: "authorization_code", code, redirect_uri: redirectUri, client_id: CLIENT_ID, code_verifier: verifier },
    });
    const tokens = exchanged.body as { id_token: string; access_token: string; refresh_token: string };
    const apiKey = await call(server, "POST", "/oauth/token", {
      form: {
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange", client_id: CLIENT_ID, requested_token: "openai-api-key",
        subject_token: tokens.id_token, subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
      },
    });
    const refreshed = await call(server, "POST", "/oauth/token", {
      json: { client_id: CLIENT_ID, grant_type: "refresh_token", refresh_token: tokens.refresh_token },
    });
    const renewed = refreshed.body as { access_token: string; refresh_token: string };
    await call(server, "GET", USAGE, { bearer: renewed.access_token });
    await call(server, "POST", "/oauth/revoke", { json: { token: renewed.refresh_token, token_type_hint: "refresh_token" } });
    secrets.push(code, verifier, tokens.id_token, tokens.access_token, tokens.refresh_token, renewed.access_token, renewed.refresh_token);
    secrets.push((apiKey.body as { access_token: string }).access_token);

    // Device code.
    const userCode = (await call(server, "POST", "/api/accounts/deviceauth/usercode", { json: { client_id: CLIENT_ID } })).body as {
      device_auth_id: string;
      user_code: string;
    };
    server.approveDeviceCode(userCode.user_code);
    const grant = (await call(server, "POST", "/api/accounts/deviceauth/token", { json: userCode })).body as {
      authorization_code: string;
      code_verifier: string;
    };
    secrets.push(userCode.device_auth_id, grant.authorization_code, grant.code_verifier);

    const state = await call(server, "GET", "/__dev/state");
    const logs = [logLines.join("\n"), JSON.stringify(server.requests)].join("\n");
    const everything = [logs, state.text, JSON.stringify(server.snapshot())].join("\n");
    for (const secret of secrets) expect(everything.includes(secret), `a secret leaked: ${secret.slice(0, 6)}...`).toBe(false);
    for (const demo of ["at-demo-valid", "at-demo-revoked"]) expect(logs.includes(demo), demo).toBe(false);

    expect(logLines).toContain(`dev-server: GET ${WHOAMI} 200 bearer=at-demo***`);
    expect(logLines.some((line) => line.includes("grant_type=refresh_token"))).toBe(true);
    // Demo token names are public and are listed; registered ones only by fingerprint.
    expect(state.text).toContain("at-demo-valid");
  });

  it("fails any contract route on demand with that API's error body", async () => {
    const { server } = await start();
    server.failNext(WHOAMI, 500);
    server.failNext("/oauth/revoke", 503, 2);
    expect((await call(server, "GET", WHOAMI, { bearer: "at-demo-valid" })).status).toBe(500);
    expect((await call(server, "GET", WHOAMI, { bearer: "at-demo-valid" })).status).toBe(200);
    const revoke = { json: { token: "rt-x", token_type_hint: "refresh_token" } };
    expect((await call(server, "POST", "/oauth/revoke", revoke)).status).toBe(503);
    expect((await call(server, "POST", "/oauth/revoke", revoke)).status).toBe(503);
    expect((await call(server, "POST", "/oauth/revoke", revoke)).status).toBe(200);
  });
});

describe("response validation", () => {
  it("refuses to send a body that breaks the contract: a loud 500, logged and listed", async () => {
    const logLines: string[] = [];
    const server = await startDevServer({ log: (line) => logLines.push(line) });
    try {
      server.backend.setUsage({ rate_limit: null } as unknown as UsagePayload);
      const response = await fetch(`${server.url}${USAGE}`, { headers: { authorization: "Bearer at-demo-valid" } });
      expect(response.status).toBe(500);
      expect(await response.json()).toMatchObject({ error: { code: "dev_server_contract_violation" } });
      expect(server.contractViolations).toHaveLength(1);
      expect(server.contractViolations[0]).toContain("plan_type");
      expect(logLines.some((line) => line.includes("CONTRACT VIOLATION") && line.includes(USAGE))).toBe(true);
      expect(logLines.join("\n")).not.toContain("at-demo-valid");
    } finally {
      await server.close();
    }
  });
});
