import type { AuthDotJson } from "../../../generated/storage/auth-json.js";
import type { RecoveryStep } from "../recovery.js";
import type { AuthStore } from "../store/auth-store.js";
import type { ManagedRefreshOptions } from "./refresh.js";

/**
 * `managedRecoverySteps` for callers that must stay light until a 401 actually happens (the
 * AuthManager, loaded by every CLI command): the same `reload` and `refresh_token` steps, with
 * refresh.js (and the OAuth client it loads) imported on the first attempt.
 */
export function lazyManagedRecoverySteps(store: AuthStore, snapshot: AuthDotJson, options: ManagedRefreshOptions): RecoveryStep[] {
  let steps: Promise<RecoveryStep[]> | null = null;
  const load = () => (steps ??= import("./refresh.js").then(({ managedRecoverySteps }) => managedRecoverySteps(store, snapshot, options)));
  return (["reload", "refresh_token"] as const).map((name, index) => ({
    name,
    attempt: async () => (await load())[index]!.attempt(),
  }));
}
