import type { AuthDotJson } from "../../../generated/storage/auth-json.js";

export type { AuthDotJson };

export interface LoadOptions {
  fresh?: boolean;
}

/** Where the persisted credential (the content of auth.json) lives. Each save replaces it whole. */
export interface AuthStore {
  /** What a human should read as the store's location in messages ("file \"/x/auth.json\"", "keyring"). */
  readonly description: string;
  /**
   * The stored auth, or null when nothing is stored. Malformed content is an error, never null.
   * A store may hand out the copy it read earlier in the same event-loop turn; `fresh` reads what
   * is there now (under a lock, before deciding what to write).
   */
  load(options?: LoadOptions): Promise<AuthDotJson | null>;
  save(auth: AuthDotJson): Promise<void>;
  /** Removes the stored auth; true when something was removed. */
  delete(): Promise<boolean>;
}
