import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import type { AuthDotJson } from "../../../generated/storage/auth-json.js";
import {
  ACCOUNT_CHANGED_MESSAGE,
  classifyRefreshFailure,
  ensureFreshManagedTokens,
  managedRecoverySteps,
  needsRefresh,
  REFRESH_FAILURE_MESSAGES,
  RefreshFailureMemo,
  refreshManagedTokens,
  RefreshTokenError,
  type ManagedRefreshOptions,
} from "../../../src/auth/chatgpt/refresh.js";
import { UnauthorizedRecovery } from "../../../src/auth/recovery.js";
import { revokeManagedTokens } from "../../../src/auth/chatgpt/revoke.js";
import { Secret } from "../../../src/auth/secret.js";
import { FileAuthStore } from "../../../src/auth/store/file-store.js";
import type { DevServer, RefreshFailure } from "../../../src/dev-server/index.js";
import { fetchUsage } from "../../../src/http/backend.js";
import { requestTokenRefresh, resolveOAuthEndpoints } from "../../../src/http/oauth.js";
import { withAuthLock } from "../../../src/auth/store/lock.js";
import { start } from "../../dev-server/support.js";
import { TSX_LOADER } from "../../support/run.js";
import { assertNoSecrets } from "../../support/secrets.js";
import { agentIdentityJwt } from "../jwt.js";
import { chatgptAuth, json, readAuth, recordingServer, tempHome, writeAuth } from "./support.js";

const TOKEN = "/oauth/token";
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

function setup(server: DevServer, ttlSeconds = 3600, lastRefresh?: string) {
  const home = tempHome();
  const issued = server.issueTokens(undefined, { ttlSeconds });
  const auth = chatgptAuth(issued, lastRefresh);
  writeAuth(home, auth);
  const store = new FileAuthStore(home);
  const options: ManagedRefreshOptions = { lockHome: home, endpoints: resolveOAuthEndpoints(server.env()), memo: new RefreshFailureMemo() };
  return { home, issued, auth, store, options };
}

async function refreshError(promise: Promise<unknown>): Promise<RefreshTokenError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RefreshTokenError);
    return error as RefreshTokenError;
  }
  throw new Error("expected the refresh to fail");
}

describe("needsRefresh", () => {
  const now = new Date("2026-06-01T12:00:00Z");
  const withExp = (ms: number) => ({ access_token: agentIdentityJwt({ exp: Math.floor((now.getTime() + ms) / 1000) }) });
  const opaque = { access_token: "opaque-access-token" };

  it("refreshes when exp is within 5 minutes or past, not before", () => {
    expect(needsRefresh(withExp(4 * MINUTE), null, now)).toBe(true);
    expect(needsRefresh(withExp(5 * MINUTE), null, now)).toBe(true);
    expect(needsRefresh(withExp(6 * MINUTE), null, now)).toBe(false);
    expect(needsRefresh(withExp(-MINUTE), null, now)).toBe(true);
  });

  it("ignores last_refresh when exp is known; without exp refreshes after 8 days; with neither never", () => {
    const nineDaysAgo = new Date(now.getTime() - 9 * DAY).toISOString();
    expect(needsRefresh(withExp(60 * MINUTE), nineDaysAgo, now)).toBe(false);
    expect(needsRefresh(opaque, nineDaysAgo, now)).toBe(true);
    expect(needsRefresh(opaque, "2026-05-30T12:00:00.123456789Z", now)).toBe(false);
    expect(needsRefresh(opaque, null, now)).toBe(false);
    expect(needsRefresh(opaque, undefined, now)).toBe(false);
  });
});

describe("classifyRefreshFailure", () => {
  it("keeps Codex's messages, per reason", () => {
    expect(REFRESH_FAILURE_MESSAGES).toEqual({
      expired: "Your access token could not be refreshed because your refresh token has expired. Please log out and sign in again.",
      exhausted: "Your access token could not be refreshed because your refresh token was already used. Please log out and sign in again.",
      revoked: "Your access token could not be refreshed because your refresh token was revoked. Please log out and sign in again.",
      other: "Your access token could not be refreshed. Please log out and sign in again.",
    });
    expect(classifyRefreshFailure(new Error("socket hang up"))).toMatchObject({ kind: "transient", message: "Failed to refresh token: socket hang up" });
  });
});

describe("proactive refresh against the dev server", () => {
  it("refreshes a token 4 minutes from expiry, and an expired one; leaves one 6 minutes away", async () => {
    const { server } = await start();
    for (const [ttl, refreshes] of [
      [240, true],
      [-60, true],
      [360, false],
    ] as const) {
      const { home, auth, store, options } = setup(server, ttl);
      const before = server.count("POST", TOKEN);
      const result = await ensureFreshManagedTokens(store, auth, options);
      expect(server.count("POST", TOKEN) - before).toBe(refreshes ? 1 : 0);
      if (refreshes) {
        expect(result.tokens!.refresh_token).not.toBe(auth.tokens!.refresh_token);
        expect(readAuth(home).tokens).toEqual(result.tokens);
      } else {
        expect(result).toBe(auth);
      }
    }
  });

  it("does not refresh a fresh token because last_refresh is 9 days old; does when there is no exp", async () => {
    const { server } = await start();
    const nineDaysAgo = new Date(Date.now() - 9 * DAY).toISOString();
    const fresh = setup(server, 3600, nineDaysAgo);
    await ensureFreshManagedTokens(fresh.store, fresh.auth, fresh.options);
    expect(server.count("POST", TOKEN)).toBe(0);

    const opaque = setup(server, 3600, nineDaysAgo);
    const noExp: AuthDotJson = { ...opaque.auth, tokens: { ...opaque.auth.tokens!, access_token: "opaque-access-token" } };
    writeAuth(opaque.home, noExp);
    const result = await ensureFreshManagedTokens(opaque.store, noExp, opaque.options);
    expect(server.count("POST", TOKEN)).toBe(1);
    expect(result.tokens!.access_token).not.toBe("opaque-access-token");
    expect(Date.parse(result.last_refresh!)).toBeGreaterThan(Date.now() - MINUTE);
  });

  it("reports a failed proactive refresh and returns the stored auth", async () => {
    const { server } = await start();
    server.failRefresh("server_error");
    const { auth, store, options } = setup(server, 60);
    const errors: RefreshTokenError[] = [];
    expect(await ensureFreshManagedTokens(store, auth, { ...options, onError: (error) => errors.push(error) })).toBe(auth);
    expect(errors.map((error) => error.kind)).toEqual(["transient"]);
  });
});

describe("guarded refresh", () => {
  it("writes back the returned tokens and last_refresh (Codex's precision), keeping members it does not know", async () => {
    const { server } = await start();
    const { home, auth, store, options } = setup(server, 60);
    // The members Codex 0.169.0 adds to `tokens` survive a refresh.
    const codexWritten = JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures/device-code.written-by-codex-0.169.0.json"), "utf8")) as AuthDotJson;
    const snapshot: AuthDotJson = { ...codexWritten, tokens: { ...codexWritten.tokens!, ...auth.tokens! } };
    writeAuth(home, snapshot);

    const result = await refreshManagedTokens(store, snapshot, { ...options, now: () => 1_795_315_003_300_005_444n });
    expect(result.outcome).toBe("refreshed");
    const written = readAuth(home);
    expect(written.last_refresh).toBe("2026-11-22T02:36:43.300005444Z");
    expect(written.tokens).toMatchObject({
      oauth_provenance: codexWritten.tokens!["oauth_provenance" as never],
      login_owner_id: codexWritten.tokens!["login_owner_id" as never],
      account_id: "acct-demo",
    });
    expect(written.tokens!.refresh_token).not.toBe(auth.tokens!.refresh_token);
    expect(written.tokens!.access_token).not.toBe(auth.tokens!.access_token);
    expect(written).toEqual(result.auth);
  });

  it("keeps the old id_token when the answer has none", async () => {
    const { server } = await start();
    const { auth, store, options } = setup(server, 60);
    const issuer = await recordingServer((_request, response) => json(response, 200, { access_token: "at-new", refresh_token: "rt-new" }));
    const result = await refreshManagedTokens(store, auth, { ...options, endpoints: resolveOAuthEndpoints({ CODEX_AUTH_ISSUER: issuer.url }) });
    expect(result.auth.tokens).toEqual({ ...auth.tokens, access_token: "at-new", refresh_token: "rt-new" });
  });

  it("refreshes and revokes against the login's own issuer (tokens.oauth_provenance) when no URL override is set, as Codex does", async () => {
    const { server } = await start();
    const { home, auth, store } = setup(server, 60);
    const provenance = { issuer: server.url, client_id: "app_provenance_client" };
    const withProvenance: AuthDotJson = { ...auth, tokens: { ...auth.tokens!, oauth_provenance: provenance } };
    writeAuth(home, withProvenance);
    // No CODEX_AUTH_ISSUER, no *_URL_OVERRIDE: only the file says where this login came from.
    const options: ManagedRefreshOptions = { lockHome: home, env: {}, memo: new RefreshFailureMemo() };
    const result = await refreshManagedTokens(store, withProvenance, options);
    expect(result.outcome).toBe("refreshed");
    expect(server.count("POST", TOKEN)).toBe(1);
    expect(readAuth(home).tokens).toMatchObject({ oauth_provenance: provenance });
    expect(await revokeManagedTokens(readAuth(home), { env: {} })).toMatchObject({ revoked: true, error: null });
    expect(server.count("POST", "/oauth/revoke")).toBe(1);
  });

  const permanent: Array<[RefreshFailure, number, string]> = [
    ["refresh_token_expired", 401, REFRESH_FAILURE_MESSAGES.expired],
    ["refresh_token_reused", 401, REFRESH_FAILURE_MESSAGES.exhausted],
    ["refresh_token_invalidated", 401, REFRESH_FAILURE_MESSAGES.revoked],
    ["invalid_grant", 400, REFRESH_FAILURE_MESSAGES.other],
  ];
  for (const [failure, status, message] of permanent) {
    it(`treats ${failure} (${status}) as permanent, remembers it for that credential, forgets it when the credential changes`, async () => {
      const { server } = await start();
      const { home, issued, auth, store, options } = setup(server, 60);
      server.failRefresh(failure, { refreshToken: issued.refreshToken });

      const first = await refreshError(refreshManagedTokens(store, auth, options));
      expect(first).toMatchObject({ kind: "permanent", code: "REFRESH_PERMANENT", status, message });
      const second = await refreshError(refreshManagedTokens(store, auth, options));
      expect(second.message).toBe(message);
      expect(server.count("POST", TOKEN)).toBe(1);
      assertNoSecrets([first.message, inspect(first), inspect(options.memo)], [issued.refreshToken, issued.accessToken]);

      // Another login replaced the credential: adopted without a request, then refreshed normally.
      const next = setup(server, 60);
      writeAuth(home, next.auth);
      expect(await refreshManagedTokens(store, auth, options)).toMatchObject({ outcome: "adopted", auth: next.auth });
      expect(server.count("POST", TOKEN)).toBe(1);
      expect(await refreshManagedTokens(store, next.auth, options)).toMatchObject({ outcome: "refreshed" });
      expect(server.count("POST", TOKEN)).toBe(2);
      expect(options.memo!.size).toBe(0);
    });
  }

  it("treats any 401 as permanent (`Your access token could not be refreshed...`)", async () => {
    const { server } = await start();
    const { auth, store, options } = setup(server, 60);
    server.failNext(TOKEN, 401);
    expect(await refreshError(refreshManagedTokens(store, auth, options))).toMatchObject({ kind: "permanent", message: REFRESH_FAILURE_MESSAGES.other });
  });

  it("treats a 500 as transient and retries it next time", async () => {
    const { server } = await start();
    const { auth, store, options } = setup(server, 60);
    server.failRefresh("server_error", { count: 1 });
    const error = await refreshError(refreshManagedTokens(store, auth, options));
    expect(error).toMatchObject({ kind: "transient", code: "REFRESH_TRANSIENT", status: 500 });
    expect(error.message).toBe("Failed to refresh token: 500 Internal Server Error: The issuer failed unexpectedly (a transient error injected by the dev server).");
    expect(await refreshManagedTokens(store, auth, options)).toMatchObject({ outcome: "refreshed" });
    expect(server.count("POST", TOKEN)).toBe(2);
  });

  it("adopts tokens another process already wrote, without a request", async () => {
    const { server } = await start();
    const { home, auth, store, options } = setup(server, 60);
    const refreshedElsewhere: AuthDotJson = { ...auth, tokens: { ...auth.tokens!, access_token: "at-newer", refresh_token: "rt-newer" } };
    writeAuth(home, refreshedElsewhere);
    expect(await refreshManagedTokens(store, auth, options)).toEqual({ outcome: "adopted", auth: refreshedElsewhere });
    expect(server.count("POST", TOKEN)).toBe(0);
  });

  it("refused as already used because another process (Codex) spent the token first: adopts the tokens that process writes once we let go of the lock", async () => {
    const { server } = await start();
    const { home, auth, store, options } = setup(server, 60);
    // What Codex does: spend the refresh token first, then wait for the lock to write what it got.
    const endpoints = options.endpoints!;
    const answer = await requestTokenRefresh({ refreshUrl: endpoints.refreshUrl, clientId: endpoints.clientId, refreshToken: new Secret(auth.tokens!.refresh_token) });
    const codexWrites: AuthDotJson = {
      ...auth,
      tokens: { ...auth.tokens!, id_token: answer.id_token ?? auth.tokens!.id_token, access_token: answer.access_token!, refresh_token: answer.refresh_token! },
    };
    const ours = refreshManagedTokens(store, auth, { ...options, reuseGraceMs: 60_000 });
    // Queued behind our refresh's lock (it asked first), as Codex's blocking flock would be.
    const codexPersist = new Promise((resolve) => setImmediate(resolve)).then(() => withAuthLock(home, async () => writeAuth(home, codexWrites)));
    expect(await ours).toEqual({ outcome: "adopted", auth: codexWrites });
    await codexPersist;
    // Two requests with the one token: Codex's (accepted) and ours (refused); nothing remembered as failed.
    expect(server.requests.filter((request) => request.path === TOKEN).map((request) => request.status)).toEqual([200, 401]);
    expect(options.memo!.size).toBe(0);
    expect(readAuth(home)).toEqual(codexWrites);
  });

  it("refuses when the stored account changed or is gone", async () => {
    const { server } = await start();
    const { home, auth, store, options } = setup(server, 60);
    writeAuth(home, chatgptAuth(server.issueTokens({ accountId: "acct-other" })));
    expect(await refreshError(refreshManagedTokens(store, auth, options))).toMatchObject({ kind: "permanent", message: ACCOUNT_CHANGED_MESSAGE });
    await store.delete();
    expect((await refreshError(refreshManagedTokens(store, auth, options))).message).toBe(ACCOUNT_CHANGED_MESSAGE);
    writeAuth(home, { auth_mode: "apikey", OPENAI_API_KEY: "sk-test-key-value" });
    expect((await refreshError(refreshManagedTokens(store, auth, options))).message).toBe(ACCOUNT_CHANGED_MESSAGE);
    expect(server.count("POST", TOKEN)).toBe(0);
  });

  it("keys the failure memo by a SHA-256 of the refresh token", () => {
    const memo = new RefreshFailureMemo();
    memo.remember({ refresh_token: "rt-secret-value" }, new RefreshTokenError("permanent", "expired", REFRESH_FAILURE_MESSAGES.expired));
    memo.remember({ refresh_token: "rt-other" }, new RefreshTokenError("transient", null, "Failed to refresh token: x"));
    expect(RefreshFailureMemo.keyOf({ refresh_token: "rt-secret-value" })).toBe(createHash("sha256").update("rt-secret-value").digest("hex"));
    expect(memo.size).toBe(1);
    expect(memo.get({ refresh_token: "rt-secret-value" })?.reason).toBe("expired");
    assertNoSecrets([inspect(memo, { showHidden: true }), JSON.stringify(memo)], ["rt-secret-value"]);
  });

  it("sends one refresh request when two processes refresh the same near-expiry auth.json at once", async () => {
    const { server } = await start();
    const { home, auth } = setup(server, 60);
    const goFile = path.join(home, "go");
    const script = path.join(import.meta.dirname, "fixtures/refresh-when-told.ts");
    const children = [0, 1].map(() => {
      const child = spawn(process.execPath, ["--import", TSX_LOADER, script, home, goFile], { env: { ...process.env, ...server.env() }, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const lines = readline.createInterface({ input: child.stdout });
      const iterator = lines[Symbol.asyncIterator]();
      const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
      return { iterator, exited, stderr: () => stderr };
    });
    for (const child of children) expect((await child.iterator.next()).value).toBe("ready");
    writeFileSync(goFile, "");
    const results = await Promise.all(children.map(async (child) => JSON.parse(String((await child.iterator.next()).value)) as Record<string, string>));
    for (const child of children) expect(await child.exited, child.stderr()).toBe(0);

    expect(server.count("POST", TOKEN)).toBe(1);
    expect(results.map((result) => result.outcome).sort()).toEqual(["adopted", "refreshed"]);
    const written = readAuth(home);
    expect(written.tokens!.refresh_token).not.toBe(auth.tokens!.refresh_token);
    const hash = createHash("sha256").update(written.tokens!.access_token).digest("hex");
    expect(results.map((result) => result.accessTokenSha256)).toEqual([hash, hash]);
  });
});

describe("managed 401 recovery steps", () => {
  async function usage(server: DevServer, store: FileAuthStore): Promise<number> {
    const current = (await store.load())!;
    const result = await fetchUsage({ bearer: new Secret(current.tokens!.access_token), accountId: current.tokens!.account_id ?? null }, { chatgptBaseUrl: server.chatgptBaseUrl });
    return result.status;
  }

  it("are `reload` then `refresh_token`: a rejected bearer is refreshed and the request retried", async () => {
    const { server } = await start();
    const { auth, store, options } = setup(server, 3600);
    server.backend.revokeBearer(auth.tokens!.access_token);
    const steps = managedRecoverySteps(store, auth, options);
    const recovery = new UnauthorizedRecovery("managed", steps);
    expect(recovery.stepNames).toEqual(["reload", "refresh_token"]);
    expect(await recovery.run(() => usage(server, store), (status) => status === 401)).toBe(200);
    expect(server.count("POST", TOKEN)).toBe(1);
  });

  it("reload adopts tokens already on disk, so no refresh is needed", async () => {
    const { server } = await start();
    const { home, auth, store, options } = setup(server, 3600);
    server.backend.revokeBearer(auth.tokens!.access_token);
    const newer = chatgptAuth(server.issueTokens());
    writeAuth(home, newer);
    const recovery = new UnauthorizedRecovery("managed", managedRecoverySteps(store, auth, options));
    expect(await recovery.run(() => usage(server, store), (status) => status === 401)).toBe(200);
    expect(server.count("POST", TOKEN)).toBe(0);
  });

  it("reload stops recovery when another account is stored", async () => {
    const { server } = await start();
    const { home, auth, store, options } = setup(server, 3600);
    writeAuth(home, chatgptAuth(server.issueTokens({ accountId: "acct-other" })));
    const [reload] = managedRecoverySteps(store, auth, options);
    await expect(reload!.attempt()).rejects.toThrow(ACCOUNT_CHANGED_MESSAGE);
  });

  it("a permanent refresh failure ends recovery with Codex's message", async () => {
    const { server } = await start();
    const { issued, auth, store, options } = setup(server, 3600);
    server.backend.revokeBearer(auth.tokens!.access_token);
    server.failRefresh("refresh_token_reused", { refreshToken: issued.refreshToken });
    const recovery = new UnauthorizedRecovery("managed", managedRecoverySteps(store, auth, options));
    await expect(recovery.run(() => usage(server, store), (status) => status === 401)).rejects.toThrow(REFRESH_FAILURE_MESSAGES.exhausted);
  });
});
