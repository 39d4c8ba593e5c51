import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthError } from "../../src/auth/errors.js";
import { PersonalAccessTokenHydrator } from "../../src/auth/personal-access-token.js";
import { Secret } from "../../src/auth/secret.js";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { WHOAMI_PATH } from "../../src/http/authapi.js";

let dev: DevServer;
let hydrator: PersonalAccessTokenHydrator;
const whoamiPath = `/api/accounts${WHOAMI_PATH}`;

beforeAll(async () => {
  dev = await startDevServer({ port: 0, slowDelayMs: 5_000 });
  hydrator = PersonalAccessTokenHydrator.fromEnv(dev.env());
});
afterAll(async () => {
  await dev.close();
});

async function hydrateError(token: string, h = hydrator): Promise<AuthError> {
  try {
    await h.hydrate(new Secret(token));
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error("expected hydration to fail");
}

describe("PersonalAccessTokenHydrator", () => {
  it("hydrates a valid token into account metadata", async () => {
    expect(await hydrator.hydrate(new Secret("at-demo-valid"))).toEqual({
      email: "demo@example.com",
      chatgptUserId: "user-demo",
      chatgptAccountId: "acct-demo",
      rawPlanType: "plus",
      planType: "plus",
      isFedramp: false,
    });
    expect(hydrator.timeoutMs).toBe(10_000);
  });

  it("asks whoami on every call: nothing is cached", async () => {
    const before = dev.count("GET", whoamiPath);
    await hydrator.hydrate(new Secret("at-demo-valid"));
    await hydrator.hydrate(new Secret("at-demo-valid"));
    expect(dev.count("GET", whoamiPath)).toBe(before + 2);
  });

  it("fails closed with the contract's messages", async () => {
    const revoked = await hydrateError("at-demo-revoked");
    expect([revoked.code, revoked.status, revoked.message]).toEqual(["PAT_STATUS", 401, "personal access token metadata request failed with status 401 Unauthorized"]);
    expect((await hydrateError("at-unknown-token")).message).toBe("personal access token metadata request failed with status 401 Unauthorized");
    expect((await hydrateError("at-demo-forbidden")).message).toBe("personal access token metadata request failed with status 403 Forbidden");
    const missingEmail = await hydrateError("at-demo-missing-email");
    expect([missingEmail.code, missingEmail.message]).toEqual([
      "PAT_DECODE",
      "failed to decode personal access token metadata: invalid type: null, expected a string at /email",
    ]);
  });

  it("fails closed on every missing or null required field", async () => {
    for (const field of ["email", "chatgpt_user_id", "chatgpt_account_id", "chatgpt_plan_type"] as const) {
      const token = `at-test-null-${field}`;
      dev.addPersonalAccessToken(token, { nullFields: [field] });
      expect((await hydrateError(token)).message).toBe(`failed to decode personal access token metadata: invalid type: null, expected a string at /${field}`);
    }
  });

  it("maps unknown plans to unknown and keeps FedRAMP", async () => {
    dev.addPersonalAccessToken("at-test-fedramp", { account: { planType: "galactic", isFedramp: true } });
    const metadata = await hydrator.hydrate(new Secret("at-test-fedramp"));
    expect(metadata.rawPlanType).toBe("galactic");
    expect(metadata.planType).toBe("unknown");
    expect(metadata.isFedramp).toBe(true);
  });

  it("reports a timeout as a request failure", async () => {
    const quick = new PersonalAccessTokenHydrator({ baseUrl: dev.authApiBaseUrl, timeoutMs: 100 });
    const error = await hydrateError("at-demo-slow", quick);
    expect(error.code).toBe("PAT_REQUEST_FAILED");
    expect(error.message).toMatch(/^failed to request personal access token metadata: operation timed out after 100 ms/);
  });
});
