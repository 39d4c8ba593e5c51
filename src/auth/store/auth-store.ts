import type { AuthDotJson } from "../../../generated/storage/auth-json.js";

export type { AuthDotJson };

/** Where the persisted credential (the content of auth.json) lives. Each save replaces it whole. */
export interface AuthStore {
  /** What a human should read as the store's location in messages ("file \"/x/auth.json\"", "keyring"). */
  readonly description: string;
  /** The stored auth, or null when nothing is stored. Malformed content is an error, never null. */
  load(): Promise<AuthDotJson | null>;
  save(auth: AuthDotJson): Promise<void>;
  /** Removes the stored auth; true when something was removed. */
  delete(): Promise<boolean>;
}
