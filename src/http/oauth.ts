import { STATUS_CODES } from "node:http";
import { createOAuthClient, oAuthResponseValidators } from "../../generated/http/oauth.client.js";
import type {
  AuthorizationCodeTokens,
  DeviceTokenResponse,
  DeviceUserCodeResponse,
  OAuthError,
  RevokeRequest,
  TokenResponse,
} from "../../generated/http/oauth.js";
import { validateAuthorizationCodeTokens } from "../../generated/http/oauth.validators.js";
import type { Validator } from "../../generated/validator.js";
import { isHeaderSafeCredential, unsafeCredentialMessage } from "../protocol/safe-text.js";
import { describeValidationError } from "../protocol/validation-message.js";
import { HttpError, MAX_RESPONSE_BODY_BYTES, boundedFetch, limitResponseBody, sendValidated, type RevealableSecret, type SendResult } from "./request.js";
import { deadlineMs } from "../protocol/deadlines.js";

export type { AuthorizationCodeTokens, DeviceTokenResponse, TokenResponse };

/**
 * The OAuth issuer client (ChatGPT login): authorization-code and API-key exchanges (forms),
 * refresh (JSON), revoke (JSON) and the device-code endpoints. Every call goes through
 * `sendValidated` (10 s deadline, typed errors, generated response validators). Secrets go in as
 * `RevealableSecret`s and are revealed only into the request body; error messages carry the
 * status, the issuer's error code and its description with every secret of the request removed.
 */

export const DEFAULT_ISSUER = "https://auth.openai.com";
export const CODEX_CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
export const OAUTH_TIMEOUT_MS = deadlineMs("CODEX_AUTH_HTTP_TIMEOUT_MS", 10_000);
export const TOKEN_PATH = "/oauth/token";
export const REVOKE_PATH = "/oauth/revoke";
export const DEVICE_USER_CODE_PATH = "/api/accounts/deviceauth/usercode";
export const DEVICE_TOKEN_PATH = "/api/accounts/deviceauth/token";

const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token";

type Env = Readonly<Record<string, string | undefined>>;

/** Where the issuer's endpoints are, after env overrides. */
export interface OAuthEndpoints {
  /** `{issuer}`, no trailing `/`: the authorize page, the code exchange, device code. */
  readonly issuer: string;
  /** `CODEX_REFRESH_TOKEN_URL_OVERRIDE`, else `{issuer}/oauth/token`. */
  readonly refreshUrl: string;
  /** `CODEX_REVOKE_TOKEN_URL_OVERRIDE`, else derived from the refresh override, else `{issuer}/oauth/revoke`. */
  readonly revokeUrl: string;
  /** The client id for refresh and revoke: `CODEX_APP_SERVER_LOGIN_CLIENT_ID`, else Codex's. */
  readonly clientId: string;
}

/** Trimmed, empty counts as unset. */
function envValue(env: Env, name: string): string | null {
  const value = env[name]?.trim();
  return value ? value : null;
}

/**
 * The issuer is `CODEX_AUTH_ISSUER` (our override; Codex's CLI only has `--experimental_issuer`),
 * else `https://auth.openai.com`. An explicit `issuer` (a CLI flag) wins over both.
 */
export function resolveOAuthEndpoints(env: Env = process.env, overrides: { issuer?: string | null; clientId?: string | null } = {}): OAuthEndpoints {
  const issuer = (overrides.issuer?.trim() || envValue(env, "CODEX_AUTH_ISSUER") || DEFAULT_ISSUER).replace(/\/+$/, "");
  const refreshOverride = envValue(env, "CODEX_REFRESH_TOKEN_URL_OVERRIDE");
  const revokeOverride = envValue(env, "CODEX_REVOKE_TOKEN_URL_OVERRIDE");
  return Object.freeze({
    issuer,
    refreshUrl: refreshOverride ?? `${issuer}${TOKEN_PATH}`,
    revokeUrl: revokeOverride ?? (refreshOverride !== null ? deriveRevokeUrl(refreshOverride) : null) ?? `${issuer}${REVOKE_PATH}`,
    clientId: overrides.clientId?.trim() || envValue(env, "CODEX_APP_SERVER_LOGIN_CLIENT_ID") || CODEX_CLIENT_ID,
  });
}

/** Codex derives the revoke URL from a refresh override: same origin, path `/oauth/revoke`, no query. */
export function deriveRevokeUrl(refreshUrl: string): string | null {
  try {
    const url = new URL(refreshUrl);
    return `${url.origin}${REVOKE_PATH}`;
  } catch {
    return null;
  }
}

/**
 * A failed answer from the issuer: the HTTP status plus what its body said. `errorCode` is read
 * from `{"error":{"code"}}`, `{"error":"..."}` or `{"code"}`; `detail` is the human text
 * (`error_description`, `error.message`, else the body), secret-free and bounded.
 */
export class OAuthStatusError extends HttpError {
  readonly detail: string | null;

  constructor(status: number, errorCode: string | undefined, detail: string | null) {
    const reason = STATUS_CODES[status];
    super("STATUS", `${status}${reason ? ` ${reason}` : ""}${detail ? `: ${detail}` : ""}`, {
      status,
      ...(reason ? { reason } : {}),
      ...(errorCode ? { errorCode } : {}),
    });
    this.detail = detail;
  }

  /** `500 Internal Server Error` (reqwest's StatusCode display, as Codex prints it). */
  get statusText(): string {
    return `${this.status}${this.reason ? ` ${this.reason}` : ""}`;
  }
}

export interface OAuthCallOptions {
  timeoutMs?: number;
  /** Ends the request at once (a cancelled login), before its deadline. */
  signal?: AbortSignal;
}

/**
 * Runs one issuer call through sendValidated and, on a non-2xx status, rethrows it as an
 * OAuthStatusError built from the raw body (sendValidated keeps only `error.code`).
 */
async function call<T>(
  request: { operation: string; url: string; timeoutMs: number | undefined; secrets: readonly RevealableSecret[]; signal?: AbortSignal | undefined },
  send: (signal: AbortSignal) => Promise<SendResult>,
  validators: Readonly<Record<string, Readonly<Record<string, Validator<unknown>>>>> = oAuthResponseValidators,
): Promise<T> {
  let raw: SendResult | undefined;
  try {
    return await sendValidated<T>({
      operation: request.operation,
      validators,
      url: request.url,
      timeoutMs: request.timeoutMs ?? OAUTH_TIMEOUT_MS,
      ...(request.signal ? { signal: request.signal } : {}),
      send: async (signal) => (raw = await send(signal)),
    });
  } catch (error) {
    if (error instanceof HttpError && error.code === "STATUS" && error.status !== undefined) {
      // openapi-fetch hands error bodies over already JSON-parsed when they parse, else as text.
      const { errorCode, detail } = readOAuthErrorBody(raw?.error);
      throw new OAuthStatusError(error.status, errorCode, scrub(detail, request.secrets));
    }
    throw error;
  }
}

/** The error code and human text of an issuer error body (text, or JSON already parsed), whatever its shape. */
export function readOAuthErrorBody(body: unknown): { errorCode: string | undefined; detail: string | null } {
  let parsed: unknown = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      const text = body.trim();
      return { errorCode: undefined, detail: text ? text : null };
    }
  }
  if (typeof parsed !== "object" || parsed === null) {
    const text = typeof body === "string" ? body.trim() : "";
    return { errorCode: undefined, detail: text ? text : null };
  }
  const record = parsed as OAuthError & Record<string, unknown>;
  const nested = typeof record.error === "object" && record.error !== null ? record.error : undefined;
  const text = (value: unknown): string | undefined => (typeof value === "string" && value.length > 0 ? value : undefined);
  const errorCode = text(nested?.code) ?? text(record.error) ?? text(record.code);
  const detail = text(record.error_description) ?? text(nested?.message) ?? text(record.message) ?? errorCode ?? null;
  return { errorCode, detail };
}

const MAX_DETAIL_LENGTH = 300;

/** Removes every secret of the request from issuer-supplied text and bounds its length. */
function scrub(detail: string | null, secrets: readonly RevealableSecret[]): string | null {
  if (detail === null) return null;
  let text = detail;
  for (const secret of secrets) {
    const value = secret.reveal();
    if (value.length < 4) continue;
    // As sent (JSON or form encoded) and as is: an echo of the request body carries the encoded form.
    for (const form of new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2)])) {
      text = text.split(form).join("[REDACTED]");
    }
  }
  text = text.replace(/\s+/g, " ").trim();
  return text.length > MAX_DETAIL_LENGTH ? `${text.slice(0, MAX_DETAIL_LENGTH)}...` : text;
}

/** A fetch for openapi-fetch that sends the prepared request to an exact URL (an env override may carry its own path and query). */
function fetchTo(url: string): (request: Request) => Promise<Response> {
  return async (request) => {
    const response = await globalThis.fetch(url, {
      method: request.method,
      headers: request.headers,
      body: await request.text(),
      signal: request.signal,
    });
    return limitResponseBody(response, MAX_RESPONSE_BODY_BYTES);
  };
}

function formSerializer(fields: ReadonlyArray<readonly [string, string]>): () => string {
  // Built by hand so the parameters keep Codex's order.
  return () => new URLSearchParams(fields.map(([key, value]): [string, string] => [key, value])).toString();
}

const FORM_HEADERS = { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" };
const JSON_HEADERS = { "Content-Type": "application/json", Accept: "application/json" };

export interface AuthorizationCodeExchange {
  issuer: string;
  clientId: string;
  code: RevealableSecret;
  codeVerifier: RevealableSecret;
  redirectUri: string;
}

/**
 * `POST {issuer}/oauth/token`, form `grant_type=authorization_code&client_id&code&redirect_uri&code_verifier`
 * (Codex 0.169.0's order). The answer must carry all three tokens.
 */
export async function exchangeAuthorizationCode(request: AuthorizationCodeExchange, options: OAuthCallOptions = {}): Promise<AuthorizationCodeTokens> {
  const client = createOAuthClient({ baseUrl: request.issuer, fetch: boundedFetch });
  const fields = [
    ["grant_type", "authorization_code"],
    ["client_id", request.clientId],
    ["code", request.code.reveal()],
    ["redirect_uri", request.redirectUri],
    ["code_verifier", request.codeVerifier.reveal()],
  ] as const;
  const tokens = await call<TokenResponse>(
    { operation: `POST ${TOKEN_PATH}`, url: `${request.issuer}${TOKEN_PATH}`, timeoutMs: options.timeoutMs, signal: options.signal, secrets: [request.code, request.codeVerifier] },
    (signal) =>
      client.POST(TOKEN_PATH, {
        body: { grant_type: "authorization_code", client_id: request.clientId, code: "", redirect_uri: request.redirectUri, code_verifier: "" },
        bodySerializer: formSerializer(fields),
        headers: FORM_HEADERS,
        parseAs: "text",
        signal,
      }),
  );
  if (!validateAuthorizationCodeTokens(tokens)) {
    throw new HttpError("INVALID_RESPONSE", describeValidationError(validateAuthorizationCodeTokens.errors, tokens));
  }
  return refuseUnsafeTokens(tokens);
}

/**
 * Best-effort exchange of the id_token for an API key (`requested_token=openai-api-key`); the
 * key is the answer's `access_token`. Returns null when the issuer answers without one.
 */
export async function exchangeIdTokenForApiKey(
  request: { issuer: string; clientId: string; idToken: RevealableSecret },
  options: OAuthCallOptions = {},
): Promise<string | null> {
  const client = createOAuthClient({ baseUrl: request.issuer, fetch: boundedFetch });
  const fields = [
    ["grant_type", TOKEN_EXCHANGE_GRANT],
    ["client_id", request.clientId],
    ["requested_token", "openai-api-key"],
    ["subject_token", request.idToken.reveal()],
    ["subject_token_type", ID_TOKEN_TYPE],
  ] as const;
  const answer = await call<TokenResponse>(
    { operation: `POST ${TOKEN_PATH}`, url: `${request.issuer}${TOKEN_PATH}`, timeoutMs: options.timeoutMs, signal: options.signal, secrets: [request.idToken] },
    (signal) =>
      client.POST(TOKEN_PATH, {
        body: {
          grant_type: TOKEN_EXCHANGE_GRANT,
          client_id: request.clientId,
          requested_token: "openai-api-key",
          subject_token: "",
          subject_token_type: ID_TOKEN_TYPE,
        },
        bodySerializer: formSerializer(fields),
        headers: FORM_HEADERS,
        parseAs: "text",
        signal,
      }),
  );
  return refuseUnsafeTokens(answer).access_token ?? null;
}

/**
 * `POST <refreshUrl>` JSON `{client_id, grant_type: "refresh_token", refresh_token}`. Every
 * returned token is optional (a missing id_token keeps the stored one).
 */
export async function requestTokenRefresh(
  request: { refreshUrl: string; clientId: string; refreshToken: RevealableSecret },
  options: OAuthCallOptions = {},
): Promise<TokenResponse> {
  const client = createOAuthClient({ baseUrl: new URL(request.refreshUrl).origin, fetch: boundedFetch });
  const answer = await call<TokenResponse>(
    { operation: `POST ${TOKEN_PATH}`, url: request.refreshUrl, timeoutMs: options.timeoutMs, signal: options.signal, secrets: [request.refreshToken] },
    (signal) =>
      client.POST(TOKEN_PATH, {
        body: { client_id: request.clientId, grant_type: "refresh_token", refresh_token: "" },
        bodySerializer: () => JSON.stringify({ client_id: request.clientId, grant_type: "refresh_token", refresh_token: request.refreshToken.reveal() }),
        headers: JSON_HEADERS,
        parseAs: "text",
        fetch: fetchTo(request.refreshUrl),
        signal,
      }),
  );
  return refuseUnsafeTokens(answer);
}

/**
 * Tokens from the issuer are credentials entering from outside: each must be sendable in an HTTP
 * header (src/protocol/safe-text.ts), or the answer is refused, naming the field, never its value.
 */
function refuseUnsafeTokens<T extends { id_token?: string | undefined; access_token?: string | undefined; refresh_token?: string | undefined }>(tokens: T): T {
  for (const field of ["id_token", "access_token", "refresh_token"] as const) {
    const value = tokens[field];
    if (typeof value === "string" && !isHeaderSafeCredential(value)) {
      throw new HttpError("INVALID_RESPONSE", unsafeCredentialMessage(`the token endpoint's ${field}`));
    }
  }
  return tokens;
}

/** The revoke answer has no body (RFC 7009); it is validated as "empty". */
const validateEmpty = ((data: unknown) => data === null) as Validator<null>;
const REVOKE_VALIDATORS = { [`POST ${REVOKE_PATH}`]: { "200": validateEmpty as Validator<unknown> } };

/**
 * `POST <revokeUrl>` JSON `{token, token_type_hint, client_id?}` (Codex sends client_id with a
 * refresh token only). Any 2xx counts as revoked.
 */
export async function revokeToken(
  request: { revokeUrl: string; token: RevealableSecret; tokenTypeHint: RevokeRequest["token_type_hint"]; clientId: string | null },
  options: OAuthCallOptions = {},
): Promise<void> {
  const client = createOAuthClient({ baseUrl: new URL(request.revokeUrl).origin, fetch: boundedFetch });
  const body = () =>
    JSON.stringify({
      token: request.token.reveal(),
      token_type_hint: request.tokenTypeHint,
      ...(request.clientId !== null ? { client_id: request.clientId } : {}),
    });
  await call<null>(
    { operation: `POST ${REVOKE_PATH}`, url: request.revokeUrl, timeoutMs: options.timeoutMs, signal: options.signal, secrets: [request.token] },
    async (signal) => {
      const result = await client.POST(REVOKE_PATH, {
        body: { token: "", token_type_hint: request.tokenTypeHint },
        bodySerializer: body,
        headers: JSON_HEADERS,
        parseAs: "text",
        fetch: fetchTo(request.revokeUrl),
        signal,
      });
      // Any 2xx: whatever the body, it is "revoked".
      return result.response.ok ? { response: new Response("null", { status: 200 }), data: "null" } : result;
    },
    REVOKE_VALIDATORS,
  );
}

/** A validated DeviceUserCodeResponse with the code under one name. */
export interface DeviceUserCode {
  deviceAuthId: string;
  userCode: string;
  interval: string | number | undefined;
}

type DeviceUserCodeBody = DeviceUserCodeResponse;

/** `POST {issuer}/api/accounts/deviceauth/usercode` JSON `{client_id}`. */
export async function requestDeviceUserCode(request: { issuer: string; clientId: string }, options: OAuthCallOptions = {}): Promise<DeviceUserCode> {
  const client = createOAuthClient({ baseUrl: request.issuer, fetch: boundedFetch });
  const body = await call<DeviceUserCodeBody>(
    { operation: `POST ${DEVICE_USER_CODE_PATH}`, url: `${request.issuer}${DEVICE_USER_CODE_PATH}`, timeoutMs: options.timeoutMs, signal: options.signal, secrets: [] },
    (signal) =>
      client.POST(DEVICE_USER_CODE_PATH, {
        body: { client_id: request.clientId },
        headers: JSON_HEADERS,
        parseAs: "text",
        signal,
      }),
  );
  const userCode = body.user_code ?? body.usercode;
  if (userCode === undefined) throw new HttpError("INVALID_RESPONSE", "missing field `user_code`");
  return { deviceAuthId: body.device_auth_id, userCode, interval: body.interval };
}

/** One poll: the grant once approved, null while pending (403/404); other statuses throw. */
export async function pollDeviceToken(
  request: { issuer: string; deviceAuthId: string; userCode: string },
  options: OAuthCallOptions = {},
): Promise<DeviceTokenResponse | null> {
  const client = createOAuthClient({ baseUrl: request.issuer, fetch: boundedFetch });
  try {
    return await call<DeviceTokenResponse>(
      { operation: `POST ${DEVICE_TOKEN_PATH}`, url: `${request.issuer}${DEVICE_TOKEN_PATH}`, timeoutMs: options.timeoutMs, signal: options.signal, secrets: [] },
      (signal) =>
        client.POST(DEVICE_TOKEN_PATH, {
          body: { device_auth_id: request.deviceAuthId, user_code: request.userCode },
          headers: JSON_HEADERS,
          parseAs: "text",
          signal,
        }),
    );
  } catch (error) {
    if (error instanceof OAuthStatusError && (error.status === 403 || error.status === 404)) return null;
    throw error;
  }
}
