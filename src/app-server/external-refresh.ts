import { isAuthError } from "../auth/errors.js";
import { describeUnusableAccessToken } from "../auth/jwt.js";
import type { AuthManager, CurrentAuth } from "../auth/manager.js";
import type { RecoveryStep } from "../auth/recovery.js";
import { admitCredential, type Secret } from "../auth/secret.js";
import type { ChatgptAuthTokensRefreshResponse } from "../protocol/index.js";
import type { ServerRequestBroker } from "./server-requests.js";
import { ServerRequestError } from "./server-requests.js";

/** A refresh that produced nothing usable; the request that hit the 401 fails with this message. */
export class ExternalRefreshError extends Error {
  override readonly name = "ExternalRefreshError";
}

/**
 * The 401-recovery step for tokens owned by a parent app: send `account/chatgptAuthTokens/refresh`,
 * validate the answer, enforce `forced_chatgpt_workspace_id`, and swap the in-memory tokens.
 * Concurrent 401s share one request (single flight). On any failure nothing from the answer is kept.
 */
export class ExternalTokenRefresher implements RecoveryStep {
  readonly name = "parent-app-refresh";
  #inFlight: Promise<boolean> | null = null;
  #requests = 0;

  constructor(
    private readonly auth: AuthManager,
    private readonly broker: ServerRequestBroker,
  ) {}

  /** How many refresh requests were sent (for diagnostics and tests). */
  get requestsSent(): number {
    return this.#requests;
  }

  attempt(): Promise<boolean> {
    this.#inFlight ??= this.#refresh().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  async #refresh(): Promise<boolean> {
    const before = await this.auth.current();
    if (before?.mode !== "chatgptAuthTokens") return false;
    this.#requests++;
    let answer: ChatgptAuthTokensRefreshResponse;
    try {
      answer = await this.broker.request("account/chatgptAuthTokens/refresh", { reason: "unauthorized", previousAccountId: before.accountId });
    } catch (error) {
      if (error instanceof ServerRequestError) throw new ExternalRefreshError(`auth refresh request ${error.message}`);
      throw error;
    }
    let accessToken: Secret;
    try {
      accessToken = admitCredential(answer.accessToken, "the refreshed accessToken");
      admitCredential(answer.chatgptAccountId, "the refreshed chatgptAccountId");
    } catch (error) {
      if (isAuthError(error)) throw new ExternalRefreshError(`auth refresh returned an invalid answer: ${error.message}`);
      throw error;
    }
    const invalid = describeUnusableAccessToken(accessToken);
    if (invalid !== null) throw new ExternalRefreshError(`auth refresh returned an invalid access token: ${invalid}`);
    if (!isSameExternalSession(before, await this.auth.current())) {
      // Logged out or replaced while the parent app was answering: the answer is for stale state.
      throw new ExternalRefreshError("auth refresh was superseded: external auth changed while the refresh was pending");
    }
    try {
      this.auth.setExternalTokens({
        accessToken,
        chatgptAccountId: answer.chatgptAccountId,
        ...(answer.chatgptPlanType !== undefined ? { chatgptPlanType: answer.chatgptPlanType } : {}),
      });
    } catch (error) {
      if (isAuthError(error)) throw new ExternalRefreshError(`auth refresh rejected: ${error.message}`);
      throw error;
    }
    return true;
  }
}

function isSameExternalSession(before: CurrentAuth, now: CurrentAuth | null): boolean {
  return now !== null && now.mode === "chatgptAuthTokens" && now.bearer.equals(before.bearer);
}
