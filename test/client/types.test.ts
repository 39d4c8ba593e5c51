import { describe, expectTypeOf, it } from "vitest";
import type { AppServerConnection } from "../../src/client/index.js";
import type {
  AccountLoginCompletedNotification,
  AccountUpdatedNotification,
  ChatgptAuthTokensRefreshParams,
  ChatgptAuthTokensRefreshResponse,
  GetAccountRateLimitsResponse,
  GetAccountResponse,
  GetAuthStatusResponse,
  InitializeResponse,
  LoginAccountResponse,
  LogoutAccountResponse,
} from "../../src/protocol/index.js";

/**
 * Type-level checks: the client's signatures come from the generated registry. The checks live in
 * functions that never run (there is no server here); `npm run typecheck` enforces them, including
 * every `@ts-expect-error`.
 */
function requestTyping(client: AppServerConnection) {
  {
    expectTypeOf(client.request("account/read", {})).toEqualTypeOf<Promise<GetAccountResponse>>();
    expectTypeOf(client.request("account/login/start", { type: "apiKey", apiKey: "sk" })).toEqualTypeOf<Promise<LoginAccountResponse>>();
    expectTypeOf(client.request("getAuthStatus", { includeToken: true })).toEqualTypeOf<Promise<GetAuthStatusResponse>>();
    expectTypeOf(client.request("initialize", { clientInfo: { name: "n", version: "1" } })).toEqualTypeOf<Promise<InitializeResponse>>();
    expectTypeOf(client.request("account/logout")).toEqualTypeOf<Promise<LogoutAccountResponse>>();
    expectTypeOf(client.request("account/rateLimits/read")).toEqualTypeOf<Promise<GetAccountRateLimitsResponse>>();
    expectTypeOf(client.request("account/rateLimits/read", {})).toEqualTypeOf<Promise<GetAccountRateLimitsResponse>>();
  }
}

function rejectedCalls(client: AppServerConnection) {
  {
    // @ts-expect-error: not a client request
    void client.request("account/updated", {});
    // @ts-expect-error: unknown method
    void client.request("thread/start", {});
    // @ts-expect-error: account/read needs its params object
    void client.request("account/read");
    // @ts-expect-error: account/logout takes no params
    void client.request("account/logout", {});
    // @ts-expect-error: apiKey is required for the apiKey variant
    void client.request("account/login/start", { type: "apiKey" });
    // @ts-expect-error: refreshToken is a boolean
    void client.request("account/read", { refreshToken: "yes" });
  }
}

function listenerTyping(client: AppServerConnection) {
  {
    client.on("account/updated", (params) => expectTypeOf(params).toEqualTypeOf<AccountUpdatedNotification>());
    client.on("account/login/completed", (params) => expectTypeOf(params).toEqualTypeOf<AccountLoginCompletedNotification>());
    expectTypeOf(client.nextNotification("account/updated")).toEqualTypeOf<Promise<AccountUpdatedNotification>>();
    client.onServerRequest("account/chatgptAuthTokens/refresh", (params) => {
      expectTypeOf(params).toEqualTypeOf<ChatgptAuthTokensRefreshParams>();
      return { accessToken: "a.b.c", chatgptAccountId: "acct" } satisfies ChatgptAuthTokensRefreshResponse;
    });
    // @ts-expect-error: the handler must return the refresh response
    client.onServerRequest("account/chatgptAuthTokens/refresh", () => ({ accessToken: "only" }));
    // @ts-expect-error: not a server notification
    client.on("account/read", () => {});
    client.notify("initialized");
  }
}

function untypedAndOptions(client: AppServerConnection) {
  {
    expectTypeOf(client.sendRequest("model/list", { limit: 1 })).toEqualTypeOf<Promise<unknown>>();
    client.onNotification("configWarning", (params) => expectTypeOf(params).toEqualTypeOf<unknown>());
    client.onRequest("item/tool/requestUserInput", (params) => expectTypeOf(params).toEqualTypeOf<unknown>());
    const signal = new AbortController().signal;
    expectTypeOf(client.request("account/read", {}, { signal, timeoutMs: 1000 })).toEqualTypeOf<Promise<GetAccountResponse>>();
    expectTypeOf(client.request("account/logout", { signal })).toEqualTypeOf<Promise<LogoutAccountResponse>>();
    expectTypeOf(client.request("account/rateLimits/read", undefined, { timeoutMs: 5 })).toEqualTypeOf<Promise<GetAccountRateLimitsResponse>>();
    void client.nextNotification("account/updated", { timeoutMs: Infinity, signal, predicate: (p) => p.authMode === "apikey" });
    // Codex's capabilities have members this protocol does not type; the schema accepts them.
    void client.initialize({ clientInfo: { name: "n", version: "1" }, capabilities: { experimentalApi: true, optOutNotificationMethods: ["configWarning"], capabilityFromANewerCodex: { enabled: true } } });
    // @ts-expect-error: options go after the params object
    void client.request("account/read", { signal });
  }
}

describe("client typing", () => {
  it("is checked by the compiler", () => {
    for (const check of [requestTyping, rejectedCalls, listenerTyping, untypedAndOptions]) expectTypeOf(check).parameter(0).toEqualTypeOf<AppServerConnection>();
  });
});
