import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuthError } from "../../../src/auth/errors.js";
import { acquireFileLock, withFileLock } from "../../../src/auth/store/lock.js";
import { tempDir, type TempDir } from "../../support/cli-process.js";

let home: TempDir;
beforeEach(() => (home = tempDir("codex-auth-lock-")));
afterEach(() => home.remove());

const lockPath = () => path.join(home.dir, "test.lock");

/** A pid that belonged to a process which has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "0"]);
  const pid = child.pid!;
  await new Promise((resolve) => child.on("exit", resolve));
  return pid;
}

describe("file lock", () => {
  it("holds the owner's pid and host while held, and removes the lock file on release", async () => {
    const release = await acquireFileLock(lockPath());
    const owner = JSON.parse(readFileSync(lockPath(), "utf8"));
    expect(owner).toMatchObject({ pid: process.pid, host: hostname() });
    await release();
    expect(existsSync(lockPath())).toBe(false);
  });

  it("breaks a lock left by a dead process at once", async () => {
    writeFileSync(lockPath(), JSON.stringify({ pid: await deadPid(), host: hostname(), start: null, token: "dead" }));
    const result = await withFileLock(lockPath(), async () => "acquired", { timeoutMs: 5_000 });
    expect(result).toBe("acquired");
  });

  it("treats unreadable lock content as stale", async () => {
    writeFileSync(lockPath(), "garbage");
    expect(await withFileLock(lockPath(), async () => 1, { timeoutMs: 5_000 })).toBe(1);
  });

  it("waits for a live owner and gives up after the bounded wait, naming the owner", async () => {
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"]);
    try {
      writeFileSync(lockPath(), JSON.stringify({ pid: sleeper.pid, host: hostname(), start: null, token: "live" }));
      const error = await withFileLock(lockPath(), async () => 1, { timeoutMs: 200 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).code).toBe("STORE_LOCK_TIMEOUT");
      expect((error as AuthError).message).toBe(`timed out waiting for lock ${lockPath()} held by pid ${sleeper.pid} on ${hostname()}`);
      expect(JSON.parse(readFileSync(lockPath(), "utf8")).token).toBe("live");
    } finally {
      sleeper.kill();
    }
  });

  it("gives mutual exclusion to concurrent holders in one process", async () => {
    const counter = path.join(home.dir, "counter");
    writeFileSync(counter, "0");
    await Promise.all(
      Array.from({ length: 30 }, () =>
        withFileLock(lockPath(), async () => {
          const value = Number(readFileSync(counter, "utf8"));
          await new Promise((resolve) => setImmediate(resolve));
          writeFileSync(counter, String(value + 1));
        }),
      ),
    );
    expect(readFileSync(counter, "utf8")).toBe("30");
  });

  it("after acquiring, removes debris of dead holders (private temp files, a dead breaker's lock) and keeps live processes'", async () => {
    const dead = await deadPid();
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"]);
    try {
      const debris = [`test.lock.${dead}-1-1`, `test.lock.break.${dead}-2-2`];
      const live = [`test.lock.${sleeper.pid}-3-3`];
      for (const name of [...debris, ...live]) writeFileSync(path.join(home.dir, name), "{}");
      writeFileSync(`${lockPath()}.break`, JSON.stringify({ pid: dead, host: hostname(), start: null, token: "dead-breaker" }));
      writeFileSync(path.join(home.dir, "test.lockfile-unrelated"), "x");
      const release = await acquireFileLock(lockPath(), { timeoutMs: 5_000 });
      expect(readdirSync(home.dir).sort()).toEqual(["test.lock", ...live, "test.lockfile-unrelated"].sort());
      await release();
      expect(readdirSync(home.dir).sort()).toEqual([...live, "test.lockfile-unrelated"].sort());
    } finally {
      sleeper.kill();
    }
  });

  it("keeps a live breaker's break lock", async () => {
    writeFileSync(`${lockPath()}.break`, JSON.stringify({ pid: process.pid, host: hostname(), start: null, token: "live-breaker" }));
    await withFileLock(lockPath(), async () => undefined, { timeoutMs: 5_000 });
    expect(existsSync(`${lockPath()}.break`)).toBe(true);
  });
});
