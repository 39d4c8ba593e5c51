import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateAuthDotJson } from "../../generated/storage/auth-json.validators.js";
import { AUTH_JSON_LOCK_FILE, AUTH_LOCK_FILE, FileAuthStore } from "../../src/auth/store/index.js";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { holdFlocks } from "../auth/store/fixtures/flock-holder.js";
import { CLI, cleanEnv, runCodexAuth, tempDir, type CliResult } from "../support/cli-process.js";
import { run } from "../support/run.js";
import { until } from "../support/helpers.js";
import { CapturedStreams } from "../support/secrets.js";
import { DIST, expectHomeUnchanged, scaled, scaledTimeout, seededRandom, snapshotHome, waitForDist } from "./support.js";
import { describeIf, prlimitCommand, rootTmpfs, unshareMounts } from "../support/requirements.js";

/**
 * Storage faults with real files and real processes: a read-only CODEX_HOME (a read-only bind
 * mount in a private mount namespace), a full disk (a tiny tmpfs) and a file-size limit, writers
 * SIGKILLed at random moments (between write and rename among them), and stale locks. In every
 * case the previous auth.json survives intact (bytes and 0600), and debris is cleaned up by the
 * next writer.
 */

const captured = new CapturedStreams();
const secrets: string[] = [];
/** Codex's two lock files: created by the first write (Codex's or ours), empty, never removed. */
const LOCKS = [AUTH_JSON_LOCK_FILE, AUTH_LOCK_FILE].sort();
/** What codex-auth locked with before it took Codex's flock locks: now only debris. */
const LEGACY_LOCK = "auth.json.codex-auth.lock";

function secret(prefix: string): string {
  const value = `${prefix}${randomBytes(16).toString("hex")}`;
  secrets.push(value);
  return value;
}

afterAll(() => captured.assertNoSecrets(secrets));

function record(label: string, result: { stdout: string; stderr: string }): void {
  captured.add(`${label} stdout`, result.stdout);
  captured.add(`${label} stderr`, result.stderr);
}

/** auth.json exactly as our serializer (and Codex) writes an API key. */
function apiKeyFile(key: string): string {
  return `{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "${key}"\n}`;
}

/** auth.json as a previous login left it, with the (empty) lock files every write leaves. */
function seed(home: string, key: string): void {
  writeFileSync(path.join(home, "auth.json"), apiKeyFile(key), { mode: 0o600 });
  writeFileSync(path.join(home, AUTH_LOCK_FILE), "", { mode: 0o644 });
  writeFileSync(path.join(home, AUTH_JSON_LOCK_FILE), "", { mode: 0o600 });
}

/** What the privileged cases need from outside npm: util-linux, root (test/support/requirements.ts). */
const UNSHARE = unshareMounts();

/** The CLI with `dir` read-only: bind-mounted onto itself read-only in a private mount namespace, so only this child sees it. */
function runWithReadOnly(dir: string, args: string[], options: { stdin?: string; env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
  const script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"';
  return run("unshare", [...UNSHARE.flags!, "sh", "-c", script, dir, process.execPath, CLI, ...args], {
    env: cleanEnv(options.env),
    input: options.stdin ?? "",
  });
}

describeIf(UNSHARE, "read-only CODEX_HOME (a read-only bind mount in a private mount namespace; needs unshare)", () => {
  let dev: DevServer;
  beforeAll(async () => {
    waitForDist();
    dev = await startDevServer();
  });
  afterAll(() => dev.close());

  it("login --with-api-key, login --with-access-token and logout fail with the path and EROFS; login status still reads; auth.json intact", async () => {
    const home = tempDir("codex-auth-ro-");
    try {
      const stored = secret("sk-ro-stored-");
      seed(home.dir, stored);
      const before = snapshotHome(home.dir);
      const env = { ...dev.env(), CODEX_HOME: home.dir };
      const lockError = `failed to open lock file "${path.join(home.dir, AUTH_LOCK_FILE)}": Read-only file system (EROFS)`;

      const apiKey = await runWithReadOnly(home.dir, ["login", "--with-api-key"], { stdin: secret("sk-ro-new-"), env });
      record("ro api key", apiKey);
      expect(apiKey).toMatchObject({ code: 1, stdout: "", stderr: `Reading API key from stdin...\nError logging in: ${lockError}\n` });

      const pat = await runWithReadOnly(home.dir, ["login", "--with-access-token"], { stdin: "at-demo-valid", env });
      record("ro pat", pat);
      expect(pat).toMatchObject({ code: 1, stderr: `Reading access token from stdin...\nError logging in with access token: ${lockError}\n` });
      // The token was checked first (nothing is written on any failure, and here nothing could be).
      expect(dev.count("GET", "/api/accounts/v1/user-auth-credential/whoami")).toBe(1);

      const logout = await runWithReadOnly(home.dir, ["logout"], { env });
      record("ro logout", logout);
      expect(logout).toMatchObject({ code: 1, stderr: `Error logging out: ${lockError}\n` });

      const status = await runWithReadOnly(home.dir, ["login", "status"], { env });
      record("ro status", status);
      expect(status.code).toBe(0);
      expect(status.stderr).toMatch(/^API key configured - sk-ro-st\*\*\*[0-9a-f]{5}\n/);

      expectHomeUnchanged(home.dir, before, "read-only CODEX_HOME");
    } finally {
      home.remove();
    }
  });
});

/** A tmpfs of `sizeKb` at a fresh temp dir (root only); `fill()` takes every free page, `free(n)` gives n back. */
function tinyTmpfs(sizeKb: number) {
  const dir = mkdtempSync(path.join(tmpdir(), "codex-auth-full-"));
  const mount = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKb}k,mode=0700`, "tmpfs", dir], { encoding: "utf8" });
  if (mount.status !== 0) throw new Error(`mount tmpfs failed: ${mount.stderr}`);
  const fillers: string[] = [];
  return {
    dir,
    /** Writes 4 KiB files until ENOSPC: afterwards no page is free. */
    fill(): void {
      for (let i = 0; ; i++) {
        const file = path.join(dir, `filler-${String(i).padStart(3, "0")}`);
        try {
          writeFileSync(file, Buffer.alloc(4096, 1));
          fillers.push(file);
        } catch (error) {
          expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
          rmSync(file, { force: true });
          return;
        }
      }
    },
    free(pages: number): void {
      for (const file of fillers.splice(0, pages)) unlinkSync(file);
    },
    remove(): void {
      spawnSync("umount", ["-l", dir]);
      rmdirSync(dir);
    },
  };
}

describeIf(rootTmpfs(), "disk full (a 64 KiB tmpfs as CODEX_HOME; needs root to mount)", () => {
  it("no room for the new auth.json: ENOSPC with the path, the old file intact, no temp or lock file left; it works once there is room", async () => {
    const fs = tinyTmpfs(64);
    try {
      seed(fs.dir, secret("sk-full-stored-"));
      fs.fill();
      fs.free(2); // room for the lock file, not for a 10 KB auth.json
      const before = snapshotHome(fs.dir);
      const bigKey = secret(`sk-full-new-${"k".repeat(10_000)}-`);
      const result = await runCodexAuth(["login", "--with-api-key"], { stdin: bigKey, env: { CODEX_HOME: fs.dir } });
      record("full: temp write", result);
      expect(result).toMatchObject({
        code: 1,
        stderr: `Reading API key from stdin...\nError logging in: failed to write CLI auth to file "${path.join(fs.dir, "auth.json")}": No space left on device (ENOSPC)\n`,
      });
      expectHomeUnchanged(fs.dir, before, "ENOSPC on the temp file");

      fs.free(3);
      const ok = await runCodexAuth(["login", "--with-api-key"], { stdin: bigKey, env: { CODEX_HOME: fs.dir } });
      record("full: after freeing", ok);
      expect(ok.code).toBe(0);
      expect(readFileSync(path.join(fs.dir, "auth.json"), "utf8")).toBe(apiKeyFile(bigKey));
    } finally {
      fs.remove();
    }
  });

  it("no room at all: login fails with ENOSPC naming auth.json (the empty lock files need no data), nothing changed; logout still frees the space", async () => {
    const fs = tinyTmpfs(64);
    try {
      seed(fs.dir, secret("sk-full-stored-"));
      fs.fill();
      const before = snapshotHome(fs.dir);
      const result = await runCodexAuth(["login", "--with-api-key"], { stdin: secret("sk-full-new-"), env: { CODEX_HOME: fs.dir } });
      record("full: lock", result);
      expect(result).toMatchObject({
        code: 1,
        stderr: `Reading API key from stdin...\nError logging in: failed to write CLI auth to file "${path.join(fs.dir, "auth.json")}": No space left on device (ENOSPC)\n`,
      });
      expectHomeUnchanged(fs.dir, before, "ENOSPC with no free page");

      // Logging out is how a user gets the space back: it must not need space itself.
      const logout = await runCodexAuth(["logout"], { env: { CODEX_HOME: fs.dir } });
      record("full: logout", logout);
      expect(logout).toMatchObject({ code: 0, stderr: "Successfully logged out\n" });
      expect(readdirSync(fs.dir).filter((name) => !name.startsWith("filler-"))).toEqual(LOCKS);
    } finally {
      fs.remove();
    }
  });
});

describeIf(prlimitCommand(), "file-size limit (RLIMIT_FSIZE through prlimit: EFBIG, no privileges needed)", () => {
  it("a write cut short by the limit fails with the path, the old file intact and no temp file left", async () => {
    const home = tempDir("codex-auth-fsize-");
    try {
      seed(home.dir, secret("sk-fsize-stored-"));
      const before = snapshotHome(home.dir);
      waitForDist();
      // 4 KiB: enough for the lock file, not for a 10 KB key. Node ignores SIGXFSZ, so write() gets EFBIG.
      const result = await run("prlimit", ["--fsize=4096", process.execPath, CLI, "login", "--with-api-key"], {
        env: cleanEnv({ CODEX_HOME: home.dir }),
        input: secret(`sk-fsize-new-${"k".repeat(10_000)}-`),
      });
      record("fsize", result);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(`^Reading API key from stdin\\.\\.\\.\\nError logging in: failed to write CLI auth to file "${home.dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/auth\\.json": [^\\n]*EFBIG[^\\n]*\\n$`),
      );
      expectHomeUnchanged(home.dir, before, "EFBIG");
    } finally {
      home.remove();
    }
  });
});

/** What a killed writer may leave besides auth.json and the lock files: its `.auth-XXXXXX` temp file, nothing else. */
function debris(home: string): string[] {
  return readdirSync(home).filter((name) => name !== "auth.json" && !LOCKS.includes(name));
}
const TEMP = /^\.auth-[A-Za-z0-9]{6}$/;

/** A store-level writer: saves distinct API keys in a tight loop and reports each completed save on stdout. */
const WRITER = `
const { FileAuthStore } = await import(process.argv[2]);
const store = new FileAuthStore(process.argv[1]);
for (let i = 0; ; i++) {
  await store.save({ auth_mode: "apikey", OPENAI_API_KEY: "sk-kill-" + process.pid + "-" + i });
  process.stdout.write(i + "\\n");
}
`;

/**
 * The kill loops' children touch only files: without NODE_EXTRA_CA_CERTS (where a machine sets it,
 * every Node start parses that CA bundle, about twice the CPU of a bare start).
 */
const LOCAL_ONLY = { ...process.env, NODE_EXTRA_CA_CERTS: undefined };

describe("crash between write and rename: writers SIGKILLed at random moments", () => {
  it(`store-level: ${scaled(40)} writers killed mid-loop; auth.json is always the last or the in-flight save, 0600, and the next writer cleans up`, async () => {
    waitForDist();
    const home = tempDir("codex-auth-kill-");
    const random = seededRandom(1);
    let caughtMidWrite = 0;
    try {
      for (let round = 0; round < scaled(40); round++) {
        const child = spawn(process.execPath, ["--input-type=module", "-e", WRITER, home.dir, DIST("src/auth/store/file-store.js")], { env: LOCAL_ONLY, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
        let exited = false;
        const closed = new Promise<void>((resolve) => child.on("close", () => ((exited = true), resolve())));
        // Wait for a first completed save (so the previous writer's debris is already swept), then kill at a random moment.
        // A writer that dies first ends the wait too: its stderr is asserted empty below.
        await new Promise<void>((resolve) => {
          const check = () => (out.includes("\n") || exited ? resolve() : setTimeout(check, 2));
          check();
        });
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 25)));
        child.kill("SIGKILL");
        await closed;
        expect(err).toBe("");

        const completed = out.split("\n").filter(Boolean).map(Number);
        const last = completed[completed.length - 1]!;
        const text = readFileSync(path.join(home.dir, "auth.json"), "utf8");
        const allowed = [last, last + 1].map((i) => apiKeyFile(`sk-kill-${child.pid}-${i}`));
        expect(allowed, `round ${round}: auth.json must be the last completed save or the one in flight`).toContain(text);
        expect(validateAuthDotJson(JSON.parse(text))).toBe(true);
        expect(statSync(path.join(home.dir, "auth.json")).mode & 0o777).toBe(0o600);
        // At most the temp file of the writer just killed: each save sweeps older ones under the lock first.
        const left = debris(home.dir);
        expect(left.length, `round ${round}: ${left.join(", ")}`).toBeLessThanOrEqual(1);
        for (const name of left) expect(name, `round ${round}`).toMatch(TEMP);
        if (left.length > 0) caughtMidWrite++;
      }
      // A final, ordinary login: succeeds at once and leaves nothing but auth.json.
      const key = secret("sk-kill-final-");
      const final = await runCodexAuth(["login", "--with-api-key"], { stdin: key, env: { CODEX_HOME: home.dir } });
      record("kill loop final login", final);
      expect(final.code).toBe(0);
      expect(readdirSync(home.dir).sort()).toEqual(["auth.json", ...LOCKS].sort());
      expect(readFileSync(path.join(home.dir, "auth.json"), "utf8")).toBe(apiKeyFile(key));
      // Some kills must have landed between the temp file's creation and the rename, or the loop proved little.
      expect(caughtMidWrite).toBeGreaterThan(0);
    } finally {
      home.remove();
    }
  }, scaledTimeout(60_000));

  it(`CLI-level: ${scaled(12)} \`login --with-api-key\` processes killed at random moments; auth.json is the old or the new file, never anything else`, async () => {
    waitForDist();
    const home = tempDir("codex-auth-kill-cli-");
    const random = seededRandom(2);
    try {
      let current = secret("sk-kill-cli-seed-");
      seed(home.dir, current);
      // One timed run tells how long a login takes here, so kills spread over its whole life.
      const probe = Date.now();
      const warm = await runCodexAuth(["login", "--with-api-key"], { stdin: current, env: { CODEX_HOME: home.dir } });
      expect(warm.code).toBe(0);
      const span = Math.max(50, Date.now() - probe);
      for (let round = 0; round < scaled(12); round++) {
        const key = secret(`sk-kill-cli-${round}-`);
        const child = spawn(process.execPath, [CLI, "login", "--with-api-key"], { env: cleanEnv({ CODEX_HOME: home.dir }), stdio: ["pipe", "pipe", "pipe"] });
        let err = "";
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
        const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
        child.stdin.end(key);
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * span)));
        child.kill("SIGKILL");
        const code = await closed;
        captured.add(`kill cli ${round}`, err);
        const text = readFileSync(path.join(home.dir, "auth.json"), "utf8");
        expect([apiKeyFile(current), apiKeyFile(key)], `round ${round}`).toContain(text);
        if (code === 0) expect(text).toBe(apiKeyFile(key));
        expect(statSync(path.join(home.dir, "auth.json")).mode & 0o777).toBe(0o600);
        if (text === apiKeyFile(key)) current = key;
      }
      const status = await runCodexAuth(["login", "status"], { env: { CODEX_HOME: home.dir } });
      record("kill cli status", status);
      expect(status.code).toBe(0);
      const final = await runCodexAuth(["login", "--with-api-key"], { stdin: current, env: { CODEX_HOME: home.dir } });
      expect(final.code).toBe(0);
      expect(readdirSync(home.dir).sort()).toEqual(["auth.json", ...LOCKS].sort());
    } finally {
      home.remove();
    }
  }, scaledTimeout(60_000));
});

/** Whether a process other than this one and `except` has `file` open (Linux /proc). */
function openedByAnother(file: string, except: number): boolean {
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === except || Number(pid) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === file) return true;
      } catch {
        // closed meanwhile
      }
    }
  }
  return false;
}

/** A pid that belonged to a process which has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "0"]);
  const pid = child.pid!;
  await new Promise((resolve) => child.on("close", resolve));
  return pid;
}

function writeLegacyLock(home: string, owner: { pid: number }, name = LEGACY_LOCK): void {
  writeFileSync(path.join(home, name), JSON.stringify({ host: hostname(), start: null, token: `test-${owner.pid}`, ...owner }), { mode: 0o600 });
}

describe("lock files: codex-auth's old ones, and flock held by another process (Codex, or another codex-auth)", () => {
  const login = (home: string, key: string, env: Record<string, string> = {}) =>
    runCodexAuth(["login", "--with-api-key"], { stdin: key, env: { CODEX_HOME: home, ...env } });

  it.each([
    ["a dead process", async (home: string) => writeLegacyLock(home, { pid: await deadPid() })],
    ["unreadable content", async (home: string) => writeFileSync(path.join(home, LEGACY_LOCK), "\u0000garbage")],
    [
      "a dead owner plus a dead breaker's break lock and orphaned temp files",
      async (home: string) => {
        const dead = await deadPid();
        writeLegacyLock(home, { pid: dead });
        writeLegacyLock(home, { pid: dead }, `${LEGACY_LOCK}.break`);
        writeFileSync(path.join(home, `${LEGACY_LOCK}.${dead}-1-1`), "{}");
        writeFileSync(path.join(home, `.auth.json.${dead}.1.1.tmp`), '{\n  "auth_mode": "apik');
      },
    ],
  ])("an old codex-auth lock file left by %s: the next login proceeds at once and sweeps it", async (_label, leave) => {
    const home = tempDir("codex-auth-stale-");
    try {
      seed(home.dir, secret("sk-stale-old-"));
      await leave(home.dir);
      const key = secret("sk-stale-new-");
      const result = await login(home.dir, key);
      record("stale", result);
      expect(result).toMatchObject({ code: 0, stderr: "Reading API key from stdin...\nAPI key saved. Authentication is checked when you send a request.\n" });
      expect(readdirSync(home.dir).sort()).toEqual(["auth.json", ...LOCKS].sort());
      expect(readFileSync(path.join(home.dir, "auth.json"), "utf8")).toBe(apiKeyFile(key));
    } finally {
      home.remove();
    }
  });

  it("an old codex-auth lock file of a live process no longer excludes anyone: the login proceeds, the file is left to its owner", async () => {
    const home = tempDir("codex-auth-legacy-live-");
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"]);
    try {
      seed(home.dir, secret("sk-legacy-old-"));
      writeLegacyLock(home.dir, { pid: holder.pid! });
      const result = await login(home.dir, secret("sk-legacy-new-"));
      record("legacy live", result);
      expect(result.code).toBe(0);
      expect(existsSync(path.join(home.dir, LEGACY_LOCK))).toBe(true);
    } finally {
      holder.kill();
      home.remove();
    }
  });

  it("auth.lock flocked by another process: the login waits (auth.json untouched meanwhile) and completes once it is released", async () => {
    const home = tempDir("codex-auth-held-");
    try {
      seed(home.dir, secret("sk-held-old-"));
      const holder = await holdFlocks([path.join(home.dir, AUTH_LOCK_FILE)]);
      const before = snapshotHome(home.dir);
      const key = secret("sk-held-new-");
      const pending = login(home.dir, key);
      // Once the login has opened auth.lock it is polling for it: it must be waiting, the file untouched.
      await until(() => openedByAnother(path.join(home.dir, AUTH_LOCK_FILE), holder.pid), "the login to open auth.lock");
      expectHomeUnchanged(home.dir, before, "while the lock is held");
      await holder.release();
      const result = await pending;
      record("held", result);
      expect(result.code).toBe(0);
      expect(readFileSync(path.join(home.dir, "auth.json"), "utf8")).toBe(apiKeyFile(key));
      expect(readdirSync(home.dir).sort()).toEqual(["auth.json", ...LOCKS].sort());
    } finally {
      home.remove();
    }
  });

  it.each([AUTH_LOCK_FILE, AUTH_JSON_LOCK_FILE])("%s never released: the login gives up at its deadline (CODEX_AUTH_LOCK_TIMEOUT_MS), naming the lock; nothing changes", async (held) => {
    const home = tempDir("codex-auth-held-forever-");
    try {
      seed(home.dir, secret("sk-foreign-old-"));
      const holder = await holdFlocks([path.join(home.dir, held)]);
      try {
        const before = snapshotHome(home.dir);
        const result = await login(home.dir, secret("sk-foreign-new-"), { CODEX_AUTH_LOCK_TIMEOUT_MS: "300" });
        record("lock timeout", result);
        expect(result).toMatchObject({
          code: 1,
          stderr: `Reading API key from stdin...\nError logging in: timed out after 300 ms waiting for the lock on "${path.join(home.dir, held)}" (another codex-auth or Codex process holds it)\n`,
        });
        expectHomeUnchanged(home.dir, before, "lock timeout");
      } finally {
        await holder.release();
      }
    } finally {
      home.remove();
    }
  });

  it("in-process, with a short wait: save and delete (logout) both wait for a held lock and end at the deadline; nothing changes", async () => {
    const home = tempDir("codex-auth-foreign-inproc-");
    try {
      seed(home.dir, secret("sk-foreign-inproc-"));
      const holder = await holdFlocks([path.join(home.dir, AUTH_LOCK_FILE)]);
      try {
        const before = snapshotHome(home.dir);
        const store = new FileAuthStore(home.dir, { lockTimeoutMs: 200 });
        await expect(store.save({ auth_mode: "apikey", OPENAI_API_KEY: secret("sk-x-") })).rejects.toMatchObject({ code: "STORE_LOCK_TIMEOUT" });
        await expect(store.delete()).rejects.toMatchObject({ code: "STORE_LOCK_TIMEOUT" });
        expectHomeUnchanged(home.dir, before, "held lock");
      } finally {
        await holder.release();
      }
    } finally {
      home.remove();
    }
  });
});
