import type { PlanType } from "../../../generated/protocol/common.js";
import { HttpError } from "../../http/request.js";
import { exchangeIdTokenForApiKey, OAuthStatusError, type AuthorizationCodeTokens } from "../../http/oauth.js";
import { DEFAULT_AUTH_CONFIG } from "../config.js";
import { describeSystemError, isAuthError } from "../errors.js";
import { ensureLoginWorkspaceAllowed } from "../policy.js";
import { Secret } from "../secret.js";
import { ChatgptLoginError } from "./errors.js";
import { parseChatgptIdToken } from "./id-token.js";
import { buildChatgptAuthDotJson, type ChatgptTokenSet, type PersistChatgptAuth } from "./persist.js";

/**
 * The common end of both ChatGPT logins (browser and device code), after the authorization-code
 * exchange: read the id_token's account, enforce `forced_chatgpt_workspace_id` BEFORE anything
 * is saved, optionally exchange the id_token for an API key (browser only, best effort), build
 * the auth.json and hand it to `persist`.
 */

/** What a finished login reports: account metadata only, never a token. */
export interface ChatgptLoginResult {
  readonly accountId: string | null;
  readonly userId: string | null;
  readonly email: string | null;
  readonly planType: PlanType | null;
  readonly isFedramp: boolean;
  /** Whether `OPENAI_API_KEY` was filled by the id_token → API-key exchange. */
  readonly apiKeyExchanged: boolean;
}

export interface CompleteLoginOptions {
  issuer: string;
  clientId: string;
  forcedWorkspaceIds: readonly string[] | null;
  persist: PersistChatgptAuth;
  /** Browser login: true (best effort); device code: false (`OPENAI_API_KEY: null`). */
  exchangeApiKey: boolean;
  httpTimeoutMs?: number;
}

export async function completeChatgptLogin(raw: AuthorizationCodeTokens, options: CompleteLoginOptions): Promise<ChatgptLoginResult> {
  const tokens: ChatgptTokenSet = {
    idToken: new Secret(raw.id_token),
    accessToken: new Secret(raw.access_token),
    refreshToken: new Secret(raw.refresh_token),
  };
  const claims = parseChatgptIdToken(tokens.idToken.reveal());
  if (claims === null) throw new ChatgptLoginError("TOKEN_EXCHANGE_FAILED", "Token exchange failed: the id_token is not a valid JWT");

  try {
    ensureLoginWorkspaceAllowed({ ...DEFAULT_AUTH_CONFIG, forcedChatgptWorkspaceIds: options.forcedWorkspaceIds }, claims.accountId);
  } catch (error) {
    if (isAuthError(error, "WORKSPACE_RESTRICTED")) throw new ChatgptLoginError("WORKSPACE_RESTRICTED", error.message);
    throw error;
  }

  let apiKey: Secret | null = null;
  if (options.exchangeApiKey) {
    try {
      const key = await exchangeIdTokenForApiKey(
        { issuer: options.issuer, clientId: options.clientId, idToken: tokens.idToken },
        options.httpTimeoutMs === undefined ? {} : { timeoutMs: options.httpTimeoutMs },
      );
      apiKey = key === null ? null : new Secret(key);
    } catch {
      // Best effort, as in Codex: the login stands without an API key.
    }
  }

  const auth = buildChatgptAuthDotJson({ tokens, accountId: claims.accountId, apiKey, provenance: { issuer: options.issuer, clientId: options.clientId } });
  try {
    await options.persist(auth);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    // Codex reports the store's own message (e.g. "failed to write OAuth tokens to keyring: ..."), unprefixed.
    throw new ChatgptLoginError("PERSIST_FAILED", detail, { cause: error });
  }
  return Object.freeze({
    accountId: claims.accountId,
    userId: claims.userId,
    email: claims.email,
    planType: claims.planType,
    isFedramp: claims.isFedramp,
    apiKeyExchanged: apiKey !== null,
  });
}

/**
 * How Codex describes a failed code exchange: `token endpoint returned status 400 Bad Request:
 * <the issuer's description>`; transport failures and timeouts keep their own message.
 */
export function describeTokenEndpointError(error: unknown): string {
  if (error instanceof OAuthStatusError) return `token endpoint returned status ${error.statusText}${error.detail ? `: ${error.detail}` : ""}`;
  if (error instanceof HttpError) return error.message;
  return describeSystemError(error);
}
