import type { AuthDotJson, AuthStore, LoadOptions } from "./auth-store.js";
import { FileAuthStore } from "./file-store.js";
import { KeyringAuthStore } from "./keyring-store.js";

/**
 * `cli_auth_credentials_store = "auto"`: the keyring, falling back to auth.json when the keyring is
 * empty or unavailable (headless Linux has no Secret Service). Unlike Codex 0.169.0, whose logout
 * fails outright when no keyring exists, delete still removes the file then.
 */
export class AutoAuthStore implements AuthStore {
  readonly description: string;

  constructor(
    private readonly keyring: KeyringAuthStore,
    private readonly file: FileAuthStore,
  ) {
    this.description = `keyring or ${file.description}`;
  }

  async load(options?: LoadOptions): Promise<AuthDotJson | null> {
    try {
      const auth = await this.keyring.load();
      if (auth !== null) return auth;
    } catch {
      // Keyring unavailable: fall back to the file, as Codex does.
    }
    return this.file.load(options);
  }

  async save(auth: AuthDotJson): Promise<void> {
    try {
      await this.keyring.save(auth);
    } catch {
      await this.file.save(auth);
    }
  }

  async delete(): Promise<boolean> {
    try {
      return await this.keyring.delete();
    } catch {
      return this.file.delete();
    }
  }
}
