import type { AuthDotJson } from "../../../generated/storage/auth-json.js";
import { HttpError } from "../../http/request.js";
import { OAuthStatusError, resolveOAuthEndpoints, revokeToken, type OAuthEndpoints } from "../../http/oauth.js";
import { Secret } from "../secret.js";
import { resolveStoredMode } from "../store/format.js";
import { provenanceOf } from "./persist.js";

/**
 * Logout's best-effort revocation of managed ChatGPT tokens (Codex's `logout_with_revoke`): the
 * refresh token with `token_type_hint: "refresh_token"` and the client id, else the access token
 * with `"access_token"` and no client id; 10 s. API keys, PATs, Agent Identity JWTs and tokens
 * from a parent app are never revoked. Never throws: a failure comes back as a log line.
 */
export const REVOKE_FAILURE_PREFIX = "failed to revoke auth tokens during logout: ";

export interface RevokeOutcome {
  /** A token was sent and the issuer accepted it. */
  readonly revoked: boolean;
  /** `failed to revoke auth tokens during logout: ...` for the logger, or null. Secret-free. */
  readonly error: string | null;
}

export async function revokeManagedTokens(
  auth: AuthDotJson | null,
  options: { endpoints?: OAuthEndpoints; env?: Readonly<Record<string, string | undefined>>; timeoutMs?: number } = {},
): Promise<RevokeOutcome> {
  if (auth === null || auth.tokens === undefined || resolveStoredMode(auth) !== "chatgpt") return { revoked: false, error: null };
  const { refresh_token: refreshToken, access_token: accessToken } = auth.tokens;
  const target: { token: Secret; hint: "refresh_token" | "access_token"; kind: string } | null = refreshToken
    ? { token: new Secret(refreshToken), hint: "refresh_token", kind: "refresh token" }
    : accessToken
      ? { token: new Secret(accessToken), hint: "access_token", kind: "access token" }
      : null;
  if (target === null) return { revoked: false, error: null };
  try {
    const endpoints = options.endpoints ?? resolveOAuthEndpoints(options.env ?? process.env, provenanceOf(auth.tokens));
    await revokeToken(
      {
        revokeUrl: endpoints.revokeUrl,
        token: target.token,
        tokenTypeHint: target.hint,
        clientId: target.hint === "refresh_token" ? endpoints.clientId : null,
      },
      options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
    );
    return { revoked: true, error: null };
  } catch (error) {
    return { revoked: false, error: `${REVOKE_FAILURE_PREFIX}${describeRevokeFailure(target.kind, error)}` };
  }
}

/** `failed to revoke refresh token: 500 Internal Server Error: <message>` (Codex's revoke.rs wording). */
function describeRevokeFailure(kind: string, error: unknown): string {
  if (error instanceof OAuthStatusError) return `failed to revoke ${kind}: ${error.statusText}${error.detail ? `: ${error.detail}` : ""}`;
  if (error instanceof HttpError) return `failed to revoke ${kind}: ${error.message}`;
  return `failed to revoke ${kind}: ${error instanceof Error ? error.message : String(error)}`;
}
