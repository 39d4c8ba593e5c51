import { HttpError } from "../../http/request.js";
import {
  CODEX_CLIENT_ID,
  exchangeAuthorizationCode,
  OAuthStatusError,
  pollDeviceToken,
  requestDeviceUserCode,
  resolveOAuthEndpoints,
  type AuthorizationCodeTokens,
  type DeviceTokenResponse,
  type DeviceUserCode,
} from "../../http/oauth.js";
import { describeSystemError } from "../errors.js";
import { Secret } from "../secret.js";
import { completeChatgptLogin, describeTokenEndpointError, type ChatgptLoginResult } from "./complete-login.js";
import { ChatgptLoginError, LOGIN_NOT_COMPLETED } from "./errors.js";
import type { PersistChatgptAuth } from "./persist.js";

export type { ChatgptLoginResult };

/**
 * Device-code login (Codex's `device_code_auth`): ask the issuer for a user code, let the caller
 * show it at once (the CLI prints the prompt, the app-server answers `{verificationUrl, userCode}`),
 * then poll at the issuer's interval (403/404: pending) for at most 15 minutes, exchange the grant
 * with `redirect_uri={issuer}/deviceauth/callback` and the server-issued verifier, check the
 * workspace, and persist with `OPENAI_API_KEY: null` (no API-key exchange).
 */

export const DEVICE_CODE_MAX_WAIT_MS = 15 * 60_000;
export const DEFAULT_POLL_INTERVAL_SECONDS = 5;
/**
 * The least time between two polls, whatever the issuer says (`interval: "0"` would otherwise mean
 * hundreds of polls a second for 15 minutes). `CODEX_AUTH_DEVICE_CODE_MIN_INTERVAL_MS` lowers it
 * for tests.
 */
export const MIN_POLL_INTERVAL_MS = 1_000;
export const MIN_POLL_INTERVAL_ENV = "CODEX_AUTH_DEVICE_CODE_MIN_INTERVAL_MS";
export const DEVICE_CODE_DISABLED_MESSAGE =
  "device code login is not enabled for this Codex server. Use the browser login or verify the server URL.";
export const DEVICE_AUTH_TIMED_OUT_MESSAGE = "device auth timed out after 15 minutes";

/** Codex's text at the default limit; a limit configured for tests names itself (`... after 2 seconds`). */
export function deviceAuthTimedOutMessage(maxWaitMs: number = DEVICE_CODE_MAX_WAIT_MS): string {
  return `device auth timed out after ${describeWait(maxWaitMs)}`;
}

/** `15 minutes`, `1 minute`, `2 seconds`, `250 ms`. */
export function describeWait(ms: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  if (ms > 0 && ms % 60_000 === 0) return plural(ms / 60_000, "minute");
  if (ms > 0 && ms % 1_000 === 0) return plural(ms / 1_000, "second");
  return `${ms} ms`;
}

export interface DeviceCodeLoginOptions {
  persist: PersistChatgptAuth;
  /** Default: `CODEX_AUTH_ISSUER` from `env`, else https://auth.openai.com. */
  issuer?: string;
  env?: Readonly<Record<string, string | undefined>>;
  clientId?: string;
  forcedWorkspaceIds?: readonly string[] | null;
  signal?: AbortSignal;
  /** How long to poll before `device auth timed out after 15 minutes` (injectable for tests; the message names the limit). */
  maxWaitMs?: number;
  /** Deadline of each issuer request (default 10 s). */
  httpTimeoutMs?: number;
  /** Floor on the poll interval (default MIN_POLL_INTERVAL_MS, or `CODEX_AUTH_DEVICE_CODE_MIN_INTERVAL_MS` from `env`). */
  minPollIntervalMs?: number;
}

export interface DeviceCodeLogin {
  /** `{issuer}/codex/device`: where the user types the code. */
  readonly verificationUrl: string;
  readonly userCode: string;
  /** The poll interval the issuer asked for, in seconds. */
  readonly intervalSeconds: number;
  /** Resolves once the credential is saved; rejects with a ChatgptLoginError. */
  readonly done: Promise<ChatgptLoginResult>;
  /** Stops polling (`Login was not completed`); nothing is saved afterwards. Idempotent. */
  cancel(): void;
}

/** Requests the user code (errors here are thrown), then polls in the background (`done`). */
export async function startDeviceCodeLogin(options: DeviceCodeLoginOptions): Promise<DeviceCodeLogin> {
  const issuer = (options.issuer ?? resolveOAuthEndpoints(options.env ?? process.env).issuer).replace(/\/+$/, "");
  const clientId = options.clientId ?? CODEX_CLIENT_ID;
  const http = options.httpTimeoutMs === undefined ? {} : { timeoutMs: options.httpTimeoutMs };

  let answer: DeviceUserCode;
  try {
    answer = await requestDeviceUserCode({ issuer, clientId }, http);
  } catch (error) {
    if (error instanceof OAuthStatusError && error.status === 404) throw new ChatgptLoginError("DEVICE_CODE_DISABLED", DEVICE_CODE_DISABLED_MESSAGE);
    if (error instanceof OAuthStatusError) {
      throw new ChatgptLoginError("DEVICE_CODE_REQUEST_FAILED", `device code request failed with status ${error.statusText}`, { cause: error });
    }
    throw new ChatgptLoginError("DEVICE_CODE_REQUEST_FAILED", `device code request failed: ${describeError(error)}`, { cause: error });
  }
  const { userCode, deviceAuthId } = answer;
  const intervalSeconds = parseInterval(answer.interval);

  const cancellation = new AbortController();
  const cancel = () => cancellation.abort();
  if (options.signal) {
    if (options.signal.aborted) cancel();
    else options.signal.addEventListener("abort", cancel, { once: true });
  }

  // Every request after the user code can be cancelled mid-flight: a cancel ends it at once.
  const cancellable = { ...http, signal: cancellation.signal };
  const minIntervalMs = options.minPollIntervalMs ?? readMinPollInterval(options.env ?? process.env);

  const run = async (): Promise<ChatgptLoginResult> => {
    const grant = await pollUntilApproved({
      issuer,
      deviceAuthId,
      userCode,
      intervalMs: Math.max(intervalSeconds * 1000, minIntervalMs),
      maxWaitMs: options.maxWaitMs ?? DEVICE_CODE_MAX_WAIT_MS,
      signal: cancellation.signal,
      http: cancellable,
    });
    let tokens: AuthorizationCodeTokens;
    try {
      tokens = await exchangeAuthorizationCode(
        {
          issuer,
          clientId,
          code: new Secret(grant.authorization_code),
          codeVerifier: new Secret(grant.code_verifier),
          redirectUri: `${issuer}/deviceauth/callback`,
        },
        cancellable,
      );
    } catch (error) {
      throwIfCancelled(cancellation.signal);
      throw new ChatgptLoginError("DEVICE_CODE_EXCHANGE_FAILED", `device code exchange failed: ${describeTokenEndpointError(error)}`, { cause: error });
    }
    throwIfCancelled(cancellation.signal);
    return completeChatgptLogin(tokens, {
      issuer,
      clientId,
      forcedWorkspaceIds: options.forcedWorkspaceIds ?? null,
      exchangeApiKey: false,
      // A cancel that lands while the API is answering must still keep the credential off disk.
      persist: async (auth) => {
        throwIfCancelled(cancellation.signal);
        await options.persist(auth);
      },
      ...(options.httpTimeoutMs === undefined ? {} : { httpTimeoutMs: options.httpTimeoutMs }),
    });
  };

  // Settles on cancel at once, even while a request is in flight (its answer is then ignored).
  const done = new Promise<ChatgptLoginResult>((resolve, reject) => {
    const onCancel = () => reject(new ChatgptLoginError("CANCELLED", LOGIN_NOT_COMPLETED));
    if (cancellation.signal.aborted) return onCancel();
    cancellation.signal.addEventListener("abort", onCancel, { once: true });
    run().then(resolve, reject);
  });
  done.catch(() => undefined);
  return Object.freeze({ verificationUrl: `${issuer}/codex/device`, userCode, intervalSeconds, done, cancel });
}

async function pollUntilApproved(request: {
  issuer: string;
  deviceAuthId: string;
  userCode: string;
  intervalMs: number;
  maxWaitMs: number;
  signal: AbortSignal;
  http: { timeoutMs?: number; signal?: AbortSignal };
}): Promise<DeviceTokenResponse> {
  const started = Date.now();
  for (;;) {
    throwIfCancelled(request.signal);
    let grant: DeviceTokenResponse | null;
    try {
      grant = await pollDeviceToken({ issuer: request.issuer, deviceAuthId: request.deviceAuthId, userCode: request.userCode }, request.http);
    } catch (error) {
      throwIfCancelled(request.signal);
      if (error instanceof OAuthStatusError) {
        throw new ChatgptLoginError("DEVICE_AUTH_FAILED", `device auth failed with status ${error.statusText}`, { cause: error });
      }
      throw new ChatgptLoginError("DEVICE_AUTH_FAILED", `device auth failed: ${describeError(error)}`, { cause: error });
    }
    if (grant !== null) return grant;
    const elapsed = Date.now() - started;
    if (elapsed >= request.maxWaitMs) throw new ChatgptLoginError("DEVICE_AUTH_TIMED_OUT", deviceAuthTimedOutMessage(request.maxWaitMs));
    await sleep(Math.min(request.intervalMs, request.maxWaitMs - elapsed), request.signal);
  }
}

/** The issuer's interval in seconds: a string in current issuers, a number in older ones; default 5. */
export function parseInterval(interval: string | number | undefined): number {
  const value = typeof interval === "number" ? interval : typeof interval === "string" && /^\s*\d+\s*$/.test(interval) ? Number(interval.trim()) : NaN;
  return Number.isFinite(value) && value >= 0 ? value : DEFAULT_POLL_INTERVAL_SECONDS;
}

function readMinPollInterval(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env[MIN_POLL_INTERVAL_ENV]?.trim();
  return raw && /^\d{1,9}$/.test(raw) ? Number(raw) : MIN_POLL_INTERVAL_MS;
}

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new ChatgptLoginError("CANCELLED", LOGIN_NOT_COMPLETED);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

function describeError(error: unknown): string {
  if (error instanceof HttpError) return error.message;
  return describeSystemError(error);
}
