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

/**
 * Codex's text when Linux has no Secret Service to talk to (no D-Bus session, or nothing owning
 * `org.freedesktop.secrets`), used instead of the binding's D-Bus detail.
 */
export const NO_SECRET_SERVICE = "Platform secure storage failure: no secret service provider or dbus session found";

/** Thrown by the entry factory when the OS keyring cannot be reached at all. */
export class KeyringUnavailableError extends Error {
  readonly code = "KEYRING_UNAVAILABLE";
}

/**
 * The OS keyring through @napi-rs/keyring (prebuilt binary), imported only when a keyring store is
 * used. The backend is the one Codex uses: Keychain on macOS, Credential Manager on Windows, and
 * on Linux the Secret Service over D-Bus only. The binding's Linux default falls back to the
 * kernel keyring (keyutils), where Codex never looks; pinning the store makes `keyring` fail, and
 * `auto` fall back to auth.json, exactly where Codex does.
 */
export const osKeyringEntry: KeyringEntryFactory = async (service, account) => {
  const { AsyncEntry } = await import("@napi-rs/keyring");
  if (process.platform !== "linux") return new AsyncEntry(service, account);
  try {
    // The constructor connects to the session bus; it throws when there is none.
    return new AsyncEntry(service, account, { linux: { store: "secret-service" } });
  } catch (error) {
    throw new KeyringUnavailableError(NO_SECRET_SERVICE, { cause: error });
  }
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
  const detail = error instanceof Error ? error.message.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ") : String(error);
  return new AuthError("KEYRING_FAILED", `${prefix}: ${detail}`, { cause: error });
}
