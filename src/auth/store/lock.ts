import { readFileSync } from "node:fs";
import { link, readdir, readFile, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { AuthError } from "../errors.js";
import { deadlineMs } from "../../protocol/deadlines.js";

/**
 * A small cross-process lock: a lock file created atomically (write a private temp file, then
 * `link()` it to the lock path, which fails if the lock exists, so the lock never appears
 * half-written) holding the owner's pid, host and process start time.
 *
 * Why not proper-lockfile: it decides staleness by mtime, so the owner must keep touching the file
 * and, after a crash, every other process waits out the stale threshold (10 s by default). Here a
 * dead owner on the same host is detected at once (pid gone, or pid reused by a process that started
 * later), and waiting is bounded. Owners on other hosts (network home directories) cannot be probed
 * and are waited for until the timeout.
 */
export interface LockOwner {
  pid: number;
  host: string;
  /** /proc start time of the owning process (Linux), to tell a reused pid from the owner. */
  start: string | null;
  token: string;
}

export interface FileLockOptions {
  /** How long to wait for a live owner before giving up. */
  timeoutMs?: number;
}

let sequence = 0;

/** Holders in this process queue here first, so the file lock (and its polling) only arbitrates between processes. */
const inProcessTails = new Map<string, Promise<void>>();

export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const previous = inProcessTails.get(lockPath) ?? Promise.resolve();
  let done!: () => void;
  const tail = new Promise<void>((resolve) => (done = resolve));
  inProcessTails.set(lockPath, tail);
  await previous;
  try {
    const release = await acquireFileLock(lockPath, options);
    try {
      return await fn();
    } finally {
      await release();
    }
  } finally {
    done();
    if (inProcessTails.get(lockPath) === tail) inProcessTails.delete(lockPath);
  }
}

export async function acquireFileLock(lockPath: string, options: FileLockOptions = {}): Promise<() => Promise<void>> {
  const timeoutMs = options.timeoutMs ?? deadlineMs("CODEX_AUTH_LOCK_TIMEOUT_MS", 10_000);
  const owner: LockOwner = { pid: process.pid, host: hostname(), start: processStartTime(process.pid), token: `${process.pid}-${Date.now()}-${++sequence}` };
  const content = JSON.stringify(owner);
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    if (await tryCreate(lockPath, content, owner.token)) {
      await removeOrphans(lockPath);
      return async () => {
        // Only remove the lock if it is still ours (it could have been broken as stale by mistake).
        const current = await readOwner(lockPath);
        if (current?.token === owner.token) await unlink(lockPath).catch(() => undefined);
      };
    }
    const current = await readOwner(lockPath);
    if (current === null || isStale(current)) {
      await breakStaleLock(lockPath, current);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new AuthError("STORE_LOCK_TIMEOUT", `timed out waiting for lock ${lockPath} held by pid ${current.pid} on ${current.host}`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

async function tryCreate(lockPath: string, content: string, token: string): Promise<boolean> {
  const temp = `${lockPath}.${token}`;
  try {
    // Inside the try: a write that fails half-way (ENOSPC, EFBIG) must not leave the temp file behind.
    await writeFile(temp, content, { mode: 0o600, flag: "wx" });
    await link(temp, lockPath);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "EEXIST") return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** The lock's owner; null when the lock vanished or its content is unreadable (not ours to judge as live). */
async function readOwner(lockPath: string): Promise<LockOwner | null> {
  try {
    const value: unknown = JSON.parse(await readFile(lockPath, "utf8"));
    const owner = value as Partial<LockOwner>;
    if (typeof owner.pid === "number" && typeof owner.host === "string" && typeof owner.token === "string") {
      return { pid: owner.pid, host: owner.host, start: typeof owner.start === "string" ? owner.start : null, token: owner.token };
    }
    return { pid: -1, host: "", start: null, token: "" };
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return null;
    // Garbage content cannot come from link() creation; treat it as a dead owner.
    return { pid: -1, host: "", start: null, token: "" };
  }
}

function isStale(owner: LockOwner): boolean {
  if (owner.pid <= 0) return true;
  if (owner.host !== hostname()) return false;
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    return (error as { code?: string }).code === "ESRCH";
  }
  const start = processStartTime(owner.pid);
  return owner.start !== null && start !== null && start !== owner.start;
}

/**
 * Removes a stale lock. Breakers take a second lock (`<lock>.break`) so that only one of them at a
 * time rechecks and unlinks: without it, a slow breaker could unlink a fresh lock that another
 * process created after the first breaker removed the stale one. A breaker that itself died
 * mid-break (a window of a few syscalls) is detected the same way and its break lock removed.
 */
async function breakStaleLock(lockPath: string, seen: LockOwner | null): Promise<void> {
  if (seen === null) return;
  const breaker = `${lockPath}.break`;
  const token = `${process.pid}-${Date.now()}-${++sequence}`;
  const me: LockOwner = { pid: process.pid, host: hostname(), start: processStartTime(process.pid), token };
  if (!(await tryCreate(breaker, JSON.stringify(me), token))) {
    const other = await readOwner(breaker);
    if (other !== null && isStale(other)) await unlink(breaker).catch(() => undefined);
    await sleep(2);
    return;
  }
  try {
    const again = await readOwner(lockPath);
    if (again !== null && again.token === seen.token) await unlink(lockPath).catch(() => undefined);
  } finally {
    await unlink(breaker).catch(() => undefined);
  }
}

/**
 * Lock holders killed at the wrong moment leave debris: the private temp file of `tryCreate`
 * (`<lock>.<pid>-<ms>-<n>`, between its write and its unlink) and a break lock (`<lock>.break`,
 * and its own temp `<lock>.break.<pid>-...`). Once we hold the lock, what belongs to a dead
 * process on this host is removed; live processes' files are left alone. Best effort.
 */
async function removeOrphans(lockPath: string): Promise<void> {
  const directory = path.dirname(lockPath);
  const base = path.basename(lockPath);
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return;
  }
  const temp = new RegExp(`^${escapeRegExp(base)}\\.(?:break\\.)?(\\d+)-\\d+-\\d+$`);
  for (const name of names) {
    if (name === `${base}.break`) {
      const breaker = await readOwner(path.join(directory, name));
      if (breaker !== null && isStale(breaker)) await unlink(path.join(directory, name)).catch(() => undefined);
      continue;
    }
    const pid = Number(temp.exec(name)?.[1] ?? NaN);
    if (Number.isSafeInteger(pid) && pid !== process.pid && processIsGone(pid)) await unlink(path.join(directory, name)).catch(() => undefined);
  }
}

/** True only when no process with this pid exists on this host (ESRCH); a process we may not signal is alive. */
function processIsGone(pid: number): boolean {
  if (!(pid > 0)) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as { code?: string }).code === "ESRCH";
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function processStartTime(pid: number): string | null {
  if (process.platform !== "linux") return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22 (starttime); fields after the parenthesised command name are space-separated.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
