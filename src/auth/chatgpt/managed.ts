import { mkdir } from "node:fs/promises";
import type { AuthDotJson } from "../../../generated/storage/auth-json.js";
import type { RecoveryStep } from "../recovery.js";
import type { AuthStore } from "../store/auth-store.js";
import { revokeManagedTokens } from "./revoke.js";
import {
  ensureFreshManagedTokens,
  managedRecoverySteps,
  RefreshFailureMemo,
  refreshManagedTokens,
  type ManagedRefreshOptions,
  type ManagedRefreshResult,
  type RefreshTokenError,
} from "./refresh.js";

/**
 * Everything the AuthManager does with managed ChatGPT tokens once they are in play: proactive and
 * forced refresh (guarded, cross-process locked, permanent failures remembered per credential),
 * the 401-recovery steps and the logout revoke. The AuthManager imports this module only when a
 * ChatGPT credential needs it, so `login status` and API-key commands never load the OAuth client.
 */
export interface ManagedChatgptOptions {
  codexHome: string;
  /** Memory-only store: no lock file next to auth.json (there is no auth.json). */
  ephemeral: boolean;
  env: Readonly<Record<string, string | undefined>>;
  /** Diagnostics (Codex's `Failed to refresh token: ...`, revoke failures). Never a secret. */
  log: (message: string) => void;
  /** Deadline of each issuer request (default 10 s). */
  httpTimeoutMs?: number;
}

export class ManagedChatgpt {
  /** Permanent refresh failures of this manager, by credential. */
  readonly memo = new RefreshFailureMemo();

  constructor(
    private readonly store: AuthStore,
    private readonly options: ManagedChatgptOptions,
  ) {}

  /** The env it holds may carry credentials: show the store and the memo size only. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `ManagedChatgpt { store: ${this.store.description}, permanentFailures: ${this.memo.size} }`;
  }

  toJSON(): Record<string, unknown> {
    return { store: this.store.description, permanentFailures: this.memo.size };
  }

  refreshOptions(): ManagedRefreshOptions {
    return {
      lockHome: this.options.ephemeral ? null : this.options.codexHome,
      env: this.options.env,
      memo: this.memo,
      ...(this.options.httpTimeoutMs === undefined ? {} : { httpTimeoutMs: this.options.httpTimeoutMs }),
    };
  }

  /** `current()`: refreshed tokens when they are due (5-minute window / 8-day rule), else `stored`. A failure is logged and `stored` returned. */
  async ensureFresh(stored: AuthDotJson): Promise<AuthDotJson> {
    await this.ensureLockFolder();
    return ensureFreshManagedTokens(this.store, stored, {
      ...this.refreshOptions(),
      onError: (error) => this.logRefreshFailure(error),
    });
  }

  /** `refreshToken: true`: a guarded refresh now, whatever the expiry. Throws a RefreshTokenError. */
  async refreshNow(snapshot: AuthDotJson): Promise<ManagedRefreshResult> {
    await this.ensureLockFolder();
    return refreshManagedTokens(this.store, snapshot, this.refreshOptions());
  }

  recoverySteps(snapshot: AuthDotJson): RecoveryStep[] {
    const steps = managedRecoverySteps(this.store, snapshot, this.refreshOptions());
    return steps.map((step) => ({
      name: step.name,
      attempt: async () => {
        await this.ensureLockFolder();
        return step.attempt();
      },
    }));
  }

  /** The remembered permanent failure of this credential, if any. */
  permanentFailure(auth: AuthDotJson): RefreshTokenError | null {
    return auth.tokens === undefined ? null : this.memo.get(auth.tokens);
  }

  /** Logout: best effort, the failure only logged. */
  async revoke(stored: AuthDotJson | null): Promise<void> {
    const outcome = await revokeManagedTokens(stored, {
      env: this.options.env,
      ...(this.options.httpTimeoutMs === undefined ? {} : { timeoutMs: this.options.httpTimeoutMs }),
    });
    if (outcome.error !== null) this.options.log(outcome.error);
  }

  logRefreshFailure(error: Error): void {
    this.options.log(`Failed to refresh token: ${error.message}`);
  }

  private async ensureLockFolder(): Promise<void> {
    // Keyring stores may run with no CODEX_HOME folder yet; the refresh lock lives there.
    if (!this.options.ephemeral) await mkdir(this.options.codexHome, { recursive: true, mode: 0o700 }).catch(() => undefined);
  }
}
