import { spawn, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { KEYRING_SERVICE, keyringAccount, NO_SECRET_SERVICE } from "../../src/auth/store/keyring-store.js";
import { CLI, cleanEnv, runCodexAuth, tempDir, type CliResult, type TempDir } from "../support/cli-process.js";
import { describeIf, itIf, keyutils, secretService } from "../support/requirements.js";
import { assertNoSecrets } from "../support/secrets.js";
import { startSecretService, withoutSecretService, type SecretService } from "../support/secret-service.js";

/**
 * The keyring stores through the real binding (@napi-rs/keyring), end to end, on the backend Codex
 * uses on Linux: the Secret Service over D-Bus, here Debian's gnome-keyring in a private
 * `dbus-run-session` (test/support/secret-service.ts). Without a Secret Service, `keyring` fails
 * with Codex's message (even where a kernel keyring exists: Codex never looks there, so neither do
 * we) and `auto` falls back to auth.json. The same cells against the real Codex binary are in
 * test/e2e/differential/.
 *
 * The Secret Service suite needs Debian's dbus-daemon, dbus-bin, gnome-keyring and libsecret-tools,
 * the kernel-keyring case keyutils: without them they are skipped and named at the end of the run
 * (under CI they fail: test/support/requirements.ts).
 */
const KEY = "sk-proj-keyring-secret-ABCDE";
const KEYRING = ["-c", "cli_auth_credentials_store=keyring"];
const AUTO = ["-c", "cli_auth_credentials_store=auto"];
const authJson = (home: TempDir) => path.join(home.dir, "auth.json");

let home: TempDir;
beforeEach(() => (home = tempDir("codex-auth-keyring-")));
afterEach(() => home.remove());

function run(args: string[], env: Record<string, string | undefined>, stdin?: string): Promise<CliResult> {
  return runCodexAuth(args, { env: { CODEX_HOME: home.dir, ...env }, ...(stdin === undefined ? {} : { stdin }) });
}

describeIf(secretService(), "with a Secret Service (gnome-keyring on a private D-Bus session)", () => {
  let secretService: SecretService;
  beforeAll(async () => {
    secretService = await startSecretService();
  });
  afterAll(() => secretService?.close());
  const env = () => ({ ...secretService.env });

  /** The stored secret as the Secret Service hands it to any client (libsecret's `secret-tool`). */
  function lookup(): string | null {
    const result = spawnSync("secret-tool", ["lookup", "service", KEYRING_SERVICE, "username", keyringAccount(home.dir)], {
      env: cleanEnv(env()),
      encoding: "utf8",
    });
    return result.status === 0 ? result.stdout : null;
  }

  it("keyring: login, status and logout go through the Secret Service under Codex's service and account; auth.json is never created", async () => {
    const login = await run([...KEYRING, "login", "--with-api-key"], env(), KEY);
    expect(login).toEqual({ code: 0, stdout: "", stderr: "Reading API key from stdin...\nAPI key saved. Authentication is checked when you send a request.\n" });
    // Codex's format in the keyring: compact JSON of auth.json.
    expect(lookup()).toBe(JSON.stringify({ auth_mode: "apikey", OPENAI_API_KEY: KEY }));
    const status = await run([...KEYRING, "login", "status"], env());
    expect(status).toEqual({ code: 0, stdout: "", stderr: "API key configured - sk-proj-***ABCDE\nAuthentication is checked when you send a request.\n" });
    const json = await run([...KEYRING, "login", "status", "--json"], env());
    expect(JSON.parse(json.stdout)).toMatchObject({ authMode: "apikey", source: "store" });
    const logout = await run([...KEYRING, "logout"], env());
    expect(logout).toEqual({ code: 0, stdout: "", stderr: "Successfully logged out\n" });
    expect(lookup()).toBeNull();
    expect(await run([...KEYRING, "login", "status"], env())).toEqual({ code: 1, stdout: "", stderr: "Not logged in\n" });
    expect(existsSync(authJson(home))).toBe(false);
    assertNoSecrets([login, status, json, logout].flatMap((r) => [r.stdout, r.stderr]), [KEY]);
  });

  it("auto: uses the keyring when there is one, and a keyring save removes the auth.json fallback", async () => {
    expect((await run(["login", "--with-api-key"], env(), "sk-proj-file-first-000000")).code).toBe(0);
    expect(existsSync(authJson(home))).toBe(true);
    expect((await run([...AUTO, "login", "--with-api-key"], env(), "sk-proj-auto-keyring-00000")).code).toBe(0);
    expect(existsSync(authJson(home))).toBe(false);
    expect(lookup()).toContain("sk-proj-auto-keyring-00000");
    expect((await run([...AUTO, "login", "status"], env())).stderr).toBe("API key configured - sk-proj-***00000\nAuthentication is checked when you send a request.\n");
    expect(await run(["login", "status"], env())).toEqual({ code: 1, stdout: "", stderr: "Not logged in\n" });
  });
});

describe("without a Secret Service (no D-Bus session, as on a headless server)", () => {
  const env = () => withoutSecretService();

  it("keyring: login, status and logout fail with Codex's message, and nothing is written anywhere", async () => {
    const login = await run([...KEYRING, "login", "--with-api-key"], env(), KEY);
    expect(login).toEqual({
      code: 1,
      stdout: "",
      stderr: `Reading API key from stdin...\nError logging in: failed to write OAuth tokens to keyring: ${NO_SECRET_SERVICE}\n`,
    });
    expect(existsSync(authJson(home))).toBe(false);
    expect(await run([...KEYRING, "login", "status"], env())).toEqual({
      code: 1,
      stdout: "",
      stderr: `Error checking login status: failed to load CLI auth from keyring: ${NO_SECRET_SERVICE}\n`,
    });
    expect(await run([...KEYRING, "logout"], env())).toEqual({ code: 1, stdout: "", stderr: `Error logging out: failed to delete auth from keyring: ${NO_SECRET_SERVICE}\n` });
    assertNoSecrets([login.stdout, login.stderr], [KEY]);
  });

  itIf(keyutils(), "keyring: a kernel session keyring (keyutils) is not used either, since Codex never looks there", async () => {
    // `keyctl session -` gives the CLI a fresh kernel session keyring (Debian package keyutils).
    const child = spawn("keyctl", ["session", "-", process.execPath, CLI, ...KEYRING, "login", "--with-api-key"], {
      env: cleanEnv({ CODEX_HOME: home.dir, ...env() }),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.stdout.resume();
    child.stdin.end(KEY);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", resolve);
    });
    // keyctl itself announces the new session keyring first.
    expect(stderr).toMatch(/^Joined session keyring: \d+\n/);
    expect({ code, stderr: stderr.replace(/^Joined session keyring: \d+\n/, "") }).toEqual({ code: 1, stderr: `Reading API key from stdin...\nError logging in: failed to write OAuth tokens to keyring: ${NO_SECRET_SERVICE}\n` });
    expect(existsSync(authJson(home))).toBe(false);
  });

  it("auto: falls back to auth.json (0600) for login, status and logout", async () => {
    const login = await run([...AUTO, "login", "--with-api-key"], env(), KEY);
    expect(login).toEqual({ code: 0, stdout: "", stderr: "Reading API key from stdin...\nAPI key saved. Authentication is checked when you send a request.\n" });
    expect(statSync(authJson(home)).mode & 0o777).toBe(0o600);
    // The file store reads the same file.
    expect((await run(["login", "status"], env())).stderr).toBe("API key configured - sk-proj-***ABCDE\nAuthentication is checked when you send a request.\n");
    expect((await run([...AUTO, "login", "status"], env())).stderr).toBe("API key configured - sk-proj-***ABCDE\nAuthentication is checked when you send a request.\n");
    // Unlike Codex, whose auto logout fails without a keyring, the file is removed (README).
    expect(await run([...AUTO, "logout"], env())).toEqual({ code: 0, stdout: "", stderr: "Successfully logged out\n" });
    expect(existsSync(authJson(home))).toBe(false);
  });
});

it("keys entries by CODEX_HOME like Codex (`cli|` + 16 hex digits)", () => {
  expect(keyringAccount(home.dir)).toMatch(/^cli\|[0-9a-f]{16}$/);
});
