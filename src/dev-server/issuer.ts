import type { OAuthError, TokenResponse } from "../../generated/http/oauth.js";
import {
  validateAuthorizationCodeGrant,
  validateAuthorizationCodeTokens,
  validateOAuthError,
  validateRefreshTokenGrant,
  validateRevokeRequest,
  validateTokenExchangeGrant,
  validateTokenResponse,
} from "../../generated/http/oauth.validators.js";
import {
  apiError,
  describeErrors,
  empty,
  html,
  json,
  parseFormBody,
  parseJsonBody,
  redirect,
  type DevRequest,
  type Reply,
  type Route,
} from "./http.js";
import { authorizePage, errorPage } from "./pages.js";
import { type DevState, type IssuedTokens, type PendingAuthorization, type RefreshFailure, takeOne } from "./state.js";
import { type DevAccount, fingerprint, pkceChallengeS256, randomToken } from "./tokens.js";

/**
 * The OAuth issuer: the browser authorize page, `/oauth/token` (authorization code and API-key
 * token exchange as forms, refresh as JSON, exactly as Codex sends them) and `/oauth/revoke`.
 */

const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";

export function issuerRoutes(state: DevState): Route[] {
  return [
    { method: "GET", path: "/oauth/authorize", handle: (request) => authorize(state, request) },
    { method: "POST", path: "/oauth/authorize/decision", handle: (request) => authorizeDecision(state, request) },
    { method: "POST", path: "/oauth/token", api: "oauth", handle: (request) => token(state, request) },
    { method: "POST", path: "/oauth/revoke", api: "oauth", handle: (request) => revoke(state, request) },
  ];
}

/** The standard OAuth error shape (`{"error": "invalid_grant", "error_description": ...}`). */
function oauthError(status: number, error: string, description: string): Reply {
  const body: OAuthError = { error, error_description: description };
  return json(status, body, validateOAuthError);
}

function authorize(state: DevState, request: DevRequest): Reply {
  const query = request.query;
  const problem = authorizeRequestProblem(query);
  // Without a trustworthy redirect_uri and state there is nowhere safe to send an error: show it.
  if (problem) return html(400, errorPage("Invalid sign-in request", problem));
  const pending: PendingAuthorization = {
    clientId: query.get("client_id")!,
    redirectUri: query.get("redirect_uri")!,
    state: query.get("state")!,
    codeChallenge: query.get("code_challenge")!,
    scope: query.get("scope")!,
    allowedWorkspaceIds: (query.get("allowed_workspace_id") ?? "").split(",").map((id) => id.trim()).filter(Boolean),
  };
  if (state.authorizeMode === "approve") return approve(state, pending, state.nextAccount);
  if (state.authorizeMode === "deny") return deny(pending);
  const requestId = randomToken("authz-", 12);
  state.pendingAuthorizations.set(requestId, pending);
  return html(200, authorizePage(requestId, pending, state.nextAccount));
}

function authorizeRequestProblem(query: URLSearchParams): string | null {
  for (const name of ["response_type", "client_id", "redirect_uri", "scope", "code_challenge", "code_challenge_method", "state"]) {
    if (!query.get(name)) return `Missing required parameter: ${name}.`;
  }
  if (query.get("response_type") !== "code") return "response_type must be code.";
  if (query.get("code_challenge_method") !== "S256") return "code_challenge_method must be S256.";
  if (!URL.canParse(query.get("redirect_uri")!)) return "redirect_uri must be an absolute URL.";
  return null;
}

function authorizeDecision(state: DevState, request: DevRequest): Reply {
  const form = parseFormBody(request);
  if (!form.ok) return html(400, errorPage("Invalid sign-in request", form.reason));
  const requestId = String(form.value.request_id ?? "");
  const pending = state.pendingAuthorizations.get(requestId);
  if (!pending) return html(400, errorPage("Invalid sign-in request", "This sign-in request is unknown or was already answered."));
  state.pendingAuthorizations.delete(requestId);
  if (form.value.decision !== "approve") return deny(pending);
  const accountId = String(form.value.account_id ?? "").trim();
  return approve(state, pending, accountId ? { ...state.nextAccount, accountId } : state.nextAccount);
}

function approve(state: DevState, pending: PendingAuthorization, account: DevAccount): Reply {
  const code = randomToken("code-dev-");
  state.authorizationCodes.set(code, {
    account,
    clientId: pending.clientId,
    redirectUri: pending.redirectUri,
    codeChallenge: pending.codeChallenge,
    used: false,
  });
  return redirect(withQuery(pending.redirectUri, { code, state: pending.state }));
}

function deny(pending: PendingAuthorization): Reply {
  return redirect(
    withQuery(pending.redirectUri, {
      error: "access_denied",
      error_description: "The user denied the sign-in request.",
      state: pending.state,
    }),
  );
}

function withQuery(base: string, params: Record<string, string>): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

function token(state: DevState, request: DevRequest): Reply {
  if (request.contentType === "application/json") {
    const body = parseJsonBody(request);
    if (!body.ok) return oauthError(400, "invalid_request", body.reason);
    request.notes.grantType = String(body.value.grant_type ?? "");
    if (body.value.grant_type !== "refresh_token") {
      return oauthError(400, "unsupported_grant_type", "Only grant_type=refresh_token is accepted as JSON; send other grants as a form.");
    }
    return refresh(state, body.value);
  }
  const form = parseFormBody(request);
  if (!form.ok) return oauthError(400, "invalid_request", form.reason);
  request.notes.grantType = String(form.value.grant_type ?? "");
  switch (form.value.grant_type) {
    case "authorization_code":
      return authorizationCode(state, form.value);
    case TOKEN_EXCHANGE_GRANT:
      return apiKeyExchange(state, form.value);
    case "refresh_token":
      return oauthError(400, "unsupported_grant_type", "grant_type=refresh_token must be sent as JSON.");
    default:
      return oauthError(400, "unsupported_grant_type", "Unsupported grant_type.");
  }
}

function tokenResponse(tokens: IssuedTokens, ttlSeconds: number): TokenResponse & { id_token: string; access_token: string; refresh_token: string } {
  return {
    id_token: tokens.idToken,
    access_token: tokens.accessToken,
    refresh_token: tokens.refreshToken,
    token_type: "Bearer",
    expires_in: ttlSeconds,
  };
}

function authorizationCode(state: DevState, form: Record<string, unknown>): Reply {
  if (!validateAuthorizationCodeGrant(form)) {
    return oauthError(400, "invalid_request", describeErrors(validateAuthorizationCodeGrant));
  }
  const record = state.authorizationCodes.get(form.code);
  if (!record || record.used) return oauthError(400, "invalid_grant", "The authorization code is unknown or was already used.");
  if (record.clientId !== form.client_id) return oauthError(400, "invalid_grant", "client_id does not match the authorization request.");
  if (record.redirectUri !== form.redirect_uri) return oauthError(400, "invalid_grant", "redirect_uri does not match the authorization request.");
  if (pkceChallengeS256(form.code_verifier) !== record.codeChallenge) {
    return oauthError(400, "invalid_grant", "PKCE verification failed: code_verifier does not match code_challenge.");
  }
  record.used = true;
  const ttlSeconds = state.accessTokenTtlSeconds;
  return json(200, tokenResponse(state.issueTokenSet(record.account, ttlSeconds), ttlSeconds), validateAuthorizationCodeTokens);
}

function apiKeyExchange(state: DevState, form: Record<string, unknown>): Reply {
  if (!validateTokenExchangeGrant(form)) return oauthError(400, "invalid_request", describeErrors(validateTokenExchangeGrant));
  if (state.apiKeyExchangeFailureStatus !== null) {
    return apiError("oauth", state.apiKeyExchangeFailureStatus, "api_key_exchange_failed", "The API-key exchange is switched to fail.");
  }
  if (!state.idTokens.has(form.subject_token)) return oauthError(400, "invalid_grant", "subject_token is not an id_token issued by this issuer.");
  return json(200, { access_token: randomToken("sk-dev-") }, validateTokenResponse);
}

function refresh(state: DevState, body: Record<string, unknown>): Reply {
  if (!validateRefreshTokenGrant(body)) return oauthError(400, "invalid_request", describeErrors(validateRefreshTokenGrant));
  const forced = state.refreshFailuresByToken.get(body.refresh_token) ?? takeOne(state.globalRefreshFailure);
  if (forced) return refreshFailure(forced);
  const record = state.refreshTokens.get(body.refresh_token);
  if (!record) return oauthError(400, "invalid_grant", "The refresh token is unknown.");
  if (record.invalidated) return refreshFailure("refresh_token_invalidated");
  if (record.used && !state.refreshTokenReuse) return refreshFailure("refresh_token_reused");
  record.used = true;
  const ttlSeconds = state.accessTokenTtlSeconds;
  return json(200, tokenResponse(state.issueTokenSet(record.account, ttlSeconds), ttlSeconds), validateTokenResponse);
}

const REFRESH_FAILURE_MESSAGES: Record<RefreshFailure, string> = {
  refresh_token_expired: "Your refresh token has expired. Please try signing in again.",
  refresh_token_reused: "Your refresh token has already been used to generate a new access token. Please try signing in again.",
  refresh_token_invalidated: "Your refresh token has been invalidated. Please try signing in again.",
  invalid_grant: "The refresh token is invalid.",
  server_error: "The issuer failed unexpectedly (a transient error injected by the dev server).",
};

/** The three known codes are 401s (permanent), `invalid_grant` a 400 (permanent), `server_error` a 500 (transient). */
function refreshFailure(failure: RefreshFailure): Reply {
  const message = REFRESH_FAILURE_MESSAGES[failure];
  if (failure === "invalid_grant") return oauthError(400, "invalid_grant", message);
  return apiError("oauth", failure === "server_error" ? 500 : 401, failure, message);
}

function revoke(state: DevState, request: DevRequest): Reply {
  const body = parseJsonBody(request);
  if (!body.ok) return oauthError(400, "invalid_request", body.reason);
  if (!validateRevokeRequest(body.value)) return oauthError(400, "invalid_request", describeErrors(validateRevokeRequest));
  const { token: revoked, token_type_hint: hint } = body.value;
  const refreshToken = state.refreshTokens.get(revoked);
  if (refreshToken) refreshToken.invalidated = true;
  const accessToken = state.accessTokens.has(revoked);
  if (accessToken) state.revokedBearers.add(revoked);
  state.revocations.push({
    tokenFingerprint: fingerprint(revoked),
    tokenTypeHint: hint,
    clientId: body.value.client_id ?? null,
    known: refreshToken !== undefined || accessToken,
    at: Date.now(),
  });
  // RFC 7009: an unknown token is answered like a revoked one.
  return empty(200);
}
