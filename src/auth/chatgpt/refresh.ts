import { createHash } from "node:crypto";
import type { AuthDotJson, StoredChatgptTokens } from "../../../generated/storage/auth-json.js";
import { HttpError } from "../../http/request.js";
import { OAuthStatusError, requestTokenRefresh, resolveOAuthEndpoints, type OAuthEndpoints, type TokenResponse } from "../../http/oauth.js";
import type { RecoveryStep } from "../recovery.js";
import { Secret } from "../secret.js";
import type { AuthStore } from "../store/auth-store.js";
import { resolveStoredMode } from "../store/format.js";
import { withAuthLock } from "../store/lock.js";
import { parseChatgptIdToken } from "./id-token.js";
import { assertValidAuthDotJson, currentEpochNanos, formatLastRefresh, provenanceOf } from "./persist.js";
import { needsRefresh } from "./refresh-window.js";
import { deadlineMs } from "../../protocol/deadlines.js";

/**
 * Managed ChatGPT token refresh (Codex's `refresh_token()` / `classify_refresh_token_failure`),
 * made safe across processes: a refresh holds Codex's auth.json locks (store/lock.ts) across
 * re-read, request and write, and adopts tokens another process already refreshed instead of
 * spending the (single-use) refresh token a second time. Permanent failures are remembered for the
 * exact credential (by a SHA-256 of its refresh token, never the token) so they are not retried
 * until the credential changes.
 */

export { needsRefresh, REFRESH_WINDOW_MS, TOKEN_REFRESH_INTERVAL_MS } from "./refresh-window.js";

export type RefreshFailureReason = "expired" | "exhausted" | "revoked" | "other";

export const REFRESH_FAILURE_MESSAGES: Readonly<Record<RefreshFailureReason, string>> = {
  expired: "Your access token could not be refreshed because your refresh token has expired. Please log out and sign in again.",
  exhausted: "Your access token could not be refreshed because your refresh token was already used. Please log out and sign in again.",
  revoked: "Your access token could not be refreshed because your refresh token was revoked. Please log out and sign in again.",
  other: "Your access token could not be refreshed. Please log out and sign in again.",
};

export const ACCOUNT_CHANGED_MESSAGE =
  "Your access token could not be refreshed because you have since logged out or signed in to another account. Please sign in again.";

const REASON_BY_CODE: Readonly<Record<string, RefreshFailureReason>> = {
  refresh_token_expired: "expired",
  refresh_token_reused: "exhausted",
  refresh_token_invalidated: "revoked",
};

export type RefreshErrorCode = "REFRESH_PERMANENT" | "REFRESH_TRANSIENT";

/** A failed refresh. Permanent ones need a new login; transient ones are retried next time. */
export class RefreshTokenError extends Error {
  override readonly name = "RefreshTokenError";
  readonly code: RefreshErrorCode;
  readonly status?: number;
  readonly errorCode?: string;

  constructor(
    readonly kind: "permanent" | "transient",
    /** Why, for permanent failures; null for transient ones. */
    readonly reason: RefreshFailureReason | null,
    message: string,
    details: { status?: number; errorCode?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = kind === "permanent" ? "REFRESH_PERMANENT" : "REFRESH_TRANSIENT";
    if (details.status !== undefined) this.status = details.status;
    if (details.errorCode !== undefined) this.errorCode = details.errorCode;
  }

  get permanent(): boolean {
    return this.kind === "permanent";
  }
}

/**
 * Permanent when the status is 401, the code is `refresh_token_expired` / `_reused` /
 * `_invalidated`, or a 400 says `invalid_grant` (any case); everything else (other statuses,
 * timeouts, transport and decode errors) is transient: `Failed to refresh token: <status>: <message>`.
 */
export function classifyRefreshFailure(error: unknown): RefreshTokenError {
  if (error instanceof RefreshTokenError) return error;
  if (error instanceof OAuthStatusError) {
    const code = error.errorCode;
    const known = code === undefined ? undefined : REASON_BY_CODE[code];
    const invalidGrant = error.status === 400 && code?.toLowerCase() === "invalid_grant";
    const details = { ...(error.status === undefined ? {} : { status: error.status }), ...(code === undefined ? {} : { errorCode: code }) };
    if (error.status === 401 || known !== undefined || invalidGrant) {
      const reason = known ?? "other";
      return new RefreshTokenError("permanent", reason, REFRESH_FAILURE_MESSAGES[reason], details);
    }
    return new RefreshTokenError("transient", null, `Failed to refresh token: ${error.statusText}: ${error.detail ?? "Unknown error"}`, details);
  }
  const message = error instanceof HttpError || error instanceof Error ? error.message : String(error);
  return new RefreshTokenError("transient", null, `Failed to refresh token: ${message}`, { cause: error });
}

/** Permanent failures by credential: the key is a SHA-256 of the refresh token. */
export class RefreshFailureMemo {
  readonly #failures = new Map<string, RefreshTokenError>();

  static keyOf(tokens: Pick<StoredChatgptTokens, "refresh_token">): string {
    return createHash("sha256").update(tokens.refresh_token).digest("hex");
  }

  get(tokens: Pick<StoredChatgptTokens, "refresh_token">): RefreshTokenError | null {
    return this.#failures.get(RefreshFailureMemo.keyOf(tokens)) ?? null;
  }

  remember(tokens: Pick<StoredChatgptTokens, "refresh_token">, error: RefreshTokenError): void {
    if (error.permanent) this.#failures.set(RefreshFailureMemo.keyOf(tokens), error);
  }

  forget(tokens: Pick<StoredChatgptTokens, "refresh_token">): void {
    this.#failures.delete(RefreshFailureMemo.keyOf(tokens));
  }

  get size(): number {
    return this.#failures.size;
  }
}

/** The process's memo, used when none is given (one per process, as one AuthManager in Codex). */
export const processRefreshFailureMemo = new RefreshFailureMemo();

export interface ManagedRefreshOptions {
  /** Default: resolved from `env` (or process.env). */
  endpoints?: OAuthEndpoints;
  env?: Readonly<Record<string, string | undefined>>;
  /** The CODEX_HOME whose auth.json locks the refresh holds; null: in-process serialization only (ephemeral store). */
  lockHome: string | null;
  memo?: RefreshFailureMemo;
  /** Wall clock in epoch nanoseconds, for `last_refresh`. */
  now?: () => bigint;
  /** How long to wait for another process's refresh (default: the lock's, 30 s; its request alone may take 10 s). */
  lockTimeoutMs?: number;
  /**
   * After our request is refused as `refresh_token_reused`, how long to watch the store for the
   * tokens of the process that spent it first (Codex sends its request before taking the lock, and
   * writes its answer as soon as we release it). Default: env CODEX_AUTH_REUSE_GRACE_MS, else 2 s.
   */
  reuseGraceMs?: number;
  httpTimeoutMs?: number;
}

export type ManagedRefreshOutcome = "refreshed" | "adopted";

export interface ManagedRefreshResult {
  /** The auth now in the store. */
  readonly auth: AuthDotJson;
  /** `adopted`: the store already held newer tokens (another process refreshed or logged in), no request was sent. */
  readonly outcome: ManagedRefreshOutcome;
}

/**
 * Guarded refresh of the managed ChatGPT tokens the caller used (`snapshot`). Under the lock:
 * reload; a different (or missing) account is a permanent `...since logged out or signed in to
 * another account...`; changed tokens are adopted without a request; a credential that already
 * failed permanently fails again at once; otherwise one refresh request, and the returned fields
 * (a missing id_token keeps the old one) plus `last_refresh` are written back through the store.
 */
export async function refreshManagedTokens(store: AuthStore, snapshot: AuthDotJson, options: ManagedRefreshOptions): Promise<ManagedRefreshResult> {
  const memo = options.memo ?? processRefreshFailureMemo;
  const snapshotTokens = snapshot.tokens;
  if (snapshotTokens === undefined) throw new RefreshTokenError("permanent", "other", REFRESH_FAILURE_MESSAGES.other);
  const snapshotAccount = accountIdOf(snapshot);

  const spent = await serialized(options.lockHome ?? store, () =>
    locked(options, async (): Promise<ManagedRefreshResult | { reused: RefreshTokenError; tokens: StoredChatgptTokens }> => {
      const current = await store.load({ fresh: true });
      const currentTokens = current !== null && resolveStoredMode(current) === "chatgpt" ? current.tokens : undefined;
      if (current === null || currentTokens === undefined || snapshotAccount === null || accountIdOf(current) !== snapshotAccount) {
        throw new RefreshTokenError("permanent", "other", ACCOUNT_CHANGED_MESSAGE);
      }
      if (!sameTokens(currentTokens, snapshotTokens)) {
        memo.forget(snapshotTokens);
        return { auth: current, outcome: "adopted" as const };
      }
      const remembered = memo.get(currentTokens);
      if (remembered !== null) throw remembered;

      const endpoints = options.endpoints ?? resolveOAuthEndpoints(options.env ?? process.env, provenanceOf(currentTokens));
      let answer: TokenResponse;
      try {
        answer = await requestTokenRefresh(
          { refreshUrl: endpoints.refreshUrl, clientId: endpoints.clientId, refreshToken: new Secret(currentTokens.refresh_token) },
          options.httpTimeoutMs === undefined ? {} : { timeoutMs: options.httpTimeoutMs },
        );
      } catch (error) {
        const failure = classifyRefreshFailure(error);
        if (failure.reason === "exhausted" && options.lockHome !== null) return { reused: failure, tokens: currentTokens };
        memo.remember(currentTokens, failure);
        throw failure;
      }

      const updated: AuthDotJson = {
        ...current,
        tokens: {
          ...currentTokens,
          id_token: answer.id_token ?? currentTokens.id_token,
          access_token: answer.access_token ?? currentTokens.access_token,
          refresh_token: answer.refresh_token ?? currentTokens.refresh_token,
        },
        last_refresh: formatLastRefresh((options.now ?? currentEpochNanos)()),
      };
      assertValidAuthDotJson(updated);
      // A login that does not take this lock may have replaced the file meanwhile: it wins.
      const latest = await store.load({ fresh: true });
      if (latest === null || latest.tokens === undefined || !sameTokens(latest.tokens, currentTokens)) {
        return { auth: latest ?? current, outcome: "adopted" as const };
      }
      await store.save(updated);
      memo.forget(currentTokens);
      return { auth: updated, outcome: "refreshed" as const };
    }),
  );
  if ("auth" in spent) return spent;
  // Outside the lock, so the process that spent the token first can write what it received.
  const adopted = await adoptTokensOfFirstSpender(store, spent.tokens, snapshotAccount, options);
  if (adopted !== null) return { auth: adopted, outcome: "adopted" };
  memo.remember(spent.tokens, spent.reused);
  throw spent.reused;
}

export const REUSE_GRACE_ENV = "CODEX_AUTH_REUSE_GRACE_MS";
const DEFAULT_REUSE_GRACE_MS = 2_000;

/**
 * The refresh token was refused as already used: another process (Codex spends it before taking
 * the lock) holds new tokens and writes them once it gets the lock. The store is read until they
 * appear, for the same account, or the grace period ends (null: the refusal stands).
 */
async function adoptTokensOfFirstSpender(store: AuthStore, spent: StoredChatgptTokens, account: string | null, options: ManagedRefreshOptions): Promise<AuthDotJson | null> {
  const fromEnv = Number((options.env ?? process.env)[REUSE_GRACE_ENV] ?? NaN);
  const graceMs = options.reuseGraceMs ?? (Number.isFinite(fromEnv) && fromEnv >= 0 ? fromEnv : DEFAULT_REUSE_GRACE_MS);
  const deadline = Date.now() + graceMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    const current = await store.load({ fresh: true });
    if (current !== null && current.tokens !== undefined && resolveStoredMode(current) === "chatgpt" && !sameTokens(current.tokens, spent)) {
      return accountIdOf(current) === account ? current : null;
    }
    const left = deadline - Date.now();
    if (left <= 0) return null;
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
  }
}

export interface ProactiveRefreshOptions extends ManagedRefreshOptions {
  /** The time the refresh window is measured from (default: now). */
  at?: Date;
  /** A failed proactive refresh is not an error (the old tokens are used); Codex logs it. */
  onError?: (error: RefreshTokenError) => void;
}

/**
 * What `AuthManager.current()` does with stored managed tokens: refresh them when `needsRefresh`,
 * else return them unchanged. A failure is reported to `onError` and the stored auth returned.
 */
export async function ensureFreshManagedTokens(store: AuthStore, stored: AuthDotJson, options: ProactiveRefreshOptions): Promise<AuthDotJson> {
  if (resolveStoredMode(stored) !== "chatgpt" || stored.tokens === undefined) return stored;
  if (!needsRefresh(stored.tokens, stored.last_refresh, options.at ?? new Date())) return stored;
  try {
    return (await refreshManagedTokens(store, stored, options)).auth;
  } catch (error) {
    options.onError?.(classifyRefreshFailure(error));
    return stored;
  }
}

/**
 * The managed 401-recovery steps for `UnauthorizedRecovery("managed", ...)`: `reload` (adopt
 * tokens another process or login wrote, for the same account) then `refresh_token` (the guarded
 * refresh). `snapshot` is the auth the failed request was sent with.
 */
export function managedRecoverySteps(store: AuthStore, snapshot: AuthDotJson, options: ManagedRefreshOptions): RecoveryStep[] {
  let current = snapshot;
  const account = accountIdOf(snapshot);
  return [
    {
      name: "reload",
      attempt: async () => {
        const loaded = await store.load({ fresh: true });
        const tokens = loaded !== null && resolveStoredMode(loaded) === "chatgpt" ? loaded.tokens : undefined;
        if (loaded === null || tokens === undefined || account === null || accountIdOf(loaded) !== account) {
          throw new RefreshTokenError("permanent", "other", ACCOUNT_CHANGED_MESSAGE);
        }
        if (current.tokens !== undefined && sameTokens(tokens, current.tokens)) return false;
        current = loaded;
        return true;
      },
    },
    {
      name: "refresh_token",
      attempt: async () => {
        current = (await refreshManagedTokens(store, current, options)).auth;
        return true;
      },
    },
  ];
}

/** The stored account id, else the id_token's `chatgpt_account_id`. */
export function accountIdOf(auth: AuthDotJson): string | null {
  const tokens = auth.tokens;
  if (tokens === undefined) return null;
  return tokens.account_id ?? parseChatgptIdToken(tokens.id_token)?.accountId ?? null;
}

function sameTokens(a: StoredChatgptTokens, b: StoredChatgptTokens): boolean {
  return a.access_token === b.access_token && a.refresh_token === b.refresh_token && a.id_token === b.id_token;
}

function locked<T>(options: ManagedRefreshOptions, fn: () => Promise<T>): Promise<T> {
  if (options.lockHome === null) return fn();
  return withAuthLock(options.lockHome, fn, options.lockTimeoutMs === undefined ? {} : { timeoutMs: options.lockTimeoutMs });
}

/** One refresh at a time per lock (or per store) inside this process; the file lock covers other processes. */
const inFlight = new Map<unknown, Promise<unknown>>();

async function serialized<T>(key: unknown, fn: () => Promise<T>): Promise<T> {
  const previous = inFlight.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.catch(() => undefined);
  inFlight.set(key, tail);
  try {
    return await run;
  } finally {
    if (inFlight.get(key) === tail) inFlight.delete(key);
  }
}
