import { realpathSync } from "node:fs";
import { AuthError } from "../errors.js";
import type { AuthDotJson, AuthStore } from "./auth-store.js";
import { parseAuthDotJson, serializeAuthDotJson } from "./format.js";
import { FileAuthStore } from "./file-store.js";

export const KEYRING_SERVICE = "Codex Auth";

/** Codex's keyring account: `cli|` + the first 16 hex digits of sha256(canonical CODEX_HOME), raw path if it cannot be canonicalized. */
export function keyringAccount(codexHome: string): string {
  let canonical = codexHome;
  try {
    canonical = realpathSync(codexHome);
  } catch {
    // Codex falls back to the path as given.
  }
  // node:crypto is fetched on demand: it costs start-up time that file-mode `login status` should not pay.
  const { createHash } = process.getBuiltinModule("node:crypto");
  return `cli|${createHash("sha256").update(canonical).digest("hex").slice(0, 16)}`;
}

/** The part of @napi-rs/keyring's AsyncEntry this store uses (also the seam for a test double). */
export interface KeyringEntry {
  getPassword(): Promise<string | null>;
  setPassword(password: string): Promise<void>;
  deletePassword(): Promise<boolean>;
}

export type KeyringEntryFactory = (service: string, account: string) => Promise<KeyringEntry>;

/** The OS keyring through @napi-rs/keyring (prebuilt binary), imported only when a keyring store is used. */
export const osKeyringEntry: KeyringEntryFactory = async (service, account) => {
  const { AsyncEntry } = await import("@napi-rs/keyring");
  return new AsyncEntry(service, account);
};

/**
 * `cli_auth_credentials_store = "keyring"`: the compact JSON of auth.json in the OS keyring, as
 * Codex stores it. A successful save removes the auth.json fallback; delete removes both.
 */
export class KeyringAuthStore implements AuthStore {
  readonly description = "keyring";
  readonly account: string;
  private readonly file: FileAuthStore;

  constructor(
    readonly codexHome: string,
    private readonly entryFactory: KeyringEntryFactory = osKeyringEntry,
  ) {
    this.account = keyringAccount(codexHome);
    this.file = new FileAuthStore(codexHome);
  }

  async load(): Promise<AuthDotJson | null> {
    let text: string | null;
    try {
      text = await (await this.entry()).getPassword();
    } catch (error) {
      throw keyringError("failed to load CLI auth from keyring", error);
    }
    return text === null ? null : parseAuthDotJson(text, "keyring");
  }

  async save(auth: AuthDotJson): Promise<void> {
    try {
      await (await this.entry()).setPassword(serializeAuthDotJson(auth, "compact"));
    } catch (error) {
      throw keyringError("failed to write OAuth tokens to keyring", error);
    }
    // The file would otherwise shadow a later logout or switch back to file mode; failure is harmless.
    await this.file.delete().catch(() => undefined);
  }

  async delete(): Promise<boolean> {
    let removedFromKeyring: boolean;
    try {
      removedFromKeyring = await (await this.entry()).deletePassword();
    } catch (error) {
      throw keyringError("failed to delete auth from keyring", error);
    }
    const removedFile = await this.file.delete();
    return removedFromKeyring || removedFile;
  }

  private entry(): Promise<KeyringEntry> {
    return this.entryFactory(KEYRING_SERVICE, this.account);
  }
}

function keyringError(prefix: string, error: unknown): AuthError {
  const detail = error instanceof Error ? error.message : String(error);
  return new AuthError("KEYRING_FAILED", `${prefix}: ${detail}`, { cause: error });
}
