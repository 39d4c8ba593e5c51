import type { AuthCredentialsStoreMode } from "../config.js";
import type { AuthDotJson, AuthStore, LoadOptions } from "./auth-store.js";
import { EphemeralAuthStore } from "./ephemeral-store.js";
import { FileAuthStore } from "./file-store.js";
import type { KeyringEntryFactory } from "./keyring-store.js";

export type { AuthDotJson, AuthStore } from "./auth-store.js";
export { FileAuthStore, AUTH_LOCK_FILE, AUTH_JSON_LOCK_FILE } from "./file-store.js";
export { EphemeralAuthStore } from "./ephemeral-store.js";
export type { KeyringEntry, KeyringEntryFactory } from "./keyring-store.js";
export { parseAuthDotJson, resolveStoredMode, serializeAuthDotJson } from "./format.js";

/**
 * The store for `cli_auth_credentials_store`. Keyring-backed stores (and the binding) are imported
 * on first use, so file mode, the default, loads nothing it does not need.
 */
export function createAuthStore(mode: AuthCredentialsStoreMode, codexHome: string, keyringEntry?: KeyringEntryFactory): AuthStore {
  switch (mode) {
    case "file":
      return new FileAuthStore(codexHome);
    case "ephemeral":
      // Keyed by the home directory, like Codex's process-global ephemeral map.
      return new EphemeralAuthStore(codexHome);
    case "keyring":
      return new LazyAuthStore("keyring", async () => new (await import("./keyring-store.js")).KeyringAuthStore(codexHome, keyringEntry));
    case "auto":
      return new LazyAuthStore("keyring or file", async () => {
        const [{ AutoAuthStore }, { KeyringAuthStore }] = await Promise.all([import("./auto-store.js"), import("./keyring-store.js")]);
        return new AutoAuthStore(new KeyringAuthStore(codexHome, keyringEntry), new FileAuthStore(codexHome));
      });
  }
}

/** Defers building (and importing) a store until its first operation. */
class LazyAuthStore implements AuthStore {
  private store: Promise<AuthStore> | null = null;

  constructor(
    readonly description: string,
    private readonly build: () => Promise<AuthStore>,
  ) {}

  async load(options?: LoadOptions): Promise<AuthDotJson | null> {
    return (await this.resolve()).load(options);
  }

  async save(auth: AuthDotJson): Promise<void> {
    return (await this.resolve()).save(auth);
  }

  async delete(): Promise<boolean> {
    return (await this.resolve()).delete();
  }

  private resolve(): Promise<AuthStore> {
    this.store ??= this.build();
    return this.store;
  }
}
