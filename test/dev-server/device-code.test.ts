import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { DevServer } from "../../src/dev-server/index.js";
import { call, jwtClaims, start } from "./support.js";

const CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";

interface UserCode {
  device_auth_id: string;
  user_code: string;
  interval: string;
}

async function requestUserCode(server: DevServer): Promise<UserCode> {
  const response = await call(server, "POST", "/api/accounts/deviceauth/usercode", { json: { client_id: CLIENT_ID } });
  expect(response.status).toBe(200);
  return response.body as UserCode;
}

async function pollOnce(server: DevServer, code: UserCode) {
  return call(server, "POST", "/api/accounts/deviceauth/token", { json: { device_auth_id: code.device_auth_id, user_code: code.user_code } });
}

describe("device-code login", () => {
  it("is pending, then approved, then exchanged at /oauth/token", async () => {
    const { server } = await start({ deviceCodeInterval: "1" });
    const code = await requestUserCode(server);
    expect(code.interval).toBe("1");
    expect(code.user_code).toMatch(/^[A-Z]{4}-\d{4}$/);

    expect((await pollOnce(server, code)).status).toBe(403);
    expect((await pollOnce(server, code)).status).toBe(403);
    expect(server.deviceCodes).toEqual([{ userCode: code.user_code, status: "pending", polls: 2 }]);

    server.setNextAccount({ accountId: "acct-device" });
    server.approveDeviceCode(code.user_code);
    const approved = await pollOnce(server, code);
    expect(approved.status).toBe(200);
    const grant = approved.body as { authorization_code: string; code_challenge: string; code_verifier: string };
    expect(createHash("sha256").update(grant.code_verifier).digest("base64url")).toBe(grant.code_challenge);

    const exchanged = await call(server, "POST", "/oauth/token", {
      form: {
        grant_type: "authorization_code",
        code: grant.authorization_code,
        redirect_uri: `${server.issuerUrl}/deviceauth/callback`,
        client_id: CLIENT_ID,
        code_verifier: grant.code_verifier,
      },
    });
    expect(exchanged.status).toBe(200);
    const tokens = exchanged.body as { id_token: string };
    expect(jwtClaims(tokens.id_token)["https://api.openai.com/auth"]).toMatchObject({ chatgpt_account_id: "acct-device" });
  });

  it("approves through the /codex/device page form", async () => {
    const { server } = await start();
    const code = await requestUserCode(server);
    const page = await call(server, "GET", "/codex/device");
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<form method="post" action="\/codex\/device">/);
    expect(page.text).toContain('name="user_code"');

    const wrong = await call(server, "POST", "/codex/device", { form: { user_code: "ZZZZ-0000", decision: "approve" } });
    expect(wrong.status).toBe(400);
    // People type codes in lower case and with spaces.
    const typed = code.user_code.toLowerCase().replace("-", " - ");
    const approved = await call(server, "POST", "/codex/device", { form: { user_code: typed, decision: "approve" } });
    expect(approved.status).toBe(200);
    expect(approved.text).toContain("Device approved");
    expect((await pollOnce(server, code)).status).toBe(200);
  });

  it("auto-approves after N pending polls", async () => {
    const { server } = await start();
    server.setDeviceCodeSettings({ autoApproveAfterPolls: 2 });
    const code = await requestUserCode(server);
    expect((await pollOnce(server, code)).status).toBe(403);
    expect((await pollOnce(server, code)).status).toBe(403);
    expect((await pollOnce(server, code)).status).toBe(200);
  });

  it("keeps expired or denied codes failing, with a configurable status", async () => {
    const { server } = await start();
    const denied = await requestUserCode(server);
    await call(server, "POST", "/codex/device", { form: { user_code: denied.user_code, decision: "deny" } });
    expect((await pollOnce(server, denied)).body).toMatchObject({ error: { code: "deviceauth_expired" } });
    expect((await pollOnce(server, denied)).status).toBe(403);
    expect(() => server.approveDeviceCode(denied.user_code)).toThrow(/expired/);

    server.setDeviceCodeSettings({ expiredStatus: 410 });
    const expired = await requestUserCode(server);
    server.expireDeviceCode();
    expect((await pollOnce(server, expired)).status).toBe(410);

    server.setDeviceCodeSettings({ ttlSeconds: -1 });
    const outlived = await requestUserCode(server);
    expect((await pollOnce(server, outlived)).status).toBe(410);
  });

  it("answers 404 to usercode when device code login is disabled", async () => {
    const { server } = await start();
    server.setDeviceCodeSettings({ enabled: false });
    const response = await call(server, "POST", "/api/accounts/deviceauth/usercode", { json: { client_id: CLIENT_ID } });
    expect(response.status).toBe(404);
  });

  it("rejects malformed requests and unknown device codes", async () => {
    const { server } = await start();
    expect((await call(server, "POST", "/api/accounts/deviceauth/usercode", { json: {} })).status).toBe(400);
    expect((await call(server, "POST", "/api/accounts/deviceauth/token", { json: { device_auth_id: "x" } })).status).toBe(400);
    const code = await requestUserCode(server);
    expect((await pollOnce(server, { ...code, user_code: "ZZZZ-0000" })).status).toBe(404);
    expect(() => server.approveDeviceCode("NOPE-0000")).toThrow(/unknown device code/);
  });
});
