import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOAuthClient, oAuthResponseValidators } from "../../generated/http/oauth.client.js";
import {
  HttpError,
  MAX_RESPONSE_BODY_BYTES,
  ResponseTooLargeError,
  boundedFetch,
  limitResponseBody,
  readErrorCode,
  sendValidated,
} from "../../src/http/request.js";

/**
 * sendValidated's error-code reading on a real openapi-fetch call: openapi-fetch hands a JSON error
 * body over already parsed, so the code must be read from the object (and from text when the body
 * is not JSON), in the three shapes issuers use.
 */
let server: Server;
let base: string;
/** The next answer: status and raw body. */
let answer: { status: number; body: string; contentType?: string } = { status: 200, body: "{}" };

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(answer.status, { "Content-Type": answer.contentType ?? "application/json" });
      response.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function refreshFailure(status: number, body: string, contentType?: string): Promise<HttpError> {
  answer = { status, body, ...(contentType ? { contentType } : {}) };
  const client = createOAuthClient({ baseUrl: base });
  try {
    await sendValidated({
      operation: "POST /oauth/token",
      validators: oAuthResponseValidators,
      url: `${base}/oauth/token`,
      timeoutMs: 5_000,
      send: (signal) =>
        client.POST("/oauth/token", {
          body: { client_id: "c", grant_type: "refresh_token", refresh_token: "r" },
          parseAs: "text",
          signal,
        }),
    });
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error("expected a failure");
}

describe("sendValidated error codes", () => {
  it("reads {error:{code}} from a body openapi-fetch already parsed", async () => {
    const error = await refreshFailure(401, JSON.stringify({ error: { code: "refresh_token_reused", message: "used" } }));
    expect(error).toMatchObject({ code: "STATUS", status: 401, reason: "Unauthorized", errorCode: "refresh_token_reused", message: "401 Unauthorized" });
  });

  it('reads {"error":"..."} and a top-level {"code":"..."}', async () => {
    expect((await refreshFailure(400, JSON.stringify({ error: "invalid_grant", error_description: "bad" }))).errorCode).toBe("invalid_grant");
    expect((await refreshFailure(401, JSON.stringify({ code: "refresh_token_expired" }))).errorCode).toBe("refresh_token_expired");
  });

  it("has no code for a body that breaks the declared schema, or is not JSON, or for an undeclared status", async () => {
    expect((await refreshFailure(401, JSON.stringify({ error: 42 }))).errorCode).toBeUndefined();
    expect((await refreshFailure(401, "refresh_token_reused", "text/plain")).errorCode).toBeUndefined();
    const undeclared = await refreshFailure(500, JSON.stringify({ error: { code: "server_error" } }));
    expect(undeclared).toMatchObject({ status: 500, message: "500 Internal Server Error" });
    expect(undeclared.errorCode).toBeUndefined();
  });

  it("readErrorCode prefers error.code, then error, then code; empty or non-string values count as absent", () => {
    expect(readErrorCode({ error: { code: "a" }, code: "c" })).toBe("a");
    expect(readErrorCode({ error: "b", code: "c" })).toBe("b");
    expect(readErrorCode({ error: { message: "m" }, code: "c" })).toBe("c");
    expect(readErrorCode({ error: "", code: 1 })).toBeUndefined();
    expect(readErrorCode("refresh_token_reused")).toBeUndefined();
    expect(readErrorCode(null)).toBeUndefined();
  });
});

describe("response body cap (boundedFetch)", () => {
  async function call(body: string): Promise<unknown> {
    answer = { status: 200, body };
    const client = createOAuthClient({ baseUrl: base, fetch: boundedFetch });
    return sendValidated({
      operation: "POST /oauth/token",
      validators: oAuthResponseValidators,
      url: `${base}/oauth/token`,
      timeoutMs: 5_000,
      send: (signal) =>
        client.POST("/oauth/token", {
          body: { client_id: "c", grant_type: "refresh_token", refresh_token: "r" },
          parseAs: "text",
          signal,
        }),
    });
  }

  it("accepts a body up to the cap", async () => {
    const padding = "x".repeat(MAX_RESPONSE_BODY_BYTES - 100);
    await expect(call(JSON.stringify({ access_token: "a", token_type: padding }))).resolves.toMatchObject({ access_token: "a" });
  });

  it("refuses a larger body as an invalid response, naming the cap and not the body", async () => {
    const body = JSON.stringify({ access_token: "secret-looking-token", token_type: "x".repeat(MAX_RESPONSE_BODY_BYTES) });
    const error = await call(body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ code: "INVALID_RESPONSE" });
    expect((error as HttpError).message).toBe(`response body exceeds ${MAX_RESPONSE_BODY_BYTES} bytes (${base}/oauth/token)`);
  });

  it("cuts off a body without a Content-Length as it streams in", async () => {
    const big = new Uint8Array(MAX_RESPONSE_BODY_BYTES + 1);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(big.subarray(0, 1000));
        controller.enqueue(big.subarray(1000));
        controller.close();
      },
    });
    const limited = limitResponseBody(new Response(stream, { status: 200 }), MAX_RESPONSE_BODY_BYTES);
    await expect(limited.arrayBuffer()).rejects.toBeInstanceOf(ResponseTooLargeError);
  });
});
