import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
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
});
