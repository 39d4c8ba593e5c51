import { authApiResponseValidators, createAuthApiClient } from "../../generated/http/authapi.client.js";
import type { WhoAmIResponse } from "../../generated/http/authapi.js";
import { boundedFetch, sendValidated, type RevealableSecret } from "./request.js";
import { deadlineMs } from "../protocol/deadlines.js";

export type { WhoAmIResponse };

export const DEFAULT_AUTHAPI_BASE_URL = "https://auth.openai.com/api/accounts";
export const WHOAMI_PATH = "/v1/user-auth-credential/whoami";
export const AUTHAPI_TIMEOUT_MS = deadlineMs("CODEX_AUTH_HTTP_TIMEOUT_MS", 10_000);

/** `CODEX_AUTHAPI_BASE_URL`, trimmed, without a trailing `/`; empty means the default. */
export function resolveAuthApiBaseUrl(env: Readonly<Record<string, string | undefined>>): string {
  const configured = env.CODEX_AUTHAPI_BASE_URL?.trim().replace(/\/+$/, "");
  return configured ? configured : DEFAULT_AUTHAPI_BASE_URL;
}

/** GET whoami with the token as bearer; the 200 body is validated against the AuthAPI OpenAPI schema (fails closed). */
export async function fetchPersonalAccessTokenMetadata(
  token: RevealableSecret,
  options: { baseUrl: string; timeoutMs?: number },
): Promise<WhoAmIResponse> {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  // A client per call: openapi-fetch captures globalThis.fetch when the client is created.
  const client = createAuthApiClient({ baseUrl, fetch: boundedFetch });
  return sendValidated<WhoAmIResponse>({
    operation: `GET ${WHOAMI_PATH}`,
    validators: authApiResponseValidators,
    url: `${baseUrl}${WHOAMI_PATH}`,
    timeoutMs: options.timeoutMs ?? AUTHAPI_TIMEOUT_MS,
    send: (signal) =>
      client.GET(WHOAMI_PATH, {
        headers: { Authorization: `Bearer ${token.reveal()}`, Accept: "application/json" },
        parseAs: "text",
        signal,
      }),
  });
}
