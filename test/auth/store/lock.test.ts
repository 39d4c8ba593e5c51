import { spawn } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuthError } from "../../../src/auth/errors.js";
import { AUTH_JSON_LOCK_FILE, AUTH_LOCK_FILE, withAuthLock } from "../../../src/auth/store/lock.js";
import { tempDir, type TempDir } from "../../support/cli-process.js";
import { holdFlocks, isFlocked } from "./fixtures/flock-holder.js";

/**
 * The auth.json lock as Codex takes it: flock(2) on `auth.lock`, then on `auth.json.lock`. Other
 * processes (the holder fixture, which does what Codex does) are excluded and exclude us; every wait
 * ends at its deadline with an error naming the lock; lock paths that are not regular files are
 * refused at once.
 */
let home: TempDir;
beforeEach(() => (home = tempDir("codex-auth-lock-")));
afterEach(() => home.remove());

const outer = () => path.join(home.dir, AUTH_LOCK_FILE);
const inner = () => path.join(home.dir, AUTH_JSON_LOCK_FILE);

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "0"]);
  const pid = child.pid!;
  await new Promise((resolve) => child.on("exit", resolve));
  return pid;
}

describe("auth.json lock (flock, as Codex)", () => {
  it("holds flock on auth.lock and auth.json.lock while the function runs, and drops both after; the files stay, auth.json.lock 0600", async () => {
    const seen = await withAuthLock(home.dir, async () => ({ outer: isFlocked(outer()), inner: isFlocked(inner()) }));
    expect(seen).toEqual({ outer: true, inner: true });
    expect(isFlocked(outer())).toBe(false);
    expect(isFlocked(inner())).toBe(false);
    expect(statSync(inner()).mode & 0o777).toBe(0o600);
    expect(statSync(outer()).isFile()).toBe(true);
  });

  it("waits for another process holding auth.lock and runs once it lets go", async () => {
    const holder = await holdFlocks([outer()]);
    let ran = false;
    const locked = withAuthLock(home.dir, async () => (ran = true), { timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ran).toBe(false);
    await holder.release();
    await locked;
    expect(ran).toBe(true);
  });

  it("a lock held past the deadline ends in STORE_LOCK_TIMEOUT naming the held lock file; the function never runs", async () => {
    const holder = await holdFlocks([inner()]);
    try {
      let ran = false;
      const error = await withAuthLock(home.dir, async () => (ran = true), { timeoutMs: 150 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).code).toBe("STORE_LOCK_TIMEOUT");
      expect((error as AuthError).message).toBe(
        `timed out after 150 ms waiting for the lock on "${inner()}" (another codex-auth or Codex process holds it)`,
      );
      expect(ran).toBe(false);
      // Our auth.lock was given back on the failure path: another process can take it.
      expect(isFlocked(outer())).toBe(false);
    } finally {
      await holder.release();
    }
  });

  it("the deadline comes from CODEX_AUTH_LOCK_TIMEOUT_MS when none is given", async () => {
    const holder = await holdFlocks([outer()]);
    const saved = process.env.CODEX_AUTH_LOCK_TIMEOUT_MS;
    process.env.CODEX_AUTH_LOCK_TIMEOUT_MS = "120";
    try {
      const error = await withAuthLock(home.dir, async () => 1).catch((e: unknown) => e);
      expect((error as AuthError).message).toMatch(/^timed out after 120 ms waiting for the lock on /);
    } finally {
      if (saved === undefined) delete process.env.CODEX_AUTH_LOCK_TIMEOUT_MS;
      else process.env.CODEX_AUTH_LOCK_TIMEOUT_MS = saved;
      await holder.release();
    }
  });

  it("is re-entrant inside its own holder (a save inside a guarded refresh), and serializes separate holders in one process", async () => {
    expect(await withAuthLock(home.dir, () => withAuthLock(home.dir, async () => "nested"), { timeoutMs: 1_000 })).toBe("nested");
    const order: string[] = [];
    await Promise.all(
      ["a", "b", "c"].map((name) =>
        withAuthLock(home.dir, async () => {
          order.push(`${name}+`);
          await new Promise((resolve) => setTimeout(resolve, 5));
          order.push(`${name}-`);
        }),
      ),
    );
    expect(order).toEqual(["a+", "a-", "b+", "b-", "c+", "c-"]);
  });

  describe("lock paths that are not lock files (hostile CODEX_HOME) fail at once with a clear error", () => {
    it("auth.lock as a directory", async () => {
      mkdirSync(outer());
      const error = await withAuthLock(home.dir, async () => 1, { timeoutMs: 60_000 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "STORE_WRITE_FAILED", message: `failed to open lock file "${outer()}": Is a directory (EISDIR)` });
    });

    it("auth.json.lock as a dangling symlink: refused, and nothing is created at its target", async () => {
      const target = path.join(home.dir, "elsewhere", "planted");
      mkdirSync(path.dirname(target));
      symlinkSync(target, inner());
      const error = await withAuthLock(home.dir, async () => 1, { timeoutMs: 60_000 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "STORE_WRITE_FAILED", message: `failed to open lock file "${inner()}": it is a symbolic link` });
      expect(existsSync(target)).toBe(false);
      expect(isFlocked(outer())).toBe(false);
    });

    it("auth.lock as a symlink to a real file is refused too", async () => {
      const target = path.join(home.dir, "real-file");
      writeFileSync(target, "");
      symlinkSync(target, outer());
      await expect(withAuthLock(home.dir, async () => 1, { timeoutMs: 60_000 })).rejects.toMatchObject({ code: "STORE_WRITE_FAILED" });
    });
  });

  describe("debris of the lock files codex-auth used before", () => {
    it("removes old lock files of dead owners and unreadable ones; keeps a live owner's, and leaves directories alone", async () => {
      const dead = await deadPid();
      const owner = (pid: number) => JSON.stringify({ pid, host: hostname(), start: null, token: "t" });
      writeFileSync(path.join(home.dir, "auth.json.codex-auth.lock"), owner(dead));
      writeFileSync(path.join(home.dir, "auth.json.codex-auth.refresh.lock.break"), "garbage");
      writeFileSync(path.join(home.dir, `auth.json.codex-auth.lock.${dead}-1-1`), owner(dead));
      const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
      try {
        writeFileSync(path.join(home.dir, "auth.json.codex-auth.refresh.lock"), owner(sleeper.pid!));
        mkdirSync(path.join(home.dir, "auth.json.codex-auth.lock.break"));
        await withAuthLock(home.dir, async () => undefined, { timeoutMs: 5_000 });
        const left = readdirSync(home.dir).filter((name) => name.startsWith("auth.json.codex-auth")).sort();
        expect(left).toEqual(["auth.json.codex-auth.lock.break", "auth.json.codex-auth.refresh.lock"]);
        expect(lstatSync(path.join(home.dir, "auth.json.codex-auth.lock.break")).isDirectory()).toBe(true);
      } finally {
        sleeper.kill();
      }
    });
  });
});
