import type { PlanType } from "../../generated/protocol/common.js";
import { AUTHAPI_TIMEOUT_MS, fetchPersonalAccessTokenMetadata, resolveAuthApiBaseUrl } from "../http/authapi.js";
import { HttpError } from "../http/request.js";
import type { Env } from "./codex-home.js";
import { AuthError, describeSystemError } from "./errors.js";
import { toPlanType } from "../protocol/plan-type.js";
import type { Secret } from "./secret.js";

/** What AuthAPI whoami says about a personal access token. Held in memory only, never cached. */
export interface PersonalAccessTokenMetadata {
  readonly email: string;
  readonly chatgptUserId: string;
  readonly chatgptAccountId: string;
  readonly rawPlanType: string;
  readonly planType: PlanType;
  readonly isFedramp: boolean;
}

/**
 * Turns a PAT into account metadata with a live whoami on every call (so a revoked token is never
 * accepted from a cache) and fails closed: any transport error, non-2xx status or response that does
 * not match the OpenAPI schema (every required field a present string, email included) rejects the
 * token with Codex's messages.
 */
export class PersonalAccessTokenHydrator {
  readonly baseUrl: string;
  readonly timeoutMs: number;

  constructor(options: { baseUrl: string; timeoutMs?: number }) {
    this.baseUrl = options.baseUrl;
    this.timeoutMs = options.timeoutMs ?? AUTHAPI_TIMEOUT_MS;
  }

  /** Base URL from `CODEX_AUTHAPI_BASE_URL` (default https://auth.openai.com/api/accounts). */
  static fromEnv(env: Env, timeoutMs?: number): PersonalAccessTokenHydrator {
    return new PersonalAccessTokenHydrator({ baseUrl: resolveAuthApiBaseUrl(env), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  }

  async hydrate(token: Secret): Promise<PersonalAccessTokenMetadata> {
    try {
      const whoami = await fetchPersonalAccessTokenMetadata(token, { baseUrl: this.baseUrl, timeoutMs: this.timeoutMs });
      // A proxy or server echoing the bearer into a field we display (`login status --json` prints
      // the email and plan) would print the PAT: such an answer is refused like a malformed one.
      const fields = [whoami.email, whoami.chatgpt_user_id, whoami.chatgpt_account_id, whoami.chatgpt_plan_type];
      if (fields.some((field) => typeof field === "string" && field.includes(token.reveal()))) {
        throw new AuthError("PAT_DECODE", "failed to decode personal access token metadata: the response repeats the credential");
      }
      return Object.freeze({
        email: whoami.email,
        chatgptUserId: whoami.chatgpt_user_id,
        chatgptAccountId: whoami.chatgpt_account_id,
        rawPlanType: whoami.chatgpt_plan_type,
        planType: toPlanType(whoami.chatgpt_plan_type),
        isFedramp: whoami.chatgpt_account_is_fedramp === true,
      });
    } catch (error) {
      if (error instanceof AuthError) throw error;
      throw toAuthError(error);
    }
  }
}

function toAuthError(error: unknown): AuthError {
  if (!(error instanceof HttpError)) {
    return new AuthError("PAT_REQUEST_FAILED", `failed to request personal access token metadata: ${describeSystemError(error)}`);
  }
  switch (error.code) {
    case "STATUS":
      return new AuthError("PAT_STATUS", `personal access token metadata request failed with status ${error.message}`, {
        ...(error.status === undefined ? {} : { status: error.status }),
      });
    case "INVALID_RESPONSE":
      return new AuthError("PAT_DECODE", `failed to decode personal access token metadata: ${error.message}`);
    case "TIMEOUT":
    case "TRANSPORT":
    case "CANCELLED":
      return new AuthError("PAT_REQUEST_FAILED", `failed to request personal access token metadata: ${error.message}`);
  }
}
