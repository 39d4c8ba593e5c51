import type { StoredChatgptTokens } from "../../../generated/storage/auth-json.js";
import { accessTokenExpiresAt } from "./id-token.js";
import { parseLastRefresh } from "./persist.js";

/**
 * When managed tokens are due for a refresh. Kept apart from refresh.ts (which loads the OAuth
 * client) so `AuthManager.current()` can check cheaply and import the refresh only when it is due.
 */
export const REFRESH_WINDOW_MS = 5 * 60_000;
export const TOKEN_REFRESH_INTERVAL_MS = 8 * 24 * 60 * 60_000;

/**
 * Whether managed tokens should be refreshed now: the access token's `exp` is within 5 minutes
 * (or past); without `exp`, `last_refresh` is more than 8 days old; with neither, never.
 */
export function needsRefresh(tokens: Pick<StoredChatgptTokens, "access_token">, lastRefresh: string | null | undefined, now: Date = new Date()): boolean {
  const expiresAt = accessTokenExpiresAt(tokens.access_token);
  if (expiresAt !== null) return expiresAt.getTime() <= now.getTime() + REFRESH_WINDOW_MS;
  const refreshedAt = parseLastRefresh(lastRefresh);
  if (refreshedAt === null) return false;
  return refreshedAt.getTime() < now.getTime() - TOKEN_REFRESH_INTERVAL_MS;
}
