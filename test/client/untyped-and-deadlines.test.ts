import { MessageChannel } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import {
  AppServerAbortError,
  AppServerConnection,
  AppServerError,
  AppServerTimeoutError,
} from "../../src/client/index.js";
import { ErrorCode, INVALID_PARAMS, METHOD_NOT_FOUND } from "../../src/protocol/index.js";
import { example, peer } from "./peer.js";

const refreshParams = () => example("ChatgptAuthTokensRefreshParams", "valid-unauthorized");
const refreshAnswer = () => example("ChatgptAuthTokensRefreshResponse", "valid-with-plan");
const accountAnswer = () => example("GetAccountResponse", "valid-chatgpt");

describe("methods outside the typed surface", () => {
  for (const validateInbound of [true, false]) {
    it(`send any request and get its result as unknown, never throwing (validateInbound: ${validateInbound})`, async () => {
      const { client, send, next, protocolErrors } = peer({ validateInbound });
      const models = client.sendRequest("model/list", { limit: 2 });
      expect(await next()).toEqual({ id: 1, method: "model/list", params: { limit: 2 } });
      send({ id: 1, result: { data: [{ id: "gpt-x" }], nextCursor: null } });
      await expect(models).resolves.toEqual({ data: [{ id: "gpt-x" }], nextCursor: null });

      // The typed call forced onto an unknown method (the crash of issue #14) is just as safe.
      const forced = client.request("thread/list" as "account/logout");
      expect(await next()).toEqual({ id: 2, method: "thread/list" });
      send({ id: 2, error: { code: ErrorCode.InvalidRequest, message: "Invalid request: unknown variant" } });
      await expect(forced).rejects.toMatchObject({ name: "AppServerError", code: -32600, method: "thread/list" });
      expect(protocolErrors).toEqual([]);
    });
  }

  it("validates the result of a known method even when called untyped", async () => {
    const { client, send, next } = peer();
    const read = client.sendRequest("account/read", {});
    await next();
    send({ id: 1, result: { account: { type: "bogus" } } });
    await expect(read).rejects.toMatchObject({ name: "AppServerProtocolError" });
    const good = client.sendRequest("account/read", {});
    await next();
    send({ id: 2, result: accountAnswer() });
    await expect(good).resolves.toEqual(accountAnswer());
  });

  it("handles any notification and server request by name, and answers unhandled ones -32601", async () => {
    const { client, send, next } = peer();
    const warnings: unknown[] = [];
    client.onNotification("configWarning", (params) => warnings.push(params));
    client.onRequest("item/tool/requestUserInput", (params, context) => ({ answers: [], echo: params, method: context.method }));
    send({ method: "configWarning", params: { summary: "s" } });
    send({ id: "r1", method: "item/tool/requestUserInput", params: { q: 1 } });
    expect(await next()).toEqual({ id: "r1", result: { answers: [], echo: { q: 1 }, method: "item/tool/requestUserInput" } });
    expect(warnings).toEqual([{ summary: "s" }]);
    send({ id: "r2", method: "applyPatchApproval", params: {} });
    expect(await next()).toEqual({ id: "r2", error: { code: METHOD_NOT_FOUND, message: "no handler for server request applyPatchApproval" } });
    // A known server request with invalid params still gets -32602 through the untyped handler.
    client.onRequest("account/chatgptAuthTokens/refresh", () => refreshAnswer());
    send({ id: 3, method: "account/chatgptAuthTokens/refresh", params: example("ChatgptAuthTokensRefreshParams", "invalid-reason") });
    expect(await next()).toMatchObject({ id: 3, error: { code: INVALID_PARAMS } });
  });

  it("a handler answers with AppServerError(code, message, data) without naming a method", async () => {
    const { client, send, next } = peer();
    client.onServerRequest("account/chatgptAuthTokens/refresh", () => {
      throw new AppServerError(-32000, "the parent app has no token", { retry: false });
    });
    send({ id: 7, method: "account/chatgptAuthTokens/refresh", params: refreshParams() });
    expect(await next()).toEqual({ id: 7, error: { code: -32000, message: "the parent app has no token", data: { retry: false } } });
    const error = new AppServerError(-32601, "x");
    expect(error).toMatchObject({ code: -32601, message: "x", method: undefined, data: undefined });
  });

  it("echoes a server request id beyond 2^53 exactly as sent", async () => {
    const { client, send, raw } = peer();
    client.onServerRequest("account/chatgptAuthTokens/refresh", () => refreshAnswer() as never);
    send(`{"id":9223372036854775807,"method":"account/chatgptAuthTokens/refresh","params":${JSON.stringify(refreshParams())}}`);
    await expect.poll(() => raw.length).toBe(1);
    expect(raw[0]).toBe(`{"id":9223372036854775807,"result":${JSON.stringify(refreshAnswer())}}`);
  });
});

describe("deadlines and cancellation", () => {
  it("a per-request timeout rejects, and the late answer is dropped silently", async () => {
    const { client, send, next, protocolErrors } = peer();
    const slow = client.request("account/read", {}, { timeoutMs: 5 });
    await next();
    await expect(slow).rejects.toBeInstanceOf(AppServerTimeoutError);
    send({ id: 1, result: accountAnswer() });
    const after = client.request("account/logout", { timeoutMs: 60_000 });
    expect(await next()).toEqual({ id: 2, method: "account/logout" });
    send({ id: 2, result: {} });
    await expect(after).resolves.toEqual({});
    expect(protocolErrors).toEqual([]);
  });

  it("an AbortSignal rejects the request at once, before or after it was sent", async () => {
    const { client, next } = peer();
    const controller = new AbortController();
    const pending = client.request("account/rateLimits/read", undefined, { signal: controller.signal });
    await next();
    controller.abort(new Error("user left"));
    await expect(pending).rejects.toMatchObject({ name: "AppServerAbortError", method: "account/rateLimits/read", reason: new Error("user left") });
    await expect(client.sendRequest("model/list", undefined, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AppServerAbortError);
  });

  it("nextNotification has a deadline (the connection's, or its own) and can be aborted", async () => {
    const { client } = peer({ requestTimeoutMs: 5 });
    await expect(client.nextNotification("account/updated")).rejects.toMatchObject({ name: "AppServerTimeoutError", message: "no account/updated notification within 5 ms" });
    const { client: other, send } = peer();
    const controller = new AbortController();
    const aborted = other.nextNotification("account/login/completed", { signal: controller.signal, timeoutMs: Infinity });
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AppServerAbortError);
    const updated = other.nextNotification("account/updated", { timeoutMs: 60_000, predicate: (p) => p.authMode === "personalAccessToken" });
    send({ method: "account/updated", params: example("AccountUpdatedNotification", "valid-transcript-api-key") });
    send({ method: "account/updated", params: example("AccountUpdatedNotification", "valid-personal-access-token") });
    await expect(updated).resolves.toEqual(example("AccountUpdatedNotification", "valid-personal-access-token"));
  });
});

describe("transports", () => {
  it("caps inbound lines in bytes", async () => {
    const { client, send, protocolErrors } = peer({ maxLineBytes: 64 });
    send({ method: "configWarning", params: { summary: "é".repeat(40) } }); // 40 characters, 80+ bytes
    const pending = client.sendRequest("x");
    send({ id: 1, result: null });
    await expect(pending).resolves.toBeNull();
    expect(protocolErrors.map((e) => e.message)).toEqual([expect.stringMatching(/^dropping an inbound line of \d+ bytes: over the 64-byte limit$/)]);
  });

  it("works over a message port", async () => {
    const { port1, port2 } = new MessageChannel();
    const client = AppServerConnection.overMessagePort(port1 as never);
    const seen: unknown[] = [];
    port2.on("message", (data: string) => {
      seen.push(data);
      const request = JSON.parse(data) as { id: number };
      // One peer answers with a string, the other style with an object.
      if (request.id === 1) port2.postMessage(JSON.stringify({ id: 1, result: accountAnswer() }));
      else port2.postMessage({ id: request.id, result: {} });
    });
    await expect(client.request("account/read", {})).resolves.toEqual(accountAnswer());
    await expect(client.request("account/logout")).resolves.toEqual({});
    expect(seen).toEqual(['{"id":1,"method":"account/read","params":{}}', '{"id":2,"method":"account/logout"}']);
    await client.end();
    port2.close();
  });
});
