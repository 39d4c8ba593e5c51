import { describe, expect, it } from "vitest";
import type { Logger } from "../../src/app-server/log.js";
import { formatDuration, ServerRequestBroker, ServerRequestError } from "../../src/app-server/server-requests.js";

const PARAMS = { reason: "unauthorized", previousAccountId: "acct-1" } as const;

function setup(timeoutMs = 1000) {
  const sent: Array<Record<string, unknown>> = [];
  const logged: string[] = [];
  const log: Logger = { warn: (m) => logged.push(m), error: (m) => logged.push(m) };
  const broker = new ServerRequestBroker({ send: (m) => sent.push(m), log, timeoutMs });
  return { broker, sent, logged };
}

async function failureOf(promise: Promise<unknown>): Promise<ServerRequestError> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ServerRequestError);
  return error as ServerRequestError;
}

describe("ServerRequestBroker", () => {
  it("numbers requests from 0 and resolves validated answers", async () => {
    const { broker, sent } = setup();
    const first = broker.request("account/chatgptAuthTokens/refresh", PARAMS);
    const second = broker.request("account/chatgptAuthTokens/refresh", PARAMS);
    expect(sent.map((m) => m.id)).toEqual([0, 1]);
    expect(sent[0]).toEqual({ id: 0, method: "account/chatgptAuthTokens/refresh", params: PARAMS });
    expect(broker.handleResult(1, { accessToken: "t2", chatgptAccountId: "acct-1", chatgptPlanType: null })).toBe(true);
    expect(broker.handleResult(0, { accessToken: "t1", chatgptAccountId: "acct-1" })).toBe(true);
    await expect(first).resolves.toEqual({ accessToken: "t1", chatgptAccountId: "acct-1" });
    await expect(second).resolves.toEqual({ accessToken: "t2", chatgptAccountId: "acct-1", chatgptPlanType: null });
    expect(broker.pendingCount).toBe(0);
  });

  it("fails on a JSON-RPC error answer with Codex's wording", async () => {
    const { broker } = setup();
    const pending = broker.request("account/chatgptAuthTokens/refresh", PARAMS);
    broker.handleError(0, { code: -32601, message: "Unhandled method account/chatgptAuthTokens/refresh" });
    const error = await failureOf(pending);
    expect(error.failure).toEqual({ kind: "rpcError", code: -32601, message: "Unhandled method account/chatgptAuthTokens/refresh" });
    expect(error.message).toBe("failed: code=-32601 message=Unhandled method account/chatgptAuthTokens/refresh");
  });

  it("fails on a malformed answer without quoting its strings", async () => {
    const { broker } = setup();
    const empty = broker.request("account/chatgptAuthTokens/refresh", PARAMS);
    broker.handleResult(0, {});
    expect((await failureOf(empty)).message).toBe("returned an invalid response: missing field `accessToken`");

    const wrongType = broker.request("account/chatgptAuthTokens/refresh", PARAMS);
    broker.handleResult(1, { accessToken: "secret-token-value", chatgptAccountId: "acct-1", chatgptPlanType: 5 });
    const error = await failureOf(wrongType);
    expect(error.failure.kind).toBe("malformed");
    expect(error.message).not.toContain("secret-token-value");

    const badError = broker.request("account/chatgptAuthTokens/refresh", PARAMS);
    broker.handleError(2, { message: "no code" });
    expect((await failureOf(badError)).message).toBe("returned an invalid response: invalid error object: missing field `code`");
  });

  it("times out, then drops the late answer with a log line", async () => {
    const { broker, logged } = setup(20);
    const pending = broker.request("account/chatgptAuthTokens/refresh", PARAMS);
    const error = await failureOf(pending);
    expect(error.failure).toEqual({ kind: "timeout", timeoutMs: 20 });
    expect(error.message).toBe("timed out after 20ms");
    expect(broker.handleResult(0, { accessToken: "late", chatgptAccountId: "acct-1" })).toBe(false);
    expect(logged).toEqual(["dropping a response to unknown server request id 0"]);
  });

  it("drops answers to ids it never sent, and duplicates", async () => {
    const { broker, logged } = setup();
    expect(broker.handleResult(7, {})).toBe(false);
    expect(broker.handleError("x", { code: 1, message: "m" })).toBe(false);
    const pending = broker.request("account/chatgptAuthTokens/refresh", PARAMS);
    broker.handleResult(0, { accessToken: "t", chatgptAccountId: "acct-1" });
    expect(broker.handleResult(0, { accessToken: "t", chatgptAccountId: "acct-1" })).toBe(false);
    await pending;
    expect(logged).toEqual([
      "dropping a response to unknown server request id 7",
      'dropping a response to unknown server request id "x"',
      "dropping a response to unknown server request id 0",
    ]);
  });

  it("fails everything pending when the client can no longer answer", async () => {
    const { broker } = setup();
    const pending = broker.request("account/chatgptAuthTokens/refresh", PARAMS);
    broker.close();
    expect((await failureOf(pending)).failure).toEqual({ kind: "closed" });
    expect((await failureOf(broker.request("account/chatgptAuthTokens/refresh", PARAMS))).failure).toEqual({ kind: "closed" });
  });

  it("formats durations as Codex does for whole seconds", () => {
    expect(formatDuration(10_000)).toBe("10s");
    expect(formatDuration(250)).toBe("250ms");
  });
});
