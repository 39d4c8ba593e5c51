import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { DEFAULT_AUTHAPI_BASE_URL, fetchPersonalAccessTokenMetadata, resolveAuthApiBaseUrl, WHOAMI_PATH } from "../../src/http/authapi.js";
import { HttpError } from "../../src/http/request.js";
import { assertNoSecrets } from "../support/secrets.js";

let dev: DevServer;
beforeAll(async () => {
  dev = await startDevServer({ port: 0, slowDelayMs: 5_000 });
});
afterAll(async () => {
  await dev.close();
});

const secret = (value: string) => ({ reveal: () => value });

async function httpError(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return error as HttpError;
  }
  throw new Error("expected an HttpError");
}

describe("resolveAuthApiBaseUrl", () => {
  it("trims, drops trailing slashes and ignores an empty value", () => {
    expect(resolveAuthApiBaseUrl({})).toBe(DEFAULT_AUTHAPI_BASE_URL);
    expect(DEFAULT_AUTHAPI_BASE_URL).toBe("https://auth.openai.com/api/accounts");
    expect(resolveAuthApiBaseUrl({ CODEX_AUTHAPI_BASE_URL: "   " })).toBe(DEFAULT_AUTHAPI_BASE_URL);
    expect(resolveAuthApiBaseUrl({ CODEX_AUTHAPI_BASE_URL: " http://127.0.0.1:1/api/accounts/ " })).toBe("http://127.0.0.1:1/api/accounts");
  });
});

describe("fetchPersonalAccessTokenMetadata (against the dev server)", () => {
  it("sends the token as bearer and returns the validated whoami body", async () => {
    const before = dev.count("GET", `/api/accounts${WHOAMI_PATH}`);
    const whoami = await fetchPersonalAccessTokenMetadata(secret("at-demo-valid"), { baseUrl: dev.authApiBaseUrl });
    expect(whoami).toMatchObject({
      email: "demo@example.com",
      chatgpt_user_id: "user-demo",
      chatgpt_account_id: "acct-demo",
      chatgpt_plan_type: "plus",
    });
    expect(dev.count("GET", `/api/accounts${WHOAMI_PATH}`)).toBe(before + 1);
    expect(dev.sawBearer(`/api/accounts${WHOAMI_PATH}`, "at-demo-valid")).toBe(true);
  });

  it("maps 401 and 403 to STATUS errors with the canonical reason", async () => {
    const revoked = await httpError(fetchPersonalAccessTokenMetadata(secret("at-demo-revoked"), { baseUrl: dev.authApiBaseUrl }));
    expect([revoked.code, revoked.status, revoked.message]).toEqual(["STATUS", 401, "401 Unauthorized"]);
    const forbidden = await httpError(fetchPersonalAccessTokenMetadata(secret("at-demo-forbidden"), { baseUrl: dev.authApiBaseUrl }));
    expect(forbidden.message).toBe("403 Forbidden");
  });

  it("fails closed on a response that breaks the schema (email: null)", async () => {
    const error = await httpError(fetchPersonalAccessTokenMetadata(secret("at-demo-missing-email"), { baseUrl: dev.authApiBaseUrl }));
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toBe("invalid type: null, expected a string at /email");
  });

  it("times out (TIMEOUT) when whoami does not answer within the deadline", async () => {
    const error = await httpError(fetchPersonalAccessTokenMetadata(secret("at-demo-slow"), { baseUrl: dev.authApiBaseUrl, timeoutMs: 150 }));
    expect(error.code).toBe("TIMEOUT");
    expect(error.message).toBe(`operation timed out after 150 ms (${dev.authApiBaseUrl}${WHOAMI_PATH})`);
  });

  it("reports transport failures (TRANSPORT) without credentials from the URL", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const error = await httpError(
      fetchPersonalAccessTokenMetadata(secret("at-demo-valid"), { baseUrl: `http://user:hunter2-password@127.0.0.1:${port}/api/accounts` }),
    );
    expect(error.code).toBe("TRANSPORT");
    expect(error.message).toMatch(new RegExp(`^error sending request for url \\(http://127.0.0.1:${port}/api/accounts${WHOAMI_PATH}\\)`));
    assertNoSecrets([error.message, String(error.stack)], ["hunter2-password", "at-demo-valid"]);
    const refused = await httpError(fetchPersonalAccessTokenMetadata(secret("at-demo-valid"), { baseUrl: `http://127.0.0.1:${port}/api/accounts` }));
    expect(refused.message).toBe(`error sending request for url (http://127.0.0.1:${port}/api/accounts${WHOAMI_PATH}): ECONNREFUSED`);
  });

  it("rejects a 2xx body that is not JSON (INVALID_RESPONSE)", async () => {
    const server: Server = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" }).end("not json");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const error = await httpError(fetchPersonalAccessTokenMetadata(secret("at-x"), { baseUrl: `http://127.0.0.1:${port}` }));
      expect(error.code).toBe("INVALID_RESPONSE");
      expect(error.message).toMatch(/^error decoding response body: /);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
