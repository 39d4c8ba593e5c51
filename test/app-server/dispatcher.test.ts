import { describe, expect, it } from "vitest";
import { Dispatcher, type RequestHandlers } from "../../src/app-server/dispatcher.js";
import type { HostInfo } from "../../src/app-server/host.js";
import { silentLogger } from "../../src/app-server/log.js";
import { invalidRequest } from "../../src/app-server/rpc.js";
import { ServerRequestBroker } from "../../src/app-server/server-requests.js";
import { StableResultCache, stableResult } from "../../src/app-server/stable-results.js";
import { Session } from "../../src/app-server/session.js";

const HOST: HostInfo = { osDescription: "Debian 12.0.0", arch: "x86_64", terminal: "xterm", platformFamily: "unix", platformOs: "linux" };

function unexpected(): never {
  throw new Error("handler should not run");
}

/** A dispatcher over in-memory handlers (test doubles for the account handlers, not the real ones). */
function setup(overrides: Partial<RequestHandlers> = {}) {
  const sent: Array<Record<string, unknown>> = [];
  const send = (message: object) => sent.push(message as Record<string, unknown>);
  const session = new Session({ version: "9.9.9", codexVersion: "0.169.0", codexHome: "/home/u/.codex", host: HOST, log: silentLogger, send });
  const broker = new ServerRequestBroker({ send, log: silentLogger, timeoutMs: 1000 });
  const handlers: RequestHandlers = {
    initialize: (params, context) => context.session.initialize(params),
    getAuthStatus: () => ({ authMethod: null, authToken: null, requiresOpenaiAuth: true }),
    "account/read": () => ({ account: null, userId: null, requiresOpenaiAuth: true, workspaceRouting: null }),
    "account/login/start": unexpected,
    "account/login/cancel": unexpected,
    "account/logout": (_params, context) => {
      context.notifyAfterResponse("account/updated", { authMode: null, planType: null });
      return {};
    },
    "account/rateLimits/read": unexpected,
    "config/read": unexpected,
    ...overrides,
  };
  const dispatcher = new Dispatcher({
    session,
    handlers,
    serverRequests: broker,
    log: silentLogger,
    send,
    whenWritable: () => Promise.resolve(),
    concurrentMethods: new Set(["account/rateLimits/read"]),
  });
  const run = async (...messages: Array<Record<string, unknown>>) => {
    for (const message of messages) dispatcher.dispatch(message);
    await dispatcher.idle();
    return sent.splice(0);
  };
  return { dispatcher, session, broker, sent, run };
}

const init = (id: number | string = 1, capabilities?: Record<string, unknown>) => ({
  id,
  method: "initialize",
  params: { clientInfo: { name: "unit", version: "1.0" }, ...(capabilities ? { capabilities } : {}) },
});

describe("Dispatcher", () => {
  it("answers Not initialized before the handshake, then serves", async () => {
    const { run } = setup();
    expect(await run({ id: 0, method: "account/read", params: {} })).toEqual([{ id: 0, error: { code: -32600, message: "Not initialized" } }]);
    const [handshake] = await run(init());
    expect(handshake).toEqual({
      id: 1,
      result: { userAgent: "unit/0.169.0+codex-auth.9.9.9 (Debian 12.0.0; x86_64) xterm (unit; 1.0)", codexHome: "/home/u/.codex", platformFamily: "unix", platformOs: "linux" },
    });
    expect(await run(init(2))).toEqual([{ id: 2, error: { code: -32600, message: "Already initialized" } }]);
  });

  it("decodes before checking the handshake, as Codex does", async () => {
    const { run } = setup();
    expect(await run({ id: 1, method: "account/read", params: { refreshToken: "x" } })).toEqual([
      { id: 1, error: { code: -32600, message: 'Invalid request: invalid type: string "x", expected a boolean' } },
    ]);
    const [unknown] = await run({ id: 2, method: "nope", params: {} });
    expect(unknown).toMatchObject({ id: 2, error: { code: -32600, message: expect.stringMatching(/^Invalid request: unknown variant `nope`, expected one of `initialize`, /) } });
  });

  it("treats server-to-client methods and notifications sent as requests as unknown", async () => {
    const { run } = setup();
    await run(init());
    for (const method of ["account/updated", "account/chatgptAuthTokens/refresh", "initialized"]) {
      const [reply] = await run({ id: 3, method, params: {} });
      expect(reply).toMatchObject({ error: { code: -32600, message: expect.stringContaining(`unknown variant \`${method}\``) } });
    }
  });

  it("checks params against the registry: required, none, optional", async () => {
    const { run } = setup({ "account/rateLimits/read": () => ({ rateLimits: { limitId: "codex" } }) });
    await run(init());
    expect(await run({ id: 1, method: "account/read" })).toEqual([{ id: 1, error: { code: -32600, message: "Invalid request: missing field `params`" } }]);
    expect(await run({ id: 2, method: "account/logout", params: [] })).toEqual([{ id: 2, error: { code: -32600, message: "Invalid request: invalid type: sequence, expected unit" } }]);
    expect(await run({ id: 3, method: "account/logout", params: "x" })).toEqual([{ id: 3, error: { code: -32600, message: 'Invalid request: invalid type: string "x", expected unit' } }]);
    for (const params of [undefined, null, {}, { excludeResetCreditDetails: true }]) {
      const message = params === undefined ? { id: 4, method: "account/rateLimits/read" } : { id: 4, method: "account/rateLimits/read", params };
      expect(await run(message)).toEqual([{ id: 4, result: { rateLimits: { limitId: "codex" } } }]);
    }
  });

  it("gates experimental variants on the capability", async () => {
    const start = { id: 5, method: "account/login/start", params: { type: "chatgptAuthTokens", accessToken: "a.b.c", chatgptAccountId: "w" } };
    const plain = setup();
    await plain.run(init());
    expect(await plain.run(start)).toEqual([{ id: 5, error: { code: -32600, message: "account/login/start.chatgptAuthTokens requires experimentalApi capability" } }]);
    const opted = setup({ "account/login/start": () => ({ type: "chatgptAuthTokens" }) });
    await opted.run(init(1, { experimentalApi: true }));
    expect(await opted.run(start)).toEqual([{ id: 5, result: { type: "chatgptAuthTokens" } }]);
  });

  it("answers handler errors: RpcError as is, anything else as a generic -32603", async () => {
    const { run } = setup({
      getAuthStatus: () => {
        throw invalidRequest("policy says no");
      },
      "account/read": () => Promise.reject(new Error("boom with details")),
    });
    await run(init());
    expect(await run({ id: 1, method: "getAuthStatus", params: {} }, { id: 2, method: "account/read", params: {} })).toEqual([
      { id: 1, error: { code: -32600, message: "policy says no" } },
      { id: 2, error: { code: -32603, message: "internal error" } },
    ]);
  });

  it("never sends a result the contract rejects", async () => {
    const { run } = setup({ "account/read": () => ({ account: { type: "nope" } }) as never });
    await run(init());
    const [reply] = await run({ id: 1, method: "account/read", params: {} });
    expect(reply).toMatchObject({ id: 1, error: { code: -32603, message: expect.stringMatching(/^failed to serialize response: /) } });
  });

  it("sends notifications queued by a handler right after its response", async () => {
    const { run } = setup();
    await run(init());
    expect(await run({ id: 1, method: "account/logout" }, { id: 2, method: "account/read", params: {} })).toEqual([
      { id: 1, result: {} },
      { method: "account/updated", params: { authMode: null, planType: null } },
      { id: 2, result: { account: null, userId: null, requiresOpenaiAuth: true, workspaceRouting: null } },
    ]);
  });

  it("processes queued requests one at a time in arrival order", async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { dispatcher, sent } = setup({
      getAuthStatus: async () => {
        order.push("status:start");
        await gate;
        order.push("status:end");
        return { authMethod: null, authToken: null, requiresOpenaiAuth: true };
      },
      "account/read": () => {
        order.push("read");
        return { account: null, requiresOpenaiAuth: true };
      },
    });
    dispatcher.dispatch(init());
    dispatcher.dispatch({ id: "a", method: "getAuthStatus", params: {} });
    dispatcher.dispatch({ id: "b", method: "account/read", params: {} });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual(["status:start"]);
    release();
    await dispatcher.idle();
    expect(order).toEqual(["status:start", "status:end", "read"]);
    expect(sent.map((m) => m.id)).toEqual([1, "a", "b"]);
  });

  it("runs concurrent methods beside the queue, after everything that arrived before them", async () => {
    const order: string[] = [];
    let releaseLimits!: () => void;
    const limitsGate = new Promise<void>((resolve) => (releaseLimits = resolve));
    const { dispatcher, sent } = setup({
      "account/rateLimits/read": async () => {
        order.push("limits:start");
        await limitsGate;
        return { rateLimits: {} };
      },
      "account/read": () => {
        order.push("read");
        return { account: null, requiresOpenaiAuth: true };
      },
    });
    dispatcher.dispatch(init());
    dispatcher.dispatch({ id: "r1", method: "account/read", params: {} });
    dispatcher.dispatch({ id: "limits", method: "account/rateLimits/read" });
    dispatcher.dispatch({ id: "r2", method: "account/read", params: {} });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual(["read", "limits:start", "read"]);
    expect(sent.map((m) => m.id)).toEqual([1, "r1", "r2"]);
    releaseLimits();
    await dispatcher.idle();
    expect(sent.map((m) => m.id)).toEqual([1, "r1", "r2", "limits"]);
  });

  it("routes answers to server requests without queueing them, and ignores what is not a message", async () => {
    const { dispatcher, broker, sent, run } = setup();
    await run(init());
    const pending = broker.request("account/chatgptAuthTokens/refresh", { reason: "unauthorized", previousAccountId: "w" });
    expect(sent.splice(0)).toEqual([{ id: 0, method: "account/chatgptAuthTokens/refresh", params: { reason: "unauthorized", previousAccountId: "w" } }]);
    dispatcher.dispatch({ id: 0, result: { accessToken: "a.b.c", chatgptAccountId: "w" } });
    await expect(pending).resolves.toEqual({ accessToken: "a.b.c", chatgptAccountId: "w" });
    expect(await run({ id: null, method: "account/read", params: {} }, { id: 1.5, method: "account/read" }, { method: 3 }, {}, { method: "initialized" })).toEqual([]);
  });
});

describe("stable results", () => {
  /** A dispatcher that writes results as lines, as the server's does. */
  function lineSetup(read: RequestHandlers["account/read"]) {
    const lines: string[] = [];
    const send = (message: object) => lines.push(`${JSON.stringify(message)}\n`);
    const session = new Session({ version: "9.9.9", codexVersion: "0.169.0", codexHome: "/h", host: HOST, log: silentLogger, send });
    const errors: string[] = [];
    const dispatcher = new Dispatcher({
      session,
      handlers: {
        initialize: (params, context) => context.session.initialize(params),
        getAuthStatus: unexpected,
        "account/read": read,
        "account/login/start": unexpected,
        "account/login/cancel": unexpected,
        "account/logout": unexpected,
        "account/rateLimits/read": unexpected,
        "config/read": unexpected,
      },
      serverRequests: new ServerRequestBroker({ send, log: silentLogger, timeoutMs: 1000 }),
      log: { warn: () => {}, error: (m) => errors.push(m) },
      send,
      sendLine: (line) => lines.push(line),
      whenWritable: () => Promise.resolve(),
      blocked: () => false,
    });
    const run = async (...messages: Array<Record<string, unknown>>) => {
      for (const message of messages) dispatcher.dispatch(message);
      await dispatcher.idle();
      return lines.splice(0);
    };
    return { run, errors };
  }

  it("serves one frozen result per key, and a new one when a value it is built from changes", () => {
    let builds = 0;
    const cache = new StableResultCache((mode: string | null, email: string | null) => {
      builds++;
      return { account: mode === null ? null : { type: mode, email }, requiresOpenaiAuth: true };
    });
    const first = cache.get("chatgpt", "a@example.com");
    expect(cache.get("chatgpt", "a@example.com")).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.account)).toBe(true);
    const changed = cache.get("chatgpt", "b@example.com");
    expect(changed).not.toBe(first);
    expect(changed.account).toEqual({ type: "chatgpt", email: "b@example.com" });
    expect(cache.get(null, null).account).toBeNull();
    expect(builds).toBe(3);
  });

  it("writes a stable result as encodeMessage would, with each request's own id", async () => {
    const result = stableResult({ account: { type: "chatgpt" as const, email: "é@example.com", planType: "plus" as const }, userId: "u", requiresOpenaiAuth: true, workspaceRouting: null });
    const { run } = lineSetup(() => result);
    await run(init());
    expect(await run({ id: 2, method: "account/read", params: {} }, { id: "x", method: "account/read", params: {} }, { id: 3, method: "account/read", params: { refreshToken: false } })).toEqual(
      [2, "x", 3].map((id) => `${JSON.stringify({ id, result })}\n`),
    );
  });

  it("validates a stable result until one passes: an invalid one is refused every time", async () => {
    const invalid = stableResult({ account: { type: "nope" }, requiresOpenaiAuth: true } as never);
    const { run, errors } = lineSetup(() => invalid);
    await run(init());
    const answers = await run({ id: 2, method: "account/read", params: {} }, { id: 3, method: "account/read", params: {} });
    expect(answers.map((line) => JSON.parse(line) as { id: number; error?: { code: number } })).toMatchObject([
      { id: 2, error: { code: -32603 } },
      { id: 3, error: { code: -32603 } },
    ]);
    expect(errors).toHaveLength(2);
  });
});
