import type { AuthDotJson, AuthStore } from "./auth-store.js";

/** Process-global, like Codex's: every ephemeral store for the same key sees the same auth. */
const memory = new Map<string, AuthDotJson>();

/** `cli_auth_credentials_store = "ephemeral"`: process memory only; nothing is ever written to disk. */
export class EphemeralAuthStore implements AuthStore {
  readonly description = "memory";

  constructor(readonly key: string) {}

  async load(): Promise<AuthDotJson | null> {
    const auth = memory.get(this.key);
    return auth === undefined ? null : structuredClone(auth);
  }

  async save(auth: AuthDotJson): Promise<void> {
    memory.set(this.key, structuredClone(auth));
  }

  async delete(): Promise<boolean> {
    return memory.delete(this.key);
  }
}
