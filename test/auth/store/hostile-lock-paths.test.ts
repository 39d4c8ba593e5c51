import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AUTH_JSON_LOCK_FILE, AUTH_LOCK_FILE } from "../../../src/auth/store/lock-names.js";
import { startDevServer } from "../../../src/dev-server/index.js";
import { initializeMessage, RawAppServer } from "../../support/app-server-process.js";
import { runCodexAuth, tempDir, type TempDir } from "../../support/cli-process.js";
import { holdFlocks } from "./fixtures/flock-holder.js";

/**
 * A tampered CODEX_HOME where a lock path is not a lock file (a directory, a dangling symlink), and a
 * lock held past its deadline: every login and logout ends at once or at its deadline with an error
 * that names the path, nothing is written, and the app-server keeps answering and exits at stdin EOF.
 * (Before the flock lock, these paths made login and logout spin at full CPU, forever.)
 */
let home: TempDir;
beforeEach(() => (home = tempDir("codex-auth-hostile-lock-")));
afterEach(() => home.remove());

const apiKeyFile = (key: string) => `{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "${key}"\n}`;
const storedKey = "sk-hostile-lock-stored-0001";

const hostile: Array<[string, (lock: string) => void, (lock: string) => string]> = [
  ["auth.lock is a directory", (lock) => mkdirSync(lock), (lock) => `failed to open lock file "${lock}": Is a directory (EISDIR)`],
  [
    "auth.lock is a dangling symlink",
    (lock) => symlinkSync(path.join(path.dirname(lock), "nowhere", "planted"), lock),
    (lock) => `failed to open lock file "${lock}": it is a symbolic link`,
  ],
];

describe("lock paths that are not lock files", () => {
  it.each(hostile)("%s: login and logout fail at once naming it; auth.json untouched; nothing created through the link", async (_label, plant, message) => {
    const lock = path.join(home.dir, AUTH_LOCK_FILE);
    writeFileSync(path.join(home.dir, "auth.json"), apiKeyFile(storedKey), { mode: 0o600 });
    plant(lock);
    const env = { CODEX_HOME: home.dir, CODEX_AUTH_LOCK_TIMEOUT_MS: "600000" };

    const login = await runCodexAuth(["login", "--with-api-key"], { stdin: "sk-hostile-lock-new-0002", env });
    expect(login).toMatchObject({ code: 1, stdout: "", stderr: `Reading API key from stdin...\nError logging in: ${message(lock)}\n` });
    const logout = await runCodexAuth(["logout"], { env });
    expect(logout).toMatchObject({ code: 1, stderr: `Error logging out: ${message(lock)}\n` });

    expect(readFileSync(path.join(home.dir, "auth.json"), "utf8")).toBe(apiKeyFile(storedKey));
    expect(existsSync(path.join(home.dir, "nowhere"))).toBe(false);
    // login status only reads: it is not affected.
    const status = await runCodexAuth(["login", "status"], { env });
    expect(status.code).toBe(0);
  });

  it("an old codex-auth lock path that is a directory or a dangling symlink no longer matters: login and logout succeed", async () => {
    mkdirSync(path.join(home.dir, "auth.json.codex-auth.lock"));
    symlinkSync(path.join(home.dir, "gone"), path.join(home.dir, "auth.json.codex-auth.refresh.lock"));
    const env = { CODEX_HOME: home.dir };
    expect((await runCodexAuth(["login", "--with-api-key"], { stdin: "sk-hostile-lock-new-0003", env })).code).toBe(0);
    expect((await runCodexAuth(["logout"], { env })).stderr).toBe("Successfully logged out\n");
    expect(lstatSync(path.join(home.dir, "auth.json.codex-auth.lock")).isDirectory()).toBe(true);
  });
});

describe("a symlinked auth.json (Codex 0.171.0 writes through it, and its logout removes the link alone, leaving the secret in the target)", () => {
  it("login and logout refuse it, naming the link and its target, exit 1, and touch neither; login status reads through it", async () => {
    const target = path.join(home.dir, "dotfiles", "codex-auth.json");
    mkdirSync(path.dirname(target));
    writeFileSync(target, apiKeyFile(storedKey), { mode: 0o600 });
    const link = path.join(home.dir, "auth.json");
    symlinkSync(target, link);
    const env = { CODEX_HOME: home.dir };

    const login = await runCodexAuth(["login", "--with-api-key"], { stdin: "sk-hostile-link-new-0007", env });
    expect(login).toMatchObject({
      code: 1,
      stderr: `Reading API key from stdin...\nError logging in: refusing to write CLI auth to file "${link}": it is a symbolic link (to "${target}"); remove the link and the file it points to, then sign in again\n`,
    });
    const logout = await runCodexAuth(["logout"], { env });
    expect(logout).toMatchObject({
      code: 1,
      stderr: `Error logging out: refusing to remove CLI auth file "${link}": it is a symbolic link (to "${target}"); remove the link and the file it points to, then sign in again\n`,
    });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, "utf8")).toBe(apiKeyFile(storedKey));
    const status = await runCodexAuth(["login", "status"], { env });
    expect(status).toMatchObject({ code: 0 });
    expect(status.stderr).toMatch(/^API key configured - sk-hosti\*\*\*-0001\n/);
  });
});

describe("a symlinked auth.json holding ChatGPT tokens", () => {
  it("logout refuses it before anything else: the tokens stay in the target and are not revoked", async () => {
    const dev = await startDevServer();
    try {
      const issued = dev.issueTokens();
      const target = path.join(home.dir, "elsewhere.json");
      const auth = {
        auth_mode: "chatgpt",
        OPENAI_API_KEY: null,
        tokens: { id_token: issued.idToken, access_token: issued.accessToken, refresh_token: issued.refreshToken, account_id: issued.account.accountId },
        last_refresh: new Date().toISOString(),
      };
      writeFileSync(target, JSON.stringify(auth, null, 2), { mode: 0o600 });
      symlinkSync(target, path.join(home.dir, "auth.json"));
      const logout = await runCodexAuth(["logout"], { env: { ...dev.env(), CODEX_HOME: home.dir } });
      expect(logout.code).toBe(1);
      expect(logout.stderr).toMatch(/^Error logging out: refusing to remove CLI auth file ".*": it is a symbolic link/);
      expect(dev.wasRevoked(issued.refreshToken)).toBe(false);
      expect(dev.revocations).toEqual([]);
      expect(JSON.parse(readFileSync(target, "utf8"))).toEqual(auth);
      for (const secret of [issued.idToken, issued.accessToken, issued.refreshToken]) expect(logout.stderr).not.toContain(secret);
    } finally {
      await dev.close();
    }
  });
});

describe("app-server with a lock it cannot get", () => {
  it("a login behind a lock held past the deadline gets an error naming it; the next request is answered; stdin EOF exits 0", async () => {
    const holder = await holdFlocks([path.join(home.dir, AUTH_LOCK_FILE)]);
    const server = new RawAppServer({ env: { CODEX_HOME: home.dir, CODEX_AUTH_LOCK_TIMEOUT_MS: "300" } });
    try {
      expect(await server.call(initializeMessage())).toMatchObject({ id: 1, result: {} });
      server.send({ id: 2, method: "account/login/start", params: { type: "apiKey", apiKey: "sk-hostile-lock-app-0004" } });
      server.send({ id: 3, method: "account/read", params: {} });
      expect(await server.next()).toEqual({
        id: 2,
        error: {
          code: -32603,
          message: `failed to save api key: timed out after 300 ms waiting for the lock on "${path.join(home.dir, AUTH_LOCK_FILE)}" (another codex-auth or Codex process holds it)`,
        },
      });
      expect(await server.next()).toEqual({ id: 3, result: expect.objectContaining({ account: null, requiresOpenaiAuth: true }) });
      expect(existsSync(path.join(home.dir, "auth.json"))).toBe(false);
      expect(await server.close()).toEqual({ code: 0, signal: null });
    } finally {
      await holder.release();
    }
  });

  it("stdin EOF while a login waits for the lock: the login is answered at its deadline, then the server exits 0", async () => {
    const holder = await holdFlocks([path.join(home.dir, AUTH_JSON_LOCK_FILE)]);
    const server = new RawAppServer({ env: { CODEX_HOME: home.dir, CODEX_AUTH_LOCK_TIMEOUT_MS: "300" } });
    try {
      expect(await server.call(initializeMessage())).toMatchObject({ id: 1, result: {} });
      server.send({ id: 2, method: "account/login/start", params: { type: "apiKey", apiKey: "sk-hostile-lock-app-0005" } });
      const exit = server.close();
      expect(await exit).toEqual({ code: 0, signal: null });
      const answer = JSON.parse(server.lines.find((line) => line.includes('"id":2')) ?? "null") as { error?: { message: string } } | null;
      expect(answer?.error?.message).toMatch(/^failed to save api key: timed out after 300 ms waiting for the lock on /);
    } finally {
      await holder.release();
    }
  });

  it("auth.lock as a directory: the login is refused at once, and the server goes on serving", async () => {
    mkdirSync(path.join(home.dir, AUTH_LOCK_FILE));
    const server = new RawAppServer({ env: { CODEX_HOME: home.dir } });
    expect(await server.call(initializeMessage())).toMatchObject({ id: 1, result: {} });
    expect(await server.call({ id: 2, method: "account/login/start", params: { type: "apiKey", apiKey: "sk-hostile-lock-app-0006" } })).toEqual({
      id: 2,
      error: { code: -32603, message: `failed to save api key: failed to open lock file "${path.join(home.dir, AUTH_LOCK_FILE)}": Is a directory (EISDIR)` },
    });
    expect(await server.call({ id: 3, method: "account/read", params: {} })).toEqual({ id: 3, result: expect.objectContaining({ account: null, requiresOpenaiAuth: true }) });
    expect(await server.close()).toEqual({ code: 0, signal: null });
  });
});
