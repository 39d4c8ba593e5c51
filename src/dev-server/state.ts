import type { UsagePayload } from "../../generated/http/backend.js";
import type { NetworkFault } from "./faults.js";
import { type DevAccount, JwtMinter, randomToken } from "./tokens.js";

/**
 * Everything the dev server remembers, in memory only. Raw secrets (tokens, codes) are map keys
 * here and nowhere else: not in the request log, not in log lines, not in `/__dev/state`.
 */

export const DEMO_ACCOUNT: DevAccount = {
  email: "demo@example.com",
  userId: "user-demo",
  accountId: "acct-demo",
  planType: "plus",
  isFedramp: false,
};

export const OTHER_WORKSPACE_ACCOUNT: DevAccount = {
  email: "other@example.com",
  userId: "user-other",
  accountId: "acct-other",
  planType: "team",
  isFedramp: false,
};

/** The WhoAmIResponse fields a PAT can be told to send as null (the deliberate non-conformance). */
export type WhoAmIRequiredField = "email" | "chatgpt_user_id" | "chatgpt_account_id" | "chatgpt_plan_type";

export interface PersonalAccessTokenRecord {
  account: DevAccount;
  /** The whoami status: 200, or an error status (401 revoked, 403 forbidden, ...). */
  status: number;
  /** Delay before whoami answers; `Infinity` holds the request until the server closes. */
  delayMs: number;
  nullFields: readonly WhoAmIRequiredField[];
  /** A built-in demo token, whose name is public and may be printed. */
  demo: boolean;
}

export interface AccessTokenRecord {
  account: DevAccount;
  issuedAtMs: number;
  expiresAtMs: number;
}

export interface RefreshTokenRecord {
  account: DevAccount;
  used: boolean;
  /** Revoked through `/oauth/revoke`. */
  invalidated: boolean;
}

export interface AuthorizationCodeRecord {
  account: DevAccount;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  used: boolean;
}

/** An `/oauth/authorize` request waiting for the user's Approve or Deny. */
export interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  scope: string;
  allowedWorkspaceIds: string[];
}

export interface DeviceGrant {
  authorizationCode: string;
  codeChallenge: string;
  codeVerifier: string;
}

export interface DeviceCodeRecord {
  deviceAuthId: string;
  userCode: string;
  clientId: string;
  createdAtMs: number;
  polls: number;
  status: "pending" | "approved" | "expired";
  grant: DeviceGrant | null;
}

/** A refresh failure the issuer can be switched to answer. */
export type RefreshFailure =
  | "refresh_token_expired"
  | "refresh_token_reused"
  | "refresh_token_invalidated"
  | "invalid_grant"
  | "server_error";
export const REFRESH_FAILURES: readonly RefreshFailure[] = [
  "refresh_token_expired",
  "refresh_token_reused",
  "refresh_token_invalidated",
  "invalid_grant",
  "server_error",
];

/** What `/oauth/authorize` does: show the page, or answer for the user at once (for scripted logins). */
export type AuthorizeMode = "page" | "approve" | "deny";

export interface DeviceCodeSettings {
  /** When false, `/deviceauth/usercode` answers 404 (device-code login not enabled). */
  enabled: boolean;
  /** The poll interval in seconds, a string as current issuers send it. */
  interval: string;
  /** Approve a device code by itself after this many pending polls (null: wait for approval). */
  autoApproveAfterPolls: number | null;
  /** The status polls of an expired code get; 403 keeps a client waiting, as upstream does. */
  expiredStatus: number;
  ttlSeconds: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** 0 until answered (or when the server closed before answering). */
  status: number;
  /** The first 16 hex digits of the bearer's SHA-256; null without a bearer. */
  bearerFingerprint: string | null;
  /** The `ChatGPT-Account-Id` header, which is not a secret. */
  chatgptAccountId: string | null;
  /** For `/oauth/token`: the grant type, whatever the body encoding. */
  grantType: string | null;
  /** Epoch milliseconds of arrival. */
  at: number;
}

export interface RevocationRecord {
  tokenFingerprint: string;
  tokenTypeHint: string;
  clientId: string | null;
  /** Whether the token was one this issuer had issued. */
  known: boolean;
  at: number;
}

export interface IssuedTokens {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  account: DevAccount;
  /** Epoch milliseconds at which the access token expires. */
  expiresAt: number;
}

export interface Countdown<T> {
  value: T;
  remaining: number;
}

export class DevState {
  url = "";
  readonly jwt = new JwtMinter(() => this.url);

  // Scenario settings.
  nextAccount: DevAccount = DEMO_ACCOUNT;
  accessTokenTtlSeconds: number;
  refreshTokenReuse = false;
  authorizeMode: AuthorizeMode = "page";
  apiKeyExchangeFailureStatus: number | null = null;
  device: DeviceCodeSettings;

  // Issued material, keyed by the raw secret.
  readonly personalAccessTokens = new Map<string, PersonalAccessTokenRecord>();
  readonly accessTokens = new Map<string, AccessTokenRecord>();
  readonly idTokens = new Map<string, DevAccount>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  readonly authorizationCodes = new Map<string, AuthorizationCodeRecord>();
  readonly pendingAuthorizations = new Map<string, PendingAuthorization>();
  /** By device_auth_id. */
  readonly deviceCodes = new Map<string, DeviceCodeRecord>();
  readonly revocations: RevocationRecord[] = [];

  // Switchable failures.
  globalRefreshFailure: Countdown<RefreshFailure> | null = null;
  readonly refreshFailuresByToken = new Map<string, RefreshFailure>();
  /** By request path: the next `remaining` requests answer `value` (a status) instead. */
  readonly injectedFailures = new Map<string, Countdown<number>>();
  /** By request path: network faults (faults.ts) for the next `remaining` requests; checked before `injectedFailures`. */
  readonly injectedFaults = new Map<string, Countdown<NetworkFault>>();

  // Backend.
  readonly allowedBearers = new Map<string, DevAccount>();
  readonly revokedBearers = new Set<string>();
  rejectAccessTokensIssuedBeforeMs: number | null = null;
  usage: UsagePayload | null = null;

  // Observations.
  readonly requests: Array<RecordedRequest & { bearerHash: string | null }> = [];
  readonly contractViolations: string[] = [];

  constructor(options: { accessTokenTtlSeconds: number; deviceCodeInterval: string; slowDelayMs: number }) {
    this.accessTokenTtlSeconds = options.accessTokenTtlSeconds;
    this.device = { enabled: true, interval: options.deviceCodeInterval, autoApproveAfterPolls: null, expiredStatus: 403, ttlSeconds: 900 };
    const demo = (account: DevAccount, status: number, extra: Partial<PersonalAccessTokenRecord> = {}): PersonalAccessTokenRecord =>
      ({ account, status, delayMs: 0, nullFields: [], demo: true, ...extra });
    this.personalAccessTokens.set("at-demo-valid", demo(DEMO_ACCOUNT, 200));
    this.personalAccessTokens.set("at-demo-revoked", demo(DEMO_ACCOUNT, 401));
    this.personalAccessTokens.set("at-demo-missing-email", demo(DEMO_ACCOUNT, 200, { nullFields: ["email"] }));
    this.personalAccessTokens.set("at-demo-slow", demo(DEMO_ACCOUNT, 200, { delayMs: options.slowDelayMs }));
    this.personalAccessTokens.set("at-demo-forbidden", demo(DEMO_ACCOUNT, 403));
    this.personalAccessTokens.set("at-demo-other-workspace", demo(OTHER_WORKSPACE_ACCOUNT, 200));
  }

  /** Mints and remembers an id_token, access token and single-use refresh token for `account`. */
  issueTokenSet(account: DevAccount, ttlSeconds = this.accessTokenTtlSeconds): IssuedTokens {
    const issuedAtMs = Date.now();
    const issuedAtSeconds = Math.floor(issuedAtMs / 1000);
    const expiresAtSeconds = issuedAtSeconds + ttlSeconds;
    const idToken = this.jwt.idToken(account, issuedAtSeconds);
    const accessToken = this.jwt.accessToken(account, issuedAtSeconds, expiresAtSeconds);
    const refreshToken = randomToken("rt-dev-");
    this.idTokens.set(idToken, account);
    this.accessTokens.set(accessToken, { account, issuedAtMs, expiresAtMs: expiresAtSeconds * 1000 });
    this.refreshTokens.set(refreshToken, { account, used: false, invalidated: false });
    return { idToken, accessToken, refreshToken, account, expiresAt: expiresAtSeconds * 1000 };
  }
}

/** Takes one use of a countdown; returns its value, or null once it has run out. */
export function takeOne<T>(countdown: Countdown<T> | null | undefined): T | null {
  if (!countdown || countdown.remaining <= 0) return null;
  countdown.remaining -= 1;
  return countdown.value;
}
