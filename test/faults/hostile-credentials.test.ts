import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { inspect } from "node:util";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthManager } from "../../src/auth/manager.js";
import { DEFAULT_AUTH_CONFIG } from "../../src/auth/config.js";
import { Secret } from "../../src/auth/secret.js";
import { parseAuthDotJson } from "../../src/auth/store/format.js";
import { runCli } from "../../src/cli/run.js";
import { startDevServer, type DevServer, type NetworkFault } from "../../src/dev-server/index.js";
import { exchangeAuthorizationCode, requestTokenRefresh } from "../../src/http/oauth.js";
import { isHeaderSafeCredential, maskCredential } from "../../src/protocol/safe-text.js";
import { agentIdentityJwt } from "../auth/jwt.js";
import { initializeMessage, RawAppServer } from "../support/app-server-process.js";
import { propertyParameters, QUICK_FAULTS, scaledTimeout, waitForDist } from "./support.js";

/**
 * Credentials built from arbitrary code points (control characters, CR/LF, NUL, ESC, BEL, DEL, C1,
 * bidi overrides, lone surrogates, non-BMP) sent through every entry point a credential has:
 *
 * - the CLI (in-process `runCli`, real files): `login --with-api-key` and `--with-access-token` on
 *   stdin, `CODEX_ACCESS_TOKEN`, `auth.json` (API key, PAT, ChatGPT tokens), `login status --json`;
 * - the keyring's load path (the keyring entry is parsed by the same `parseAuthDotJson`);
 * - `CODEX_API_KEY` (an AuthManager with the env key enabled, as exec and the app-server's
 *   peers use it);
 * - a spawned app-server: `account/login/start` `apiKey` and `chatgptAuthTokens`, and the parent
 *   app's answers to `account/chatgptAuthTokens/refresh` after a backend 401;
 * - the OAuth issuer's token answers (code exchange and refresh), served by the dev server.
 *
 * Each run has the dev server answer in one of the fault modes (or normally). Every output stream,
 * log file, error (message, inspect, JSON) and app-server line is scanned for the credential and
 * for every 8-character substring of it: zero hits. The only credential text allowed out is the
 * contract's display mask of an accepted key (`sk-proj-***ABCDE`, first 8 + last 5), which
 * `login status` prints on purpose; it is asserted exactly and removed before the scan. Each run
 * ends in a success or a clear error (a message naming the source, never control characters).
 */

type Fault = readonly [string, NetworkFault | null];
const FAULTS: readonly Fault[] = [["a normal answer", null], ...QUICK_FAULTS];
const WHOAMI = "/api/accounts/v1/user-auth-credential/whoami";
const TOKEN = "/oauth/token";
const USAGE = "/backend-api/wham/usage";

// A failure stops at once with its seed and counterexample (endOnFailure): shrinking a 40-unit
// credential across entry points and faults takes minutes. Rerun with FAULTS_SEED to reproduce.
// Runs per property: FAULTS_RUNS (50 in `npm test`) for the in-process ones, half that for the
// spawned app-server (a few requests per run on one process).
const RUNS = Math.max(10, Math.round(propertyParameters().numRuns / 2));

const UNSAFE_UNITS = ["\r", "\n", "\r\n", "\0", "\u001b", "\u001b[31m", "\u001b]0;x\u0007", "\u0007", "\t", " ", "\u007f", "\u0085", "\u009b", "\u202e", "\u2066", "\ud800", "\udfff", "é", "€", "😀", "\u{10ffff}"];

const codePoint = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 2, arbitrary: fc.constantFrom(...UNSAFE_UNITS) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xffff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
);

/** A credential: a known prefix and 16–40 arbitrary units, with at least one unsafe unit inserted about half the time. */
const hostileCredential = fc
  .tuple(fc.constantFrom("at-", "sk-proj-", "eyJ"), fc.array(codePoint, { minLength: 16, maxLength: 40 }), fc.option(fc.tuple(fc.nat(), fc.constantFrom(...UNSAFE_UNITS)), { nil: null }))
  .map(([prefix, units, insert]) => {
    if (insert !== null) units.splice(insert[0] % units.length, 0, insert[1]);
    return prefix + units.join("");
  });

/** A credential of visible ASCII only: it must be admitted, and then still never printed. */
const cleanCredential = fc
  .tuple(fc.constantFrom("at-", "sk-proj-", "eyJ"), fc.array(fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), { minLength: 16, maxLength: 40 }))
  .map(([prefix, units]) => prefix + units.join(""));

const credential = fc.oneof({ weight: 3, arbitrary: hostileCredential }, { weight: 1, arbitrary: cleanCredential });

const fault = fc.constantFrom(...FAULTS);

/** The credential and every 8-character substring of it (by UTF-16 unit, so broken pairs count too). */
function fragments(secret: string): string[] {
  const out = new Set<string>([secret]);
  for (let i = 0; i + 8 <= secret.length; i++) out.add(secret.slice(i, i + 8));
  return [...out];
}

function leaks(texts: Readonly<Record<string, string>>, secret: string, allowedMasks: readonly string[] = []): string[] {
  const found: string[] = [];
  for (const [name, raw] of Object.entries(texts)) {
    let text = raw;
    // The mask as printed, and as JSON-escaped in `--json` output.
    for (const mask of allowedMasks) for (const form of [mask, JSON.stringify(mask).slice(1, -1)]) text = text.split(form).join("<mask>");
    for (const fragment of fragments(secret)) {
      if (text.includes(fragment)) {
        found.push(`${name} holds ${fragment === secret ? "the credential" : `an 8-character part of it at ${secret.indexOf(fragment)}`}`);
        break;
      }
    }
  }
  return found;
}

function errorTexts(label: string, error: unknown): Record<string, string> {
  return {
    [`${label} message`]: error instanceof Error ? error.message : String(error),
    [`${label} inspect`]: inspect(error, { depth: 8 }),
    [`${label} json`]: JSON.stringify(error) ?? "",
  };
}

/** A clear message: one or more lines of text with no control character but LF. */
function expectClearText(text: string, what: string): void {
  expect(text.trim().length, `${what} is empty`).toBeGreaterThan(0);
  expect(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(text), `${what} holds control characters: ${JSON.stringify(text.slice(0, 200))}`).toBe(false);
}

let dev: DevServer;
const homes: string[] = [];

beforeAll(async () => {
  waitForDist();
  dev = await startDevServer();
});

afterAll(async () => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
  await dev?.close();
});

function freshHome(): string {
  const home = mkdtempSync(path.join(tmpdir(), "codex-auth-hostile-"));
  homes.push(home);
  return home;
}

function inject(route: string, chosen: Fault): void {
  dev.clearFaults();
  if (chosen[1] !== null) dev.injectFault(route, chosen[1]);
}

/** `codex-auth <args>` in-process with real files; returns the exit code and both streams. */
async function cli(args: string[], options: { home: string; stdin?: string; env?: Record<string, string> }): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  stderr.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
  const code = await runCli([...dev.configOverrides(), ...args], {
    env: { ...dev.env(), CODEX_HOME: options.home, CODEX_AUTH_NO_BROWSER: "1", ...options.env },
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin, "utf8")]),
    stdout,
    stderr,
  });
  return { code, stdout: out, stderr: err };
}

/** Every file under CODEX_HOME except auth.json itself (which holds an accepted credential by design): logs, locks, temp files. */
function otherFiles(home: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.isFile() && file !== path.join(home, "auth.json")) files[path.relative(home, file)] = readFileSync(file, "utf8");
    }
  };
  if (existsSync(home)) walk(home);
  return files;
}

const ENTRY_POINTS = ["stdin api key", "stdin access token", "CODEX_ACCESS_TOKEN", "auth.json api key", "auth.json pat", "auth.json chatgpt tokens", "keyring entry", "CODEX_API_KEY"] as const;
type EntryPoint = (typeof ENTRY_POINTS)[number];

/** What the credential is called in the refusal message of each entry point. */
const SOURCE_NAMES: Record<EntryPoint, RegExp> = {
  "stdin api key": /^Error logging in: the API key read from stdin contains characters that cannot be sent in an HTTP header/m,
  "stdin access token": /^Error logging in with access token: the access token read from stdin contains characters that cannot be sent in an HTTP header/m,
  CODEX_ACCESS_TOKEN: /^Error checking login status: CODEX_ACCESS_TOKEN contains characters that cannot be sent in an HTTP header/m,
  "auth.json api key": /^Error checking login status: failed to deserialize CLI auth from .*auth\.json.*: OPENAI_API_KEY contains characters that cannot be sent in an HTTP header/m,
  "auth.json pat": /^Error checking login status: failed to deserialize CLI auth from .*auth\.json.*: personal_access_token contains characters that cannot be sent in an HTTP header/m,
  "auth.json chatgpt tokens": /^Error checking login status: failed to deserialize CLI auth from .*auth\.json.*: tokens\.access_token contains characters that cannot be sent in an HTTP header/m,
  "keyring entry": /^failed to deserialize CLI auth from keyring: OPENAI_API_KEY contains characters that cannot be sent in an HTTP header/,
  CODEX_API_KEY: /^CODEX_API_KEY contains characters that cannot be sent in an HTTP header/,
};

describe("hostile credentials: no secret in any output, a clear outcome every time", () => {
  it("through the CLI, the store, the keyring path and CODEX_API_KEY, with AuthAPI in every fault mode", { timeout: scaledTimeout(120_000) }, async () => {
    const outcomes = { refused: 0, admitted: 0 };
    await fc.assert(
      fc.asyncProperty(credential, fc.constantFrom(...ENTRY_POINTS), fault, async (secret, entry, chosen) => {
        const home = freshHome();
        inject(WHOAMI, chosen);
        // Stdin and env values are trimmed before use, as Codex does; the check applies to what is used.
        const used = entry.startsWith("stdin") || entry.startsWith("CODEX_") ? secret.trim() : secret;
        const safe = isHeaderSafeCredential(used);
        outcomes[safe ? "admitted" : "refused"]++;
        const texts: Record<string, string> = {};
        const masks: string[] = [];
        let outcome: string;

        if (entry === "keyring entry" || entry === "CODEX_API_KEY") {
          try {
            if (entry === "keyring entry") parseAuthDotJson(JSON.stringify({ OPENAI_API_KEY: secret }), "keyring");
            else {
              const manager = await AuthManager.create({ codexHome: home, config: DEFAULT_AUTH_CONFIG, env: { CODEX_API_KEY: secret }, enableCodexApiKeyEnv: true });
              const auth = await manager.current();
              texts["current() inspect"] = inspect(auth, { depth: 8 });
              texts["current() json"] = JSON.stringify(auth);
            }
            outcome = "accepted";
          } catch (error) {
            Object.assign(texts, errorTexts(entry, error));
            outcome = (error as Error).message;
          }
          if (safe) expect(outcome, `${entry}: a header-safe credential is accepted`).toBe("accepted");
          else expect(outcome).toMatch(SOURCE_NAMES[entry]);
        } else {
          let run: { code: number; stdout: string; stderr: string };
          if (entry === "stdin api key") run = await cli(["login", "--with-api-key"], { home, stdin: secret });
          else if (entry === "stdin access token") run = await cli(["login", "--with-access-token"], { home, stdin: secret });
          else if (entry === "CODEX_ACCESS_TOKEN") run = await cli(["login", "status", "--json"], { home, env: { CODEX_ACCESS_TOKEN: secret } });
          else {
            const stored =
              entry === "auth.json api key"
                ? { OPENAI_API_KEY: secret }
                : entry === "auth.json pat"
                  ? { OPENAI_API_KEY: null, personal_access_token: secret }
                  : { auth_mode: "chatgpt", OPENAI_API_KEY: null, tokens: { id_token: agentIdentityJwt({ email: "a@example.com" }), access_token: secret, refresh_token: "rt-fixed", account_id: null }, last_refresh: new Date().toISOString() };
            writeFileSync(path.join(home, "auth.json"), JSON.stringify(stored, null, 2), { mode: 0o600 });
            run = await cli(["login", "status", "--json"], { home });
            // The contract's display mask of an accepted key is printed on purpose (first 8 + last 5).
            if (safe) masks.push(maskCredential(secret));
          }
          texts.stdout = run.stdout;
          texts.stderr = run.stderr;
          Object.assign(texts, otherFiles(home));
          expectClearText(run.stderr, `${entry} stderr`);
          expect([0, 1], `${entry} exit code`).toContain(run.code);
          if (!safe) {
            expect(run.code, `${entry}: a credential that cannot go in a header is refused`).toBe(1);
            expect(run.stderr).toMatch(SOURCE_NAMES[entry]);
            // Refused at the door: nothing is written for a login.
            if (entry.startsWith("stdin")) expect(existsSync(path.join(home, "auth.json"))).toBe(false);
          }
          if (run.stdout) {
            const status = JSON.parse(run.stdout) as { loggedIn: boolean; credential: string | null; error: string | null };
            if (status.loggedIn) expect(masks.length === 0 || status.credential === masks[0]).toBe(true);
            else expectClearText(status.error ?? "Not logged in", `${entry} --json error`);
          }
        }
        expect(leaks(texts, secret, masks), `${entry} with ${chosen[0]}`).toEqual([]);
      }),
      { ...propertyParameters(), endOnFailure: true },
    );
    dev.clearFaults();
    // Both sides of the rule were exercised, not only refusals.
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.admitted).toBeGreaterThan(0);
  });

  it("through the OAuth issuer's token answers (code exchange and refresh), in every fault mode", { timeout: scaledTimeout(60_000) }, async () => {
    const issuer = dev.url;
    await fc.assert(
      fc.asyncProperty(credential, fc.constantFrom("access_token", "refresh_token", "id_token"), fault, fc.boolean(), async (secret, field, chosen, exchange) => {
        const tokens: Record<string, string> = { id_token: agentIdentityJwt({ email: "a@example.com" }), access_token: "at-fixed-access", refresh_token: "rt-fixed-refresh" };
        tokens[field] = secret;
        dev.clearFaults();
        dev.injectFault(TOKEN, chosen[1] ?? { kind: "contract", body: tokens });
        const texts: Record<string, string> = {};
        let accepted = false;
        try {
          const answer = exchange
            ? await exchangeAuthorizationCode({ issuer, clientId: "app_test", code: new Secret("code-fixed"), codeVerifier: new Secret("verifier-fixed"), redirectUri: `${issuer}/cb` }, { timeoutMs: 2_000 })
            : await requestTokenRefresh({ refreshUrl: `${issuer}${TOKEN}`, clientId: "app_test", refreshToken: new Secret("rt-old") }, { timeoutMs: 2_000 });
          accepted = true;
          expect(chosen[1], "only the hostile answer itself can succeed").toBeNull();
          expect(isHeaderSafeCredential(secret), "a token that cannot go in a header is refused").toBe(true);
          expect((answer as Record<string, unknown>)[field]).toBe(secret);
        } catch (error) {
          Object.assign(texts, errorTexts("token answer", error));
          expectClearText((error as Error).message, "token error");
          if (chosen[1] === null) expect((error as Error).message).toBe(`the token endpoint's ${field} contains characters that cannot be sent in an HTTP header (only visible ASCII characters are allowed)`);
        }
        expect(accepted || Object.keys(texts).length > 0).toBe(true);
        expect(leaks(texts, secret)).toEqual([]);
      }),
      { ...propertyParameters(), endOnFailure: true },
    );
    dev.clearFaults();
  });

  it("through a spawned app-server: apiKey and chatgptAuthTokens logins, and the parent app's refresh answers", { timeout: scaledTimeout(120_000) }, async () => {
    const server = new RawAppServer({ env: { ...dev.env(), CODEX_AUTH_APP_SERVER_REQUEST_TIMEOUT_MS: "5000" }, config: [dev.configOverrides()[1]!] });
    const all: string[] = [];
    try {
      server.send(initializeMessage(0, { experimentalApi: true }));
      expect((await server.next()).result).toBeDefined();
      let id = 1;
      // Expired at once: the backend answers 401, so every read asks the parent app for new tokens.
      const issued = dev.issueTokens(undefined, { ttlSeconds: -60 });
      const externalJwt = issued.accessToken;
      const account = { accountId: issued.account.accountId };

      /** Sends a request and answers every server request with `refreshAnswer` until its response arrives. */
      const call = async (method: string, params: unknown, refreshAnswer: unknown): Promise<Record<string, unknown>> => {
        const requestId = id++;
        server.send({ id: requestId, method, params });
        for (;;) {
          const message = await server.next();
          if (message.id === requestId && !("method" in message)) return message;
          if (typeof message.method === "string" && message.id !== undefined) server.send({ id: message.id, result: refreshAnswer });
        }
      };

      await fc.assert(
        fc.asyncProperty(credential, fault, async (secret, chosen) => {
          const safe = isHeaderSafeCredential(secret);
          const before = server.lines.length;

          const apiKey = await call("account/login/start", { type: "apiKey", apiKey: secret }, null);
          if (safe) expect(apiKey.result).toEqual({ type: "apiKey" });
          else expect(apiKey.error).toEqual({ code: -32600, message: "Invalid request: apiKey contains characters that cannot be sent in an HTTP header (only visible ASCII characters are allowed)" });

          const external = await call("account/login/start", { type: "chatgptAuthTokens", accessToken: secret, chatgptAccountId: account.accountId }, null);
          if (!safe) expect(external.error).toEqual({ code: -32600, message: "Invalid request: accessToken contains characters that cannot be sent in an HTTP header (only visible ASCII characters are allowed)" });
          else expect(external.error ?? external.result).toBeDefined();

          // Valid external tokens the backend refuses (revoked), so the read asks the parent app, which answers with the credential.
          const login = await call("account/login/start", { type: "chatgptAuthTokens", accessToken: externalJwt, chatgptAccountId: account.accountId }, null);
          expect(login.result).toEqual({ type: "chatgptAuthTokens" });
          dev.clearFaults();
          if (chosen[1] !== null) dev.injectFault(USAGE, chosen[1]);
          const read = await call("account/rateLimits/read", undefined, { accessToken: secret, chatgptAccountId: account.accountId });
          expect(read.result ?? read.error).toBeDefined();
          if (read.error) expectClearText((read.error as { message: string }).message, "rateLimits error");
          if (chosen[1] === null && !safe && read.error) {
            expect((read.error as { message: string }).message).toMatch(/the refreshed accessToken contains characters that cannot be sent in an HTTP header|401/);
          }
          expect((await call("account/logout", undefined, null)).result).toEqual({});
          const lines = server.lines.slice(before);
          expect(leaks({ stdout: lines.join("\n") }, secret), `app-server with ${chosen[0]}`).toEqual([]);
          all.push(secret);
        }),
        { ...propertyParameters(RUNS), endOnFailure: true },
      );
      dev.clearFaults();
      expect((await call("account/read", {}, null)).result).toBeDefined();
    } finally {
      const exit = await server.close();
      expect(exit.code).toBe(0);
      for (const secret of all) expect(leaks({ stdout: server.stdout, stderr: server.stderr }, secret)).toEqual([]);
      expectClearText(server.stderr || "(empty)", "app-server stderr");
    }
  });
});
