import { backendResponseValidators, createBackendClient } from "../../generated/http/backend.client.js";
import type { AccountsCheckResponse, UsagePayload } from "../../generated/http/backend.js";
import { HttpError, boundedFetch, sendValidated, type RevealableSecret } from "./request.js";
import { deadlineMs } from "../protocol/deadlines.js";

export type { AccountsCheckResponse, UsagePayload };

export const USAGE_PATH = "/wham/usage";
export const ACCOUNTS_CHECK_PATH = "/wham/accounts/check";
export const BACKEND_TIMEOUT_MS = deadlineMs("CODEX_AUTH_HTTP_TIMEOUT_MS", 10_000);

/** A 401 is an answer here, not an error: it starts 401 recovery. */
export type UsageResult = { status: 200; usage: UsagePayload } | { status: 401 };

export interface BackendRequestAuth {
  bearer: RevealableSecret;
  /** Sent as `ChatGPT-Account-Id` when known. */
  accountId: string | null;
}

/** `{chatgpt_base_url}wham/usage` for messages (the base keeps its path, e.g. `/backend-api/`). */
export function usageUrl(chatgptBaseUrl: string): string {
  return `${chatgptBaseUrl.replace(/\/+$/, "")}${USAGE_PATH}`;
}

/** GET wham/usage with the bearer; the 200 body is validated against the backend OpenAPI schema. */
export async function fetchUsage(
  auth: BackendRequestAuth,
  options: { chatgptBaseUrl: string; timeoutMs?: number; userAgent?: string },
): Promise<UsageResult> {
  const baseUrl = options.chatgptBaseUrl.replace(/\/+$/, "");
  // A client per call: openapi-fetch captures globalThis.fetch when the client is created.
  const client = createBackendClient({ baseUrl, fetch: boundedFetch });
  const headers: Record<string, string> = { Authorization: `Bearer ${auth.bearer.reveal()}`, Accept: "application/json" };
  if (auth.accountId !== null) headers["ChatGPT-Account-Id"] = auth.accountId;
  if (options.userAgent) headers["User-Agent"] = options.userAgent;
  try {
    const usage = await sendValidated<UsagePayload>({
      operation: `GET ${USAGE_PATH}`,
      validators: backendResponseValidators,
      url: usageUrl(options.chatgptBaseUrl),
      timeoutMs: options.timeoutMs ?? BACKEND_TIMEOUT_MS,
      send: (signal) => client.GET(USAGE_PATH, { headers, parseAs: "text", signal }),
    });
    return { status: 200, usage };
  } catch (error) {
    if (error instanceof HttpError && error.code === "STATUS" && error.status === 401) return { status: 401 };
    throw error;
  }
}

/**
 * GET wham/accounts/check (workspace routing discovery) with the bearer; the 200 body is validated
 * against the backend OpenAPI schema. Any other outcome is an `HttpError` (status, timeout, decode).
 */
export async function checkAccounts(
  auth: BackendRequestAuth,
  options: { chatgptBaseUrl: string; timeoutMs?: number; userAgent?: string; signal?: AbortSignal },
): Promise<AccountsCheckResponse> {
  const baseUrl = options.chatgptBaseUrl.replace(/\/+$/, "");
  const client = createBackendClient({ baseUrl, fetch: boundedFetch });
  const headers: Record<string, string> = { Authorization: `Bearer ${auth.bearer.reveal()}`, Accept: "application/json" };
  if (auth.accountId !== null) headers["ChatGPT-Account-Id"] = auth.accountId;
  if (options.userAgent) headers["User-Agent"] = options.userAgent;
  return sendValidated<AccountsCheckResponse>({
    operation: `GET ${ACCOUNTS_CHECK_PATH}`,
    validators: backendResponseValidators,
    url: `${baseUrl}${ACCOUNTS_CHECK_PATH}`,
    timeoutMs: options.timeoutMs ?? BACKEND_TIMEOUT_MS,
    ...(options.signal ? { signal: options.signal } : {}),
    send: (signal) => client.GET(ACCOUNTS_CHECK_PATH, { headers, parseAs: "text", signal }),
  });
}
