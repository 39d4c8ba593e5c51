import { readFileSync } from "node:fs";
import { mkdir, open, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { authFilePath } from "../codex-home.js";
import { AuthError, describeSystemError } from "../errors.js";
import type { AuthDotJson, AuthStore } from "./auth-store.js";
import { parseAuthDotJson, serializeAuthDotJson } from "./format.js";

/** Our lock's own name: Codex 0.169.0 keeps a permanent empty `auth.json.lock` for flock(2), which Node cannot take. */
export const AUTH_LOCK_FILE = "auth.json.codex-auth.lock";

let tempCounter = 0;

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

  async load(): Promise<AuthDotJson | null> {
    const text = await this.readText();
    return text === null ? null : parseAuthDotJson(text, this.description);
  }

  async save(auth: AuthDotJson): Promise<void> {
    await mkdir(this.codexHome, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw new AuthError("STORE_WRITE_FAILED", `failed to create ${this.codexHome}: ${describeSystemError(error)}`);
    });
    await this.locked(async () => {
      const existing = await this.readText();
      if (existing !== null) parseAuthDotJson(existing, this.description, "; remove it with `codex-auth logout` first");
      await this.writeAtomically(serializeAuthDotJson(auth, "pretty"));
    });
  }

  async delete(): Promise<boolean> {
    return this.locked(async () => {
      try {
        await unlink(this.path);
        return true;
      } catch (error) {
        if ((error as { code?: string }).code === "ENOENT") return false;
        throw new AuthError("STORE_WRITE_FAILED", `failed to delete CLI auth file "${this.path}": ${describeSystemError(error)}`);
      }
    });
  }

  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const lockOptions = this.options.lockTimeoutMs === undefined ? {} : { timeoutMs: this.options.lockTimeoutMs };
    try {
      // The lock is only needed to write; reads rely on atomic rename and stay off this import.
      const { withFileLock } = await import("./lock.js");
      return await withFileLock(path.join(this.codexHome, AUTH_LOCK_FILE), fn, lockOptions);
    } catch (error) {
      if (error instanceof AuthError) throw error;
      throw new AuthError("STORE_WRITE_FAILED", `failed to lock CLI auth file "${this.path}": ${describeSystemError(error)}`);
    }
  }

  /** A synchronous read of a small file: cheaper at start-up than the promise API, and atomic renames mean no partial reads. */
  private async readText(): Promise<string | null> {
    try {
      return readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return null;
      throw new AuthError("STORE_UNREADABLE", `failed to read CLI auth from ${this.description}: ${describeSystemError(error)}`);
    }
  }

  private async writeAtomically(content: string): Promise<void> {
    const temp = path.join(this.codexHome, `.auth.json.${process.pid}.${Date.now()}.${++tempCounter}.tmp`);
    try {
      const handle = await open(temp, "wx", 0o600);
      try {
        await handle.writeFile(content, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw new AuthError("STORE_WRITE_FAILED", `failed to write CLI auth to ${this.description}: ${describeSystemError(error)}`);
    }
    await syncDirectory(this.codexHome);
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
