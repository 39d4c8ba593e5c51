import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AuthDotJson } from "../../generated/storage/auth-json.js";
import { startDeviceCodeLogin } from "../../src/auth/chatgpt/device-code.js";
import { ChatgptLoginError } from "../../src/auth/chatgpt/errors.js";
import { REFRESH_FAILURE_MESSAGES, RefreshFailureMemo, refreshManagedTokens, RefreshTokenError } from "../../src/auth/chatgpt/refresh.js";
import { REVOKE_FAILURE_PREFIX, revokeManagedTokens } from "../../src/auth/chatgpt/revoke.js";
import { AuthError } from "../../src/auth/errors.js";
import { PersonalAccessTokenHydrator } from "../../src/auth/personal-access-token.js";
import { Secret } from "../../src/auth/secret.js";
import { FileAuthStore } from "../../src/auth/store/file-store.js";
import { AUTH_JSON_LOCK_FILE, AUTH_LOCK_FILE } from "../../src/auth/store/lock-names.js";
import { startDevServer, type DevServer, type IssuedTokens, type NetworkFault } from "../../src/dev-server/index.js";
import { fetchUsage } from "../../src/http/backend.js";
import { resolveOAuthEndpoints } from "../../src/http/oauth.js";
import { tempDir, type TempDir } from "../support/cli-process.js";
import { CapturedStreams } from "../support/secrets.js";
import { DEADLINE_FAULTS, DIST, escapeRegExp, expectHomeUnchanged, QUICK_FAULTS, REASONS, snapshotHome, waitForDist } from "./support.js";

/**
 * Issuer, AuthAPI and backend faults against the modules that call them, in-process, with a short
 * injected deadline (the 10 s default is exercised end to end in network-cli.test.ts): the PAT
 * hydrator, refresh (transient vs permanent, and the stored tokens untouched), logout's revoke
 * (never throws), device-code login (nothing persisted), and the backend usage client.
 */

const DEADLINE_MS = 300;
/**
 * The client's deadline for a fault: the short one only where the fault is that nothing comes (hang,
 * slow drip); an answer that does come must never lose a race against a busy machine.
 */
function deadlineFor(fault: NetworkFault): number {
  return fault.kind === "hang" || fault.kind === "drip" ? DEADLINE_MS : 60_000;
}
const WHOAMI = "/api/accounts/v1/user-auth-credential/whoami";
const TOKEN = "/oauth/token";
const REVOKE = "/oauth/revoke";
const USERCODE = "/api/accounts/deviceauth/usercode";
const DEVICE_TOKEN = "/api/accounts/deviceauth/token";
const USAGE = "/backend-api/wham/usage";
const PAT = `at-fault-inproc-${randomBytes(16).toString("hex")}`;
const ALL_FAULTS = [...QUICK_FAULTS, ...DEADLINE_FAULTS];

let dev: DevServer;
const captured = new CapturedStreams();
const secrets = new Set<string>([PAT]);
const homes: TempDir[] = [];

beforeAll(async () => {
  dev = await startDevServer();
  dev.addPersonalAccessToken(PAT);
});

afterEach(() => {
  for (const home of homes.splice(0)) home.remove();
  expect(dev.faults).toEqual([]);
});

afterAll(async () => {
  await dev.close();
  expect(dev.contractViolations).toEqual([]);
  captured.assertNoSecrets([...secrets]);
});

/** Keeps everything an error exposes (message, inspect, JSON) for the final secret scan. */
function record(label: string, error: unknown): void {
  captured.add(`${label} message`, error instanceof Error ? error.message : String(error));
  captured.add(`${label} inspect`, inspect(error, { depth: 5 }));
  captured.add(`${label} json`, JSON.stringify(error) ?? "");
}

/** A transport or deadline reason as sendValidated words it, for `url`. */
function transportReason(fault: NetworkFault, url: string): string {
  switch (fault.kind) {
    case "hang":
    case "drip":
      return `operation timed out after ${DEADLINE_MS} ms (${url})`;
    case "reset":
      return fault.afterBytes === undefined ? `error sending request for url (${url}): ECONNRESET` : `error sending request for url (${url})`;
    default:
      throw new Error(`not a transport fault: ${fault.kind}`);
  }
}

/** Matches a reason; a mid-body reset may or may not name undici's code. */
function reasonPattern(fault: NetworkFault, text: string): RegExp {
  const tail = fault.kind === "reset" && fault.afterBytes !== undefined ? "(: [A-Z_]+)?" : "";
  return new RegExp(`^${escapeRegExp(text)}${tail}$`);
}

describe("PAT hydration (AuthAPI whoami) with a short deadline", () => {
  it.each(ALL_FAULTS)("%s: a typed AuthError with the contract's text", async (label, fault) => {
    const hydrator = new PersonalAccessTokenHydrator({ baseUrl: dev.authApiBaseUrl, timeoutMs: deadlineFor(fault) });
    const url = `${dev.authApiBaseUrl}/v1/user-auth-credential/whoami`;
    dev.injectFault(WHOAMI, fault);
    const error = await hydrator.hydrate(new Secret(PAT)).then(
      () => expect.fail("hydrate should fail"),
      (e: unknown) => e,
    );
    record(`whoami ${label}`, error);
    expect(error).toBeInstanceOf(AuthError);
    const { code, message } = error as AuthError;
    switch (fault.kind) {
      case "status":
        expect(code).toBe("PAT_STATUS");
        expect(message).toBe(`personal access token metadata request failed with status ${fault.status} ${REASONS[fault.status]}`);
        break;
      case "malformed":
        expect(code).toBe("PAT_DECODE");
        expect(message).toMatch(/^failed to decode personal access token metadata: error decoding response body: /);
        break;
      case "contract":
        expect(code).toBe("PAT_DECODE");
        expect(message).toBe("failed to decode personal access token metadata: invalid type: integer `42`, expected a string at /email");
        break;
      default:
        expect(code).toBe("PAT_REQUEST_FAILED");
        expect(message).toMatch(reasonPattern(fault, `failed to request personal access token metadata: ${transportReason(fault, url)}`));
    }
  });
});

interface RefreshSetup {
  home: string;
  issued: IssuedTokens;
  store: FileAuthStore;
  snapshot: AuthDotJson;
  memo: RefreshFailureMemo;
}

function chatgptHome(): RefreshSetup {
  const home = tempDir("codex-auth-fault-refresh-");
  homes.push(home);
  const issued = dev.issueTokens();
  for (const secret of [issued.accessToken, issued.refreshToken, issued.idToken]) secrets.add(secret);
  const auth: AuthDotJson = {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: { id_token: issued.idToken, access_token: issued.accessToken, refresh_token: issued.refreshToken, account_id: issued.account.accountId },
    last_refresh: new Date().toISOString(),
  };
  writeFileSync(path.join(home.dir, "auth.json"), JSON.stringify(auth, null, 2), { mode: 0o600 });
  // The (empty) lock files the login that wrote auth.json left, as Codex leaves them.
  writeFileSync(path.join(home.dir, AUTH_LOCK_FILE), "", { mode: 0o644 });
  writeFileSync(path.join(home.dir, AUTH_JSON_LOCK_FILE), "", { mode: 0o600 });
  return { home: home.dir, issued, store: new FileAuthStore(home.dir), snapshot: auth, memo: new RefreshFailureMemo() };
}

describe("refresh (`refreshManagedTokens`) against issuer faults", () => {
  it.each(ALL_FAULTS)("%s: a transient failure, nothing remembered, auth.json unchanged; the next refresh works", async (label, fault) => {
    const { home, store, snapshot, memo } = chatgptHome();
    const before = snapshotHome(home);
    const options = { lockHome: home, endpoints: resolveOAuthEndpoints(dev.env()), memo, httpTimeoutMs: deadlineFor(fault) };
    dev.injectFault(TOKEN, fault);
    const error = await refreshManagedTokens(store, snapshot, options).then(
      () => expect.fail("refresh should fail"),
      (e: unknown) => e,
    );
    record(`refresh ${label}`, error);
    expect(error).toBeInstanceOf(RefreshTokenError);
    const failure = error as RefreshTokenError;
    expect(failure.kind).toBe("transient");
    expect(failure.code).toBe("REFRESH_TRANSIENT");
    const url = `${dev.url}${TOKEN}`;
    switch (fault.kind) {
      case "status": {
        const detail = fault.body === "html" ? ": <html><head><title>504</title></head><body><h1>504</h1><p>upstream unavailable</p></body></html>" : fault.body === "empty" ? ": Unknown error" : ": The dev server was told to fail this request with 503.";
        expect(failure.message).toBe(`Failed to refresh token: ${fault.status} ${REASONS[fault.status]}${detail}`);
        expect(failure.status).toBe(fault.status);
        break;
      }
      case "malformed":
        expect(failure.message).toMatch(/^Failed to refresh token: error decoding response body: /);
        break;
      case "contract":
        expect(failure.message).toBe("Failed to refresh token: invalid type: integer `42`, expected a string at /id_token");
        break;
      default:
        expect(failure.message).toMatch(reasonPattern(fault, `Failed to refresh token: ${transportReason(fault, url)}`));
    }
    expect(memo.size).toBe(0);
    expectHomeUnchanged(home, before, `refresh after ${label}`);

    // Transient means just that: the refresh token still works.
    const retried = await refreshManagedTokens(store, snapshot, options);
    expect(retried.outcome).toBe("refreshed");
    expect(retried.auth.tokens?.refresh_token).not.toBe(snapshot.tokens?.refresh_token);
    for (const secret of [retried.auth.tokens!.access_token, retried.auth.tokens!.refresh_token, retried.auth.tokens!.id_token]) secrets.add(secret);
  });

  it("a 401 from the issuer is permanent, remembered for that credential, and auth.json stays unchanged", async () => {
    const { home, store, snapshot, memo } = chatgptHome();
    const before = snapshotHome(home);
    const options = { lockHome: home, endpoints: resolveOAuthEndpoints(dev.env()), memo, httpTimeoutMs: 60_000 };
    dev.injectFault(TOKEN, { kind: "status", status: 401 });
    const first = await refreshManagedTokens(store, snapshot, options).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(RefreshTokenError);
    expect(first).toMatchObject({ kind: "permanent", message: REFRESH_FAILURE_MESSAGES.other, status: 401 });
    expect(memo.size).toBe(1);
    // Remembered: no second request is sent for the same credential.
    const requests = dev.count("POST", TOKEN);
    expect(await refreshManagedTokens(store, snapshot, options).catch((e: unknown) => e)).toBe(first);
    expect(dev.count("POST", TOKEN)).toBe(requests);
    expectHomeUnchanged(home, before, "permanent refresh failure");
  });
});

describe("logout's revoke (`revokeManagedTokens`) against issuer faults: best effort, never throws", () => {
  it.each(ALL_FAULTS)("%s", async (label, fault) => {
    const { snapshot } = chatgptHome();
    dev.injectFault(REVOKE, fault);
    const outcome = await revokeManagedTokens(snapshot, { env: dev.env(), timeoutMs: deadlineFor(fault) });
    captured.add(`revoke ${label}`, JSON.stringify(outcome));
    const url = `${dev.url}${REVOKE}`;
    if (fault.kind === "malformed" || fault.kind === "contract") {
      // Any 2xx is a revoke, whatever its body (RFC 7009).
      expect(outcome).toEqual({ revoked: true, error: null });
      return;
    }
    expect(outcome.revoked).toBe(false);
    const prefix = `${REVOKE_FAILURE_PREFIX}failed to revoke refresh token: `;
    if (fault.kind === "status") {
      const detail = fault.body === "html" ? ": <html><head><title>504</title></head><body><h1>504</h1><p>upstream unavailable</p></body></html>" : fault.body === "empty" ? "" : ": The dev server was told to fail this request with 503.";
      expect(outcome.error).toBe(`${prefix}${fault.status} ${REASONS[fault.status]}${detail}`);
    } else {
      expect(outcome.error).toMatch(reasonPattern(fault, `${prefix}${transportReason(fault, url)}`));
    }
    expect(dev.wasRevoked(snapshot.tokens!.refresh_token)).toBe(false);
  });
});

describe("device-code login against issuer faults: a ChatgptLoginError, nothing persisted", () => {
  it.each(ALL_FAULTS)("user-code request, %s", async (label, fault) => {
    const persisted: unknown[] = [];
    dev.injectFault(USERCODE, fault);
    const error = await startDeviceCodeLogin({ env: dev.env(), httpTimeoutMs: deadlineFor(fault), persist: async (auth) => void persisted.push(auth) }).then(
      () => expect.fail("the user-code request should fail"),
      (e: unknown) => e,
    );
    record(`usercode ${label}`, error);
    expect(error).toBeInstanceOf(ChatgptLoginError);
    expect((error as ChatgptLoginError).code).toBe("DEVICE_CODE_REQUEST_FAILED");
    const message = (error as ChatgptLoginError).message;
    const url = `${dev.url}${USERCODE}`;
    if (fault.kind === "status") expect(message).toBe(`device code request failed with status ${fault.status} ${REASONS[fault.status]}`);
    else if (fault.kind === "malformed") expect(message).toMatch(/^device code request failed: error decoding response body: /);
    else if (fault.kind === "contract") expect(message).toBe("device code request failed: invalid type: integer `42`, expected a string at /device_auth_id");
    else expect(message).toMatch(reasonPattern(fault, `device code request failed: ${transportReason(fault, url)}`));
    expect(persisted).toEqual([]);
  });

  it.each(ALL_FAULTS)("token poll, %s", async (label, fault) => {
    const persisted: unknown[] = [];
    const login = await startDeviceCodeLogin({ env: dev.env(), httpTimeoutMs: deadlineFor(fault), persist: async (auth) => void persisted.push(auth) });
    dev.injectFault(DEVICE_TOKEN, fault);
    const error = await login.done.then(
      () => expect.fail("the poll should fail"),
      (e: unknown) => e,
    );
    record(`device poll ${label}`, error);
    expect(error).toBeInstanceOf(ChatgptLoginError);
    expect((error as ChatgptLoginError).code).toBe("DEVICE_AUTH_FAILED");
    const message = (error as ChatgptLoginError).message;
    const url = `${dev.url}${DEVICE_TOKEN}`;
    if (fault.kind === "status") expect(message).toBe(`device auth failed with status ${fault.status} ${REASONS[fault.status]}`);
    else if (fault.kind === "malformed") expect(message).toMatch(/^device auth failed: error decoding response body: /);
    else if (fault.kind === "contract") expect(message).toBe("device auth failed: invalid type: integer `42`, expected a string at /authorization_code");
    else expect(message).toMatch(reasonPattern(fault, `device auth failed: ${transportReason(fault, url)}`));
    expect(persisted).toEqual([]);
    login.cancel();
  });
});

describe("backend usage client against faults", () => {
  it.each(ALL_FAULTS)("%s: a typed HttpError (401 alone is an answer, for recovery)", async (label, fault) => {
    dev.injectFault(USAGE, fault);
    const error = await fetchUsage({ bearer: new Secret(PAT), accountId: null }, { chatgptBaseUrl: dev.chatgptBaseUrl, timeoutMs: deadlineFor(fault) }).then(
      () => expect.fail("the usage call should fail"),
      (e: unknown) => e,
    );
    record(`usage ${label}`, error);
    const expected = { status: "STATUS", malformed: "INVALID_RESPONSE", contract: "INVALID_RESPONSE", reset: "TRANSPORT", hang: "TIMEOUT", drip: "TIMEOUT" }[fault.kind as string];
    expect(error).toMatchObject({ name: "HttpError", code: expected });
  });
});

/**
 * Peak RSS growth of a fresh process making one call against an oversized body. The HTTP layer
 * reads bodies with openapi-fetch `parseAs: "text"`, which buffers everything, then JSON.parse and
 * validation copy it again: about 4.5x the body size (measured: 10 MB → +63 MB, 50 MB → +227 MB,
 * 200 MB → +778 MB peak RSS) for a body that is then rejected, or, for refresh and revoke, accepted.
 */
async function peakRssGrowth(call: "whoami" | "usage" | "refresh", baseUrl: string, bytes: number): Promise<{ growthMB: number; outcome: string }> {
  waitForDist();
  const modules = { whoami: DIST("src/http/authapi.js"), usage: DIST("src/http/backend.js"), refresh: DIST("src/http/oauth.js") };
  const script = `
    const secret = { reveal: () => "at-demo-valid" };
    const m = await import(${JSON.stringify(modules[call])});
    const before = process.resourceUsage().maxRSS;
    let outcome = "ok";
    try {
      ${call === "whoami" ? "await m.fetchPersonalAccessTokenMetadata(secret, { baseUrl: process.argv[1] + '/api/accounts', timeoutMs: 60000 });" : ""}
      ${call === "usage" ? "await m.fetchUsage({ bearer: secret, accountId: null }, { chatgptBaseUrl: process.argv[1] + '/backend-api/', timeoutMs: 60000 });" : ""}
      ${call === "refresh" ? "await m.requestTokenRefresh({ refreshUrl: process.argv[1] + '/oauth/token', clientId: 'x', refreshToken: secret }, { timeoutMs: 60000 });" : ""}
    } catch (error) { outcome = error.code + ": " + error.message.slice(0, 200); }
    process.stdout.write(JSON.stringify({ growthMB: (process.resourceUsage().maxRSS - before) / 1024, outcome }));
  `;
  const path = { whoami: WHOAMI, usage: USAGE, refresh: TOKEN }[call];
  dev.injectFault(path, { kind: "oversized", bytes });
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script, baseUrl], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
  return JSON.parse(output) as { growthMB: number; outcome: string };
}

// The HTTP layer cuts response bodies off at 1 MiB as they stream in (src/http/request.ts
// boundedFetch), so a hostile or broken server cannot make us buffer megabytes.
describe("oversized bodies are refused without buffering them", () => {
  it.each(["whoami", "usage", "refresh"] as const)("%s: a 50 MB body fails and peak RSS grows by less than 32 MB", async (call) => {
    const { growthMB, outcome } = await peakRssGrowth(call, dev.url, 50 * 1024 * 1024);
    expect(outcome).toMatch(/^INVALID_RESPONSE: response body exceeds 1048576 bytes/);
    expect(growthMB).toBeLessThan(32);
  });
});
