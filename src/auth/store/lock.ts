import { AsyncLocalStorage } from "node:async_hooks";
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync } from "node:fs";
import { readdir, unlink } from "node:fs/promises";
import path from "node:path";
import { AuthError, describeSystemError } from "../errors.js";
import { tryLockExclusive } from "./flock.js";
import { AUTH_JSON_LOCK_FILE, AUTH_LOCK_FILE } from "./lock-names.js";
import { deadlineMs } from "../../protocol/deadlines.js";

/**
 * The cross-process lock on `$CODEX_HOME/auth.json`, taken exactly as Codex 0.169.0+ takes it
 * (seen with strace on the real binary): open `auth.lock` (create, 0666) and `flock(LOCK_EX)`,
 * then open `auth.json.lock` (create, 0600) and `flock(LOCK_EX|LOCK_NB)`. Both tools therefore
 * exclude each other, in the same order, so neither can deadlock the other.
 *
 * Codex blocks in `flock(LOCK_EX)` without a deadline; we never block the event loop: each lock
 * is polled with LOCK_NB and a growing back-off until the deadline, then a STORE_LOCK_TIMEOUT
 * error names the lock file. An flock lock belongs to the open file: it ends when the holder closes
 * the file or dies, so there is no stale lock to break.
 */
export { AUTH_LOCK_FILE, AUTH_JSON_LOCK_FILE };

/** The deadline knob: how long any codex-auth process waits for the auth.json lock (ms). */
export const LOCK_TIMEOUT_ENV = "CODEX_AUTH_LOCK_TIMEOUT_MS";
/** A refresh holds the lock across its request (up to 10 s), so waiters allow for that and more. */
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

export interface AuthLockOptions {
  /** Default: env CODEX_AUTH_LOCK_TIMEOUT_MS, else 30 s. */
  timeoutMs?: number;
}

/** Which CODEX_HOMEs the current async context already holds: a save inside a guarded refresh does not lock twice. */
const held = new AsyncLocalStorage<ReadonlySet<string>>();

/** Holders in this process queue here first, so the flock (and its polling) only arbitrates between processes. */
const inProcessTails = new Map<string, Promise<void>>();

/** Runs `fn` holding Codex's auth.json locks in `codexHome` (re-entrant within one async context). */
export async function withAuthLock<T>(codexHome: string, fn: () => Promise<T>, options: AuthLockOptions = {}): Promise<T> {
  const home = path.resolve(codexHome);
  const outer = held.getStore();
  if (outer?.has(home)) return fn();

  const previous = inProcessTails.get(home) ?? Promise.resolve();
  let done!: () => void;
  const tail = new Promise<void>((resolve) => (done = resolve));
  inProcessTails.set(home, tail);
  try {
    await previous;
    const release = await acquireAuthLock(home, options);
    try {
      return await held.run(new Set([...(outer ?? []), home]), fn);
    } finally {
      release();
    }
  } finally {
    done();
    if (inProcessTails.get(home) === tail) inProcessTails.delete(home);
  }
}

/** Takes both locks (auth.lock, then auth.json.lock) within one deadline; returns their release. */
export async function acquireAuthLock(codexHome: string, options: AuthLockOptions = {}): Promise<() => void> {
  const timeoutMs = options.timeoutMs ?? lockTimeoutFromEnv();
  const deadline = Date.now() + timeoutMs;
  const outerPath = path.join(codexHome, AUTH_LOCK_FILE);
  const outer = openLockFile(outerPath, 0o666);
  try {
    await waitForLock(outer, outerPath, deadline, timeoutMs);
    const innerPath = path.join(codexHome, AUTH_JSON_LOCK_FILE);
    const inner = openLockFile(innerPath, 0o600);
    try {
      await waitForLock(inner, innerPath, deadline, timeoutMs);
    } catch (error) {
      closeSync(inner);
      throw error;
    }
    await removeLegacyLockDebris(codexHome);
    // Closing a file drops its flock; auth.json.lock first, the reverse of taking them.
    return () => {
      closeSync(inner);
      closeSync(outer);
    };
  } catch (error) {
    closeSync(outer);
    throw error;
  }
}

function lockTimeoutFromEnv(): number {
  return deadlineMs(LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT_MS);
}

/**
 * Opens (creating) a lock file for reading and writing. Never follows a symbolic link (a planted
 * link must not make us create a file elsewhere) and never blocks on a FIFO; anything but a
 * regular file is refused with an error that names it, at once.
 */
function openLockFile(lockPath: string, mode: number): number {
  const flags = constants.O_RDWR | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
  let fd: number;
  try {
    fd = openSync(lockPath, flags, mode);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const what = code === "ELOOP" || isSymbolicLink(lockPath) ? "it is a symbolic link" : describeSystemError(error);
    throw new AuthError("STORE_WRITE_FAILED", `failed to open lock file "${lockPath}": ${what}`, { cause: error });
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new AuthError("STORE_WRITE_FAILED", `failed to open lock file "${lockPath}": it is not a regular file`);
  }
  return fd;
}

function isSymbolicLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Polls LOCK_EX|LOCK_NB until it is granted or the deadline passes; the deadline is checked on every path. */
async function waitForLock(fd: number, lockPath: string, deadline: number, timeoutMs: number): Promise<void> {
  let delay = 1;
  for (;;) {
    let granted: boolean;
    try {
      granted = tryLockExclusive(fd);
    } catch (error) {
      throw new AuthError("STORE_WRITE_FAILED", `failed to lock "${lockPath}": ${describeSystemError(error)}`, { cause: error });
    }
    if (granted) return;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new AuthError(
        "STORE_LOCK_TIMEOUT",
        `timed out after ${timeoutMs} ms waiting for the lock on "${lockPath}" (another codex-auth or Codex process holds it)`,
      );
    }
    await sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, 25);
  }
}

/**
 * codex-auth before the flock lock used its own lock files (`auth.json.codex-auth.lock`, the refresh
 * lock, their `.break` locks and `<lock>.<pid>-<ms>-<n>` temp files). Nothing uses them now; the
 * ones a dead process left are removed, best effort. Only regular files are touched.
 */
const LEGACY_LOCK = /^auth\.json\.codex-auth(?:\.refresh)?\.lock(?:\.break)?(?:\.(\d+)-\d+-\d+)?$/;

async function removeLegacyLockDebris(codexHome: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(codexHome);
  } catch {
    return;
  }
  for (const name of names) {
    const match = LEGACY_LOCK.exec(name);
    if (match === null) continue;
    const file = path.join(codexHome, name);
    try {
      if (!lstatSync(file).isFile()) continue;
      const pid = match[1] !== undefined ? Number(match[1]) : ownerPid(file);
      if (pid !== null && pid !== process.pid && !processIsGone(pid)) continue;
      await unlink(file);
    } catch {
      // best effort
    }
  }
}

/** The pid recorded in a legacy lock file; -1 (a dead owner) for content no live owner writes. */
function ownerPid(file: string): number | null {
  try {
    const owner = JSON.parse(readFileSync(file, "utf8")) as { pid?: unknown };
    return typeof owner.pid === "number" && Number.isSafeInteger(owner.pid) ? owner.pid : -1;
  } catch {
    return -1;
  }
}

function processIsGone(pid: number): boolean {
  if (!(pid > 0)) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as { code?: string }).code === "ESRCH";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
