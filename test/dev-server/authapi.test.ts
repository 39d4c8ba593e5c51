import { describe, expect, it } from "vitest";
import { validateWhoAmIResponse } from "../../generated/http/authapi.validators.js";
import { call, start, until } from "./support.js";

const WHOAMI = "/api/accounts/v1/user-auth-credential/whoami";

describe("AuthAPI whoami", () => {
  it("answers the demo tokens", async () => {
    const { server } = await start();
    expect(server.authApiBaseUrl).toBe(`${server.url}/api/accounts`);

    const valid = await call(server, "GET", WHOAMI, { bearer: "at-demo-valid" });
    expect(valid.status).toBe(200);
    expect(valid.body).toEqual({
      email: "demo@example.com",
      chatgpt_user_id: "user-demo",
      chatgpt_account_id: "acct-demo",
      chatgpt_plan_type: "plus",
      chatgpt_account_is_fedramp: false,
    });

    const other = await call(server, "GET", WHOAMI, { bearer: "at-demo-other-workspace" });
    expect(other.status).toBe(200);
    expect(other.body).toMatchObject({ chatgpt_account_id: "acct-other" });

    expect((await call(server, "GET", WHOAMI, { bearer: "at-demo-revoked" })).status).toBe(401);
    expect((await call(server, "GET", WHOAMI, { bearer: "at-demo-forbidden" })).status).toBe(403);
    expect((await call(server, "GET", WHOAMI, { bearer: "at-unknown-token" })).status).toBe(401);
  });

  it("sends email: null for at-demo-missing-email, the one deliberate contract break", async () => {
    const { server, logLines } = await start();
    const response = await call(server, "GET", WHOAMI, { bearer: "at-demo-missing-email", nonConforming: true });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ email: null, chatgpt_account_id: "acct-demo" });
    expect(validateWhoAmIResponse(response.body)).toBe(false);
    expect(logLines.some((line) => line.includes("deliberately non-conforming"))).toBe(true);
    expect(server.contractViolations).toEqual([]);
  });

  it("requires a bearer", async () => {
    const { server } = await start();
    expect((await call(server, "GET", WHOAMI)).status).toBe(401);
    expect((await call(server, "GET", WHOAMI, { headers: { authorization: "Basic dXNlcjpwYXNz" } })).status).toBe(401);
  });

  it("serves registered tokens with their metadata, status and null fields", async () => {
    const { server } = await start();
    server.addPersonalAccessToken("at-test-team", { account: { email: "t@example.com", accountId: "acct-team", planType: "team", isFedramp: true } });
    server.addPersonalAccessToken("at-test-500", { status: 500 });
    server.addPersonalAccessToken("at-test-no-plan", { nullFields: ["chatgpt_plan_type"] });

    const team = await call(server, "GET", WHOAMI, { bearer: "at-test-team" });
    expect(team.body).toEqual({
      email: "t@example.com",
      chatgpt_user_id: "user-demo",
      chatgpt_account_id: "acct-team",
      chatgpt_plan_type: "team",
      chatgpt_account_is_fedramp: true,
    });
    expect((await call(server, "GET", WHOAMI, { bearer: "at-test-500" })).status).toBe(500);
    const noPlan = await call(server, "GET", WHOAMI, { bearer: "at-test-no-plan", nonConforming: true });
    expect(noPlan.body).toMatchObject({ chatgpt_plan_type: null, email: "demo@example.com" });
  });

  it("answers at-demo-slow after the configured delay", async () => {
    const { server } = await start({ slowDelayMs: 20 });
    const response = await call(server, "GET", WHOAMI, { bearer: "at-demo-slow" });
    expect(response.status).toBe(200);
  });

  it("lets close() end a held at-demo-slow request", async () => {
    const { server } = await start({ slowDelayMs: Infinity });
    const pending = fetch(`${server.url}${WHOAMI}`, { headers: { authorization: "Bearer at-demo-slow" } }).then(
      (response) => `status ${response.status}`,
      () => "failed",
    );
    await until(() => server.count("GET", WHOAMI) === 1, "the slow request to arrive");
    await server.close();
    expect(await pending).toBe("failed");
    expect(server.requests[0]?.status).toBe(0);
  });
});
