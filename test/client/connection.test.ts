import { PassThrough } from "node:stream";
import { ReadableStream, TransformStream } from "node:stream/web";
import { describe, expect, it } from "vitest";
import {
  AppServerClosedError,
  AppServerConnection,
  AppServerError,
  AppServerProtocolError,
  AppServerTimeoutError,
  type AppServerConnectionOptions,
} from "../../src/client/index.js";

/** The client against a scripted peer on in-memory streams (the peer plays the server). */
function peer(options: AppServerConnectionOptions = {}) {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const protocolErrors: AppServerProtocolError[] = [];
  const client = new AppServerConnection(toClient, toServer, { onProtocolError: (e) => protocolErrors.push(e), ...options });
  const received: Array<Record<string, unknown>> = [];
  let partial = "";
  const waiters: Array<() => void> = [];
  toServer.setEncoding("utf8").on("data", (text: string) => {
    partial += text;
    let newline: number;
    while ((newline = partial.indexOf("\n")) >= 0) {
      received.push(JSON.parse(partial.slice(0, newline)) as Record<string, unknown>);
      partial = partial.slice(newline + 1);
    }
    for (const waiter of waiters.splice(0)) waiter();
  });
  let read = 0;
  return {
    client,
    protocolErrors,
    send: (message: unknown) => toClient.write(`${typeof message === "string" ? message : JSON.stringify(message)}\n`),
    end: () => toClient.end(),
    async next(): Promise<Record<string, unknown>> {
      while (read >= received.length) await new Promise<void>((resolve) => waiters.push(resolve));
      return received[read++]!;
    },
  };
}

describe("AppServerConnection", () => {
  it("sends typed requests (params omitted when there are none) and resolves validated results", async () => {
    const { client, send, next } = peer();
    const read = client.request("account/read", { refreshToken: false });
    expect(await next()).toEqual({ id: 1, method: "account/read", params: { refreshToken: false } });
    send({ id: 1, result: { account: { type: "apiKey" }, requiresOpenaiAuth: true, extraFieldFromANewerServer: 1 } });
    expect(await read).toEqual({ account: { type: "apiKey" }, requiresOpenaiAuth: true, extraFieldFromANewerServer: 1 });

    const logout = client.request("account/logout");
    expect(await next()).toEqual({ id: 2, method: "account/logout" });
    send({ id: 2, result: {} });
    await expect(logout).resolves.toEqual({});

    const limits = client.request("account/rateLimits/read");
    expect(await next()).toEqual({ id: 3, method: "account/rateLimits/read" });
    send({ id: 3, error: { code: -32600, message: "codex account authentication required to read rate limits" } });
    await expect(limits).rejects.toMatchObject({ name: "AppServerError", method: "account/rateLimits/read", code: -32600 });
  });

  it("initialize() sends the initialized notification after the response", async () => {
    const { client, send, next } = peer();
    const init = client.initialize({ clientInfo: { name: "t", version: "1" } });
    expect(await next()).toMatchObject({ id: 1, method: "initialize" });
    send({ id: 1, result: { userAgent: "t/1", codexHome: "/h", platformFamily: "unix", platformOs: "linux" } });
    await init;
    expect(await next()).toEqual({ method: "initialized" });
  });

  it("surfaces JSON-RPC errors as AppServerError with code, message and data", async () => {
    const { client, send } = peer();
    const pending = client.request("getAuthStatus", {});
    send({ id: 1, error: { code: -32600, message: "Not initialized", data: { reason: "x" } } });
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppServerError);
    expect(error).toMatchObject({ code: -32600, message: "Not initialized", data: { reason: "x" } });
  });

  it("rejects results the generated validators refuse, unless validation is off", async () => {
    const strict = peer();
    const pending = strict.client.request("account/read", {});
    strict.send({ id: 1, result: { account: { type: "bogus" } } });
    await expect(pending).rejects.toBeInstanceOf(AppServerProtocolError);
    expect(strict.protocolErrors).toHaveLength(1);

    const lax = peer({ validateInbound: false });
    const accepted = lax.client.request("account/read", {});
    lax.send({ id: 1, result: { account: { type: "bogus" } } });
    await expect(accepted).resolves.toEqual({ account: { type: "bogus" } });
  });

  it("delivers typed notifications, drops invalid ones, and passes unknown ones to onAnyNotification", async () => {
    const { client, send, protocolErrors } = peer();
    const updates: unknown[] = [];
    const any: string[] = [];
    client.on("account/updated", (params) => updates.push(params));
    client.onAnyNotification((method) => any.push(method));
    const completed = client.nextNotification("account/login/completed", (params) => params.success);
    send({ method: "configWarning", params: { summary: "x" } });
    send({ method: "account/updated", params: { authMode: "sideways", planType: null } });
    send({ method: "account/updated", params: { authMode: "apikey", planType: null } });
    send({ method: "account/login/completed", params: { loginId: null, success: false, error: "no" } });
    send({ method: "account/login/completed", params: { loginId: null, success: true, error: null } });
    expect(await completed).toEqual({ loginId: null, success: true, error: null });
    expect(updates).toEqual([{ authMode: "apikey", planType: null }]);
    expect(any).toEqual(["configWarning", "account/updated", "account/updated", "account/login/completed", "account/login/completed"]);
    expect(protocolErrors.map((e) => e.message)).toEqual([expect.stringMatching(/^invalid account\/updated notification/)]);
  });

  it("answers server requests through the handler, validating both ways", async () => {
    const { client, send, next } = peer();
    const params = { reason: "unauthorized", previousAccountId: "acct-1" };
    // No handler installed: method not found.
    send({ id: 0, method: "account/chatgptAuthTokens/refresh", params });
    expect(await next()).toEqual({ id: 0, error: { code: -32601, message: "no handler for server request account/chatgptAuthTokens/refresh" } });

    const seen: unknown[] = [];
    let answer: () => unknown = () => ({ accessToken: "a.b.c", chatgptAccountId: "acct-1" });
    client.onServerRequest("account/chatgptAuthTokens/refresh", (p, context) => {
      seen.push([p, context.id]);
      return answer() as never;
    });
    send({ id: 1, method: "account/chatgptAuthTokens/refresh", params });
    expect(await next()).toEqual({ id: 1, result: { accessToken: "a.b.c", chatgptAccountId: "acct-1" } });

    answer = () => {
      throw new AppServerError("account/chatgptAuthTokens/refresh", -32000, "refresh failed");
    };
    send({ id: 2, method: "account/chatgptAuthTokens/refresh", params });
    expect(await next()).toEqual({ id: 2, error: { code: -32000, message: "refresh failed" } });

    answer = () => {
      throw new Error("parent app is offline");
    };
    send({ id: 3, method: "account/chatgptAuthTokens/refresh", params });
    expect(await next()).toEqual({ id: 3, error: { code: -32603, message: "parent app is offline" } });

    answer = () => ({ accessToken: 42 });
    send({ id: 4, method: "account/chatgptAuthTokens/refresh", params });
    expect(await next()).toMatchObject({ id: 4, error: { code: -32603, message: expect.stringMatching(/^invalid account\/chatgptAuthTokens\/refresh result/) } });

    send({ id: 5, method: "account/chatgptAuthTokens/refresh", params: { reason: "bored" } });
    expect(await next()).toMatchObject({ id: 5, error: { code: -32602 } });
    expect(seen).toEqual([
      [params, 1],
      [params, 2],
      [params, 3],
      [params, 4],
    ]);
  });

  it("fails pending requests when the server's output ends, and refuses new ones", async () => {
    const { client, end } = peer();
    const pending = client.request("account/read", {});
    const waiting = client.nextNotification("account/updated");
    end();
    await expect(pending).rejects.toBeInstanceOf(AppServerClosedError);
    await expect(waiting).rejects.toBeInstanceOf(AppServerClosedError);
    await client.closed;
    await expect(client.request("account/read", {})).rejects.toBeInstanceOf(AppServerClosedError);
  });

  it("times out requests when asked to", async () => {
    const { client } = peer({ requestTimeoutMs: 20 });
    await expect(client.request("account/read", {})).rejects.toBeInstanceOf(AppServerTimeoutError);
  });

  it("reports unparseable lines and answers to unknown ids without failing", async () => {
    const { client, send, protocolErrors } = peer();
    send("not json");
    send({ id: 99, result: {} });
    const pending = client.request("getAuthStatus", {});
    send({ id: 1, result: { authMethod: null, authToken: null, requiresOpenaiAuth: true } });
    await expect(pending).resolves.toEqual({ authMethod: null, authToken: null, requiresOpenaiAuth: true });
    expect(protocolErrors.map((e) => e.message)).toEqual(["the server sent a line that is not valid JSON (8 bytes)", "the server answered an unknown request id 99"]);
  });

  it("works over WHATWG streams", async () => {
    const toServer = new TransformStream<Uint8Array, Uint8Array>();
    const lines: string[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of toServer.readable) lines.push(decoder.decode(chunk));
    })();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const toClient = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    const client = new AppServerConnection(toClient, toServer.writable);
    const pending = client.request("getAuthStatus", { includeToken: false });
    const reply = new TextEncoder().encode('{"id":1,"result":{"authMethod":"apikey","authToken":null,"requiresOpenaiAuth":true}}\n');
    // Split mid-message: the client reassembles lines.
    controller.enqueue(reply.subarray(0, 10));
    controller.enqueue(reply.subarray(10));
    await expect(pending).resolves.toMatchObject({ authMethod: "apikey" });
    controller.close();
    await client.end();
    await reading;
    expect(lines.join("")).toBe('{"id":1,"method":"getAuthStatus","params":{"includeToken":false}}\n');
  });
});
