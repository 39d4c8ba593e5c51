import type { UsagePayload } from "../../generated/http/backend.js";
import { approveDeviceRecord, findDeviceRecord } from "./device-code.js";
import {
  DEMO_ACCOUNT,
  type AuthorizeMode,
  type DeviceCodeSettings,
  type DevState,
  type IssuedTokens,
  type RecordedRequest,
  type RefreshFailure,
  type RevocationRecord,
  type WhoAmIRequiredField,
} from "./state.js";
import { type DevAccount, fingerprint, sha256Hex } from "./tokens.js";
import { USAGE_PATH } from "./backend.js";
import { checkFault, describeFault, type NetworkFault } from "./faults.js";

/**
 * Scenario controls: the programmatic switches tests use, and the `/__dev/` control plane calls.
 * Accounts given as `Partial<DevAccount>` are completed from the demo account
 * (demo@example.com, user-demo, acct-demo, plus, not FedRAMP).
 */

export interface PersonalAccessTokenOptions {
  account?: Partial<DevAccount>;
  /** whoami status (default 200). The backend accepts the token only when this is 200. */
  status?: number;
  /** whoami answers after this delay; `Infinity` holds it until the server closes. */
  delayMs?: number;
  /** Send these required WhoAmIResponse fields as null (deliberately non-conforming). */
  nullFields?: readonly WhoAmIRequiredField[];
}

export interface BackendControls {
  /** The next `count` (default 1) usage requests answer `status` with a BackendError body. */
  failNext(status: number, count?: number): void;
  /** From now on this bearer (access token, PAT or allowed bearer) gets 401. */
  revokeBearer(token: string): void;
  /** Accept this bearer as `account` (default: the demo account). */
  allowBearer(token: string, account?: Partial<DevAccount>): void;
  /** Reject access tokens issued before `moment` (default now; null clears), so a refresh is needed. */
  rejectTokensIssuedBefore(moment?: Date | number | null): void;
  /** Answer this payload (null: the default, built from the bearer's plan). */
  setUsage(payload: UsagePayload | null): void;
}

export interface DeviceCodeView {
  userCode: string;
  status: "pending" | "approved" | "expired";
  polls: number;
}

/** An active network fault (`faults` and `/__dev/state`). */
export interface FaultView {
  path: string;
  fault: NetworkFault;
  description: string;
  /** Requests it still applies to (`null`: every request until cleared). */
  remaining: number | null;
}

/** A JSON-safe view of the server's state, without secrets (`GET /__dev/state`). */
export interface DevServerSnapshot {
  settings: {
    nextAccount: DevAccount;
    accessTokenTtlSeconds: number;
    refreshTokenReuse: boolean;
    authorizeMode: AuthorizeMode;
    apiKeyExchangeFailureStatus: number | null;
    device: DeviceCodeSettings;
    rejectAccessTokensIssuedBefore: number | null;
  };
  personalAccessTokens: Array<{ name: string; status: number; accountId: string }>;
  deviceCodes: DeviceCodeView[];
  revocations: RevocationRecord[];
  faults: FaultView[];
  counts: Record<string, number>;
  requests: RecordedRequest[];
  contractViolations: string[];
}

export interface ScenarioControls {
  addPersonalAccessToken(token: string, options?: PersonalAccessTokenOptions): void;
  /** The account the next logins (browser, device code) sign in as, until changed; null: the demo account. */
  setNextAccount(account: Partial<DevAccount> | null): DevAccount;
  /** "page" (default) shows Approve/Deny; "approve"/"deny" redirect at once, for scripted browser logins. */
  setAuthorizeMode(mode: AuthorizeMode): void;
  /** Lifetime of access tokens minted by later logins and refreshes (may be ≤ 0: already expired). */
  setAccessTokenTtl(seconds: number): void;
  /** Mint a token set directly (no browser), e.g. to write an auth.json with chatgpt tokens. */
  issueTokens(account?: Partial<DevAccount>, options?: { ttlSeconds?: number }): IssuedTokens;
  /**
   * Make refreshes fail: with `refreshToken`, every use of that token; otherwise the next `count`
   * refreshes (default: all, until cleared).
   */
  failRefresh(failure: RefreshFailure, options?: { refreshToken?: string; count?: number }): void;
  clearRefreshFailures(): void;
  /** Refresh tokens are single-use unless this is switched on. */
  allowRefreshTokenReuse(allowed: boolean): void;
  /** Make the id_token → API-key exchange answer `status` (null: succeed again). */
  failApiKeyExchange(status: number | null): void;
  wasRevoked(token: string): boolean;
  readonly revocations: readonly RevocationRecord[];
  setDeviceCodeSettings(settings: Partial<DeviceCodeSettings>): void;
  /** Approve a device code (default: the newest pending one); throws when there is none. */
  approveDeviceCode(userCode?: string): void;
  /** Expire (or deny) a device code (default: the newest pending one); throws when there is none. */
  expireDeviceCode(userCode?: string): void;
  readonly deviceCodes: readonly DeviceCodeView[];
  /** The next `count` (default 1) requests to `path` on a contract route answer `status` instead. */
  failNext(path: string, status: number, count?: number): void;
  /**
   * The next `count` requests (default 1; `Infinity`: until cleared) to `path` on a contract route
   * get a network fault instead of an answer: a hang, a bare or HTML non-2xx, malformed or
   * contract-breaking JSON, an oversized body, a reset connection or a slow drip (faults.ts).
   * Takes precedence over `failNext`.
   */
  injectFault(path: string, fault: NetworkFault, options?: { count?: number }): void;
  clearFaults(path?: string): void;
  readonly faults: readonly FaultView[];
  readonly backend: BackendControls;
  /** Every request so far (control plane excluded), oldest first. */
  readonly requests: readonly RecordedRequest[];
  count(method: string, path: string): number;
  /** Whether any request to `path` carried `token` as its bearer (compared by hash). */
  sawBearer(path: string, token: string): boolean;
  /** Responses the server refused to send because they broke the contract (should stay empty). */
  readonly contractViolations: readonly string[];
  snapshot(): DevServerSnapshot;
}

export function completeAccount(account: Partial<DevAccount> | null | undefined): DevAccount {
  const defined = Object.fromEntries(Object.entries(account ?? {}).filter(([, value]) => value !== undefined));
  return { ...DEMO_ACCOUNT, ...defined };
}

function pathOf(pathOrUrl: string): string {
  return /^https?:\/\//.test(pathOrUrl) ? new URL(pathOrUrl).pathname : pathOrUrl;
}

function positiveCount(count: number | undefined, fallback: number): number {
  const value = count ?? fallback;
  if (!(value > 0)) throw new Error(`count must be positive, got ${value}`);
  return value;
}

export function createScenario(state: DevState): ScenarioControls {
  const publicRequests = (): RecordedRequest[] => state.requests.map(({ bearerHash: _hidden, ...record }) => ({ ...record }));

  const backend: BackendControls = {
    failNext(status, count) {
      state.injectedFailures.set(USAGE_PATH, { value: status, remaining: positiveCount(count, 1) });
    },
    revokeBearer(token) {
      state.revokedBearers.add(token);
    },
    allowBearer(token, account) {
      state.revokedBearers.delete(token);
      state.allowedBearers.set(token, completeAccount(account));
    },
    rejectTokensIssuedBefore(moment = Date.now()) {
      state.rejectAccessTokensIssuedBeforeMs = moment === null ? null : moment instanceof Date ? moment.getTime() : moment;
    },
    setUsage(payload) {
      state.usage = payload;
    },
  };

  const scenario: ScenarioControls = {
    addPersonalAccessToken(token, options = {}) {
      state.personalAccessTokens.set(token, {
        account: completeAccount(options.account),
        status: options.status ?? 200,
        delayMs: options.delayMs ?? 0,
        nullFields: [...(options.nullFields ?? [])],
        demo: false,
      });
    },
    setNextAccount(account) {
      state.nextAccount = completeAccount(account);
      return state.nextAccount;
    },
    setAuthorizeMode(mode) {
      state.authorizeMode = mode;
    },
    setAccessTokenTtl(seconds) {
      state.accessTokenTtlSeconds = seconds;
    },
    issueTokens(account, options = {}) {
      return state.issueTokenSet(completeAccount(account), options.ttlSeconds);
    },
    failRefresh(failure, options = {}) {
      if (options.refreshToken !== undefined) state.refreshFailuresByToken.set(options.refreshToken, failure);
      else state.globalRefreshFailure = { value: failure, remaining: positiveCount(options.count, Infinity) };
    },
    clearRefreshFailures() {
      state.globalRefreshFailure = null;
      state.refreshFailuresByToken.clear();
    },
    allowRefreshTokenReuse(allowed) {
      state.refreshTokenReuse = allowed;
    },
    failApiKeyExchange(status) {
      state.apiKeyExchangeFailureStatus = status;
    },
    wasRevoked(token) {
      const wanted = fingerprint(token);
      return state.revocations.some((revocation) => revocation.tokenFingerprint === wanted);
    },
    get revocations() {
      return state.revocations.map((revocation) => ({ ...revocation }));
    },
    setDeviceCodeSettings(settings) {
      state.device = { ...state.device, ...settings };
    },
    approveDeviceCode(userCode) {
      const record = findDeviceRecord(state, userCode);
      if (!record) throw new Error(userCode === undefined ? "no pending device code" : `unknown device code ${userCode}`);
      approveDeviceRecord(state, record);
    },
    expireDeviceCode(userCode) {
      const record = findDeviceRecord(state, userCode);
      if (!record) throw new Error(userCode === undefined ? "no pending device code" : `unknown device code ${userCode}`);
      record.status = "expired";
    },
    get deviceCodes() {
      return [...state.deviceCodes.values()].map(({ userCode, status, polls }) => ({ userCode, status, polls }));
    },
    failNext(path, status, count) {
      state.injectedFailures.set(pathOf(path), { value: status, remaining: positiveCount(count, 1) });
    },
    injectFault(path, fault, options = {}) {
      state.injectedFaults.set(pathOf(path), { value: checkFault(fault), remaining: positiveCount(options.count, 1) });
    },
    clearFaults(path) {
      if (path === undefined) state.injectedFaults.clear();
      else state.injectedFaults.delete(pathOf(path));
    },
    get faults() {
      return [...state.injectedFaults].map(([path, { value, remaining }]) => ({
        path,
        fault: structuredClone(value),
        description: describeFault(value),
        remaining: Number.isFinite(remaining) ? remaining : null,
      }));
    },
    backend,
    get requests() {
      return publicRequests();
    },
    count(method, path) {
      const wantedMethod = method.toUpperCase();
      const wantedPath = pathOf(path);
      return state.requests.filter((record) => record.method === wantedMethod && record.path === wantedPath).length;
    },
    sawBearer(path, token) {
      const wantedPath = pathOf(path);
      const hash = sha256Hex(token);
      return state.requests.some((record) => record.path === wantedPath && record.bearerHash === hash);
    },
    get contractViolations() {
      return [...state.contractViolations];
    },
    snapshot() {
      const counts: Record<string, number> = {};
      for (const record of state.requests) {
        const key = `${record.method} ${record.path}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return {
        settings: {
          nextAccount: state.nextAccount,
          accessTokenTtlSeconds: state.accessTokenTtlSeconds,
          refreshTokenReuse: state.refreshTokenReuse,
          authorizeMode: state.authorizeMode,
          apiKeyExchangeFailureStatus: state.apiKeyExchangeFailureStatus,
          device: state.device,
          rejectAccessTokensIssuedBefore: state.rejectAccessTokensIssuedBeforeMs,
        },
        // Demo token names are public; tokens added by tests are shown by fingerprint only.
        personalAccessTokens: [...state.personalAccessTokens].map(([token, record]) => ({
          name: record.demo ? token : `sha256:${fingerprint(token)}`,
          status: record.status,
          accountId: record.account.accountId,
        })),
        deviceCodes: [...scenario.deviceCodes],
        revocations: [...scenario.revocations],
        faults: [...scenario.faults],
        counts,
        requests: publicRequests(),
        contractViolations: [...state.contractViolations],
      };
    },
  };
  return scenario;
}
