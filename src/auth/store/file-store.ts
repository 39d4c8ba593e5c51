import { randomBytes } from "node:crypto";
import { lstatSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { authFilePath } from "../codex-home.js";
import { AuthError, describeSystemError } from "../errors.js";
import type { AuthDotJson, AuthStore, LoadOptions } from "./auth-store.js";
import { parseAuthDotJson, serializeAuthDotJson } from "./format.js";

export { AUTH_LOCK_FILE, AUTH_JSON_LOCK_FILE } from "./lock-names.js";

/**
 * `.auth-XXXXXX`: the temp file a save writes (O_EXCL, 0600) and renames over auth.json, named as
 * Codex names its own. Both tools write one only while holding the lock, so under the lock every
 * such file is debris of a writer killed before its rename.
 */
const TEMP_FILE = /^\.auth-[A-Za-z0-9]{6}$/;
/** What codex-auth before the flock lock named its temp files: debris too, once its pid is gone or it is old. */
const LEGACY_TEMP_FILE = /^\.auth\.json\.(\d+)\.\d+\.\d+\.tmp$/;
const LEGACY_ORPHAN_AGE_MS = 10 * 60_000;
const TEMP_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * `$CODEX_HOME/auth.json` in Codex's exact format, mode 0600. Writes are atomic (temp file in the
 * same directory, fsync, rename, fsync of the directory) and serialized across processes by a lock,
 * so readers never take the lock and never see a partial file. An existing file that is unreadable
 * or malformed is never replaced by a save: only `delete()` (an explicit logout) removes it.
 */
export class FileAuthStore implements AuthStore {
  readonly path: string;
  readonly description: string;

  constructor(
    readonly codexHome: string,
    private readonly options: { lockTimeoutMs?: number } = {},
  ) {
    this.path = authFilePath(codexHome);
    this.description = `file "${this.path}"`;
  }

  async load(options: LoadOptions = {}): Promise<AuthDotJson | null> {
    const text = await this.readText(options.fresh === true);
    if (text === null) return null;
    const last = this.lastRead;
    if (last?.text === text && last.parsed !== undefined) return last.parsed;
    // Frozen: the same object is handed out while the file is unchanged.
    const parsed = deepFreeze(parseAuthDotJson(text, this.description));
    if (last?.text === text) last.parsed = parsed;
    return parsed;
  }

  async save(auth: AuthDotJson): Promise<void> {
    await mkdir(this.codexHome, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw new AuthError("STORE_WRITE_FAILED", `failed to create ${this.codexHome}: ${describeSystemError(error)}`);
    });
    await this.locked(async () => {
      this.refuseSymbolicLink("write CLI auth to");
      const existing = await this.readText(true);
      if (existing !== null) parseAuthDotJson(existing, this.description, "; remove it with `codex-auth logout` first");
      // First, so that space held by a crashed save's temp file is free for this one.
      await this.removeOrphanedTempFiles();
      await this.writeAtomically(serializeAuthDotJson(auth, "pretty"));
      this.forgetLastRead();
    });
  }

  async delete(): Promise<boolean> {
    try {
      return await this.locked(async () => {
        this.refuseSymbolicLink("remove CLI auth");
        await this.removeOrphanedTempFiles();
        return this.unlinkAuthFile();
      });
    } catch (error) {
      // A full disk refuses the lock file itself, yet logout is how a user frees that space. One
      // unlink is atomic, so even unlocked it lands wholly before or after any concurrent save.
      if (error instanceof AuthError && error.code === "STORE_WRITE_FAILED" && isNoSpace(error.cause)) {
        this.refuseSymbolicLink("remove CLI auth");
        return this.unlinkAuthFile();
      }
      throw error;
    }
  }

  /**
   * A symlinked auth.json is read through, but never written or removed: a rename would replace the
   * link and leave the old secret in its target, and an unlink would remove the link alone while
   * the credential stays in the target (what Codex 0.171.0 does: "Successfully logged out" with the
   * secret still on disk). Nothing is touched; the message says what to do.
   */
  private refuseSymbolicLink(action: string): void {
    let link: string | null = null;
    try {
      if (lstatSync(this.path).isSymbolicLink()) link = readlinkSync(this.path);
    } catch {
      return;
    }
    if (link !== null) {
      throw new AuthError(
        "STORE_WRITE_FAILED",
        `refusing to ${action} ${this.description}: it is a symbolic link (to "${link}"); remove the link and the file it points to, then sign in again`,
      );
    }
  }

  private forgetLastRead(): void {
    this.lastRead = null;
    this.readThisTurn = false;
  }

  private async unlinkAuthFile(): Promise<boolean> {
    this.forgetLastRead();
    try {
      await unlink(this.path);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return false;
      throw new AuthError("STORE_WRITE_FAILED", `failed to delete CLI auth file "${this.path}": ${describeSystemError(error)}`);
    }
  }

  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const lockOptions = this.options.lockTimeoutMs === undefined ? {} : { timeoutMs: this.options.lockTimeoutMs };
    try {
      // The lock is only needed to write; reads rely on atomic rename and stay off this import.
      const { withAuthLock } = await import("./lock.js");
      return await withAuthLock(this.codexHome, fn, lockOptions);
    } catch (error) {
      if (error instanceof AuthError) throw error;
      throw new AuthError("STORE_WRITE_FAILED", `failed to lock CLI auth file "${this.path}": ${describeSystemError(error)}`, { cause: error });
    }
  }

  /**
   * A save killed between writing its temp file and the rename leaves the temp file behind (readers
   * never look at it). Under the lock no other save is running, so a temp file whose process is
   * gone, or that is older than any save can take, is debris: removed, best effort.
   */
  private async removeOrphanedTempFiles(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.codexHome);
    } catch {
      return;
    }
    for (const name of names) {
      const file = path.join(this.codexHome, name);
      if (TEMP_FILE.test(name)) {
        await unlink(file).catch(() => undefined);
        continue;
      }
      const pid = Number(LEGACY_TEMP_FILE.exec(name)?.[1] ?? NaN);
      if (!Number.isSafeInteger(pid) || pid === process.pid) continue;
      if (!processIsGone(pid)) {
        const modified = await stat(file).then((info) => info.mtimeMs, () => null);
        if (modified === null || Date.now() - modified < LEGACY_ORPHAN_AGE_MS) continue;
      }
      await unlink(file).catch(() => undefined);
    }
  }

  /** A synchronous read of a small file: cheaper at start-up than the promise API, and atomic renames mean no partial reads. */
  /**
   * The last text read, with the identity of the file it came from. The app-server loads auth on
   * every request; while auth.json is unchanged a stat replaces the read. Any save (ours or
   * Codex's: a rename gives a new inode, an in-place write a new size or mtime) is seen at once.
   */
  private lastRead: { signature: string; text: string; parsed?: AuthDotJson } | null = null;

  /** True until the end of the current event-loop turn after a read: one stat per turn is enough. */
  private readThisTurn = false;

  /** `fresh`: under the lock, before a write, what is on disk now (never this turn's copy). */
  private async readText(fresh = false): Promise<string | null> {
    if (!fresh && this.readThisTurn && this.lastRead !== null) return this.lastRead.text;
    try {
      const stats = statSync(this.path);
      this.readThisTurn = true;
      setImmediate(() => (this.readThisTurn = false));
      const signature = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
      if (this.lastRead?.signature === signature) return this.lastRead.text;
      const text = readFileSync(this.path, "utf8");
      this.lastRead = { signature, text };
      return text;
    } catch (error) {
      this.lastRead = null;
      if ((error as { code?: string }).code === "ENOENT") return null;
      throw new AuthError("STORE_UNREADABLE", `failed to read CLI auth from ${this.description}: ${describeSystemError(error)}`);
    }
  }

  private async writeAtomically(content: string): Promise<void> {
    let temp = "";
    try {
      const created = await this.createTempFile();
      temp = created.temp;
      const handle = created.handle;
      try {
        await handle.writeFile(content, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
    } catch (error) {
      if (temp !== "") await unlink(temp).catch(() => undefined);
      throw new AuthError("STORE_WRITE_FAILED", `failed to write CLI auth to ${this.description}: ${describeSystemError(error)}`);
    }
    await syncDirectory(this.codexHome);
  }

  /** `.auth-XXXXXX`, created exclusively (a name taken by chance is retried, as mkstemp does). */
  private async createTempFile(): Promise<{ temp: string; handle: FileHandle }> {
    for (let attempt = 0; ; attempt++) {
      const suffix = [...randomBytes(6)].map((byte) => TEMP_ALPHABET[byte % TEMP_ALPHABET.length]).join("");
      const temp = path.join(this.codexHome, `.auth-${suffix}`);
      try {
        return { temp, handle: await open(temp, "wx", 0o600) };
      } catch (error) {
        if ((error as { code?: string }).code !== "EEXIST" || attempt >= 100) throw error;
      }
    }
  }
}

function isNoSpace(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

/** No process with this pid exists here (a process we may not signal counts as alive). */
function processIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as { code?: string }).code === "ESRCH";
  }
}

/** Makes the rename durable; some file systems refuse fsync on directories, which is harmless. */
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
