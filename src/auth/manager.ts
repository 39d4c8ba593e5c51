import type { AuthMode, PlanType } from "../../generated/protocol/common.js";
import type { AuthDotJson } from "../../generated/storage/auth-json.js";
import { readEnvValue, type Env } from "./codex-home.js";
import type { ChatgptLoginHandle, ChatgptLoginServerOptions } from "./chatgpt/login-server.js";
import type { DeviceCodeLogin, DeviceCodeLoginOptions } from "./chatgpt/device-code.js";
import type { ManagedChatgpt } from "./chatgpt/managed.js";
import type { AuthConfig } from "./config.js";
import { classifyAccessToken, decodeAgentIdentityJwt, type AgentIdentityClaims } from "./credentials.js";
import { readJwtClaimsUnverified } from "./jwt.js";
import { AuthError } from "./errors.js";
import type { PersonalAccessTokenHydrator, PersonalAccessTokenMetadata } from "./personal-access-token.js";
import { toPlanType } from "../protocol/plan-type.js";
import {
  assertAccessTokenLoginAllowed,
  assertApiKeyLoginAllowed,
  assertChatgptLoginAllowed,
  assertExternalAuthAllowed,
  authRestrictionViolation,
  ensureExternalWorkspaceAllowed,
  ensureLoginWorkspaceAllowed,
  loginMethodViolation,
} from "./policy.js";
import { UnauthorizedRecovery, type RecoveryStep } from "./recovery.js";
import { admitCredential, Secret } from "./secret.js";
import type { AuthStore } from "./store/auth-store.js";
import { resolveStoredMode } from "./store/format.js";
import { createAuthStore } from "./store/index.js";

/** The credential in effect. `bearer` is a Secret, so inspecting or serializing this shows no secret. */
export interface CurrentAuth {
  readonly mode: AuthMode;
  readonly source: "env" | "store" | "external";
  readonly bearer: Secret;
  readonly accountId: string | null;
  readonly userId: string | null;
  readonly email: string | null;
  readonly planType: PlanType | null;
  readonly isFedramp: boolean;
}

export interface ExternalTokens {
  accessToken: Secret;
  chatgptAccountId: string;
  chatgptPlanType?: string | null;
}

export interface AuthManagerOptions {
  codexHome: string;
  config: AuthConfig;
  env?: Env;
  /** Honour `CODEX_API_KEY` (exec and app-server do; `login status` does not). */
  enableCodexApiKeyEnv: boolean;
  store?: AuthStore;
  /**
   * Refresh managed ChatGPT tokens in `current()` when they are due (default true). `login status`
   * passes false: Codex 0.169.0's `login status` sends no refresh (checked against the binary).
   */
  proactiveRefresh?: boolean;
  /** Diagnostics: failed refreshes and revokes, with Codex's texts. Never a secret. Default: dropped. */
  log?: (message: string) => void;
  /** Deadline of each OAuth issuer request (default 10 s). */
  oauthTimeoutMs?: number;
}

/** The ChatGPT browser login as the manager starts it: the store, env and workspace policy are the manager's. */
export type ManagedBrowserLoginOptions = Omit<ChatgptLoginServerOptions, "persist" | "env" | "forcedWorkspaceIds">;
export type ManagedDeviceCodeLoginOptions = Omit<DeviceCodeLoginOptions, "persist" | "env" | "forcedWorkspaceIds">;

/**
 * The façade the CLI and the app-server use. Load precedence: `CODEX_API_KEY` (when enabled) >
 * in-memory external tokens > `CODEX_ACCESS_TOKEN` > the configured store. Env credentials are never
 * written. A PAT is checked with a live whoami when this manager (a process) first meets it and
 * again whenever the token changes; its metadata is kept in memory only, never on disk.
 */
export class AuthManager {
  private external: CurrentAuth | null = null;
  private externalRefreshStep: RecoveryStep | null = null;
  private hydratorPromise: Promise<PersonalAccessTokenHydrator> | null = null;
  /**
   * The last PAT this process hydrated. Every process start (CLI command, app-server) preflights
   * again; a long-running app-server does not call AuthAPI on every request, only when the stored
   * or env token changes.
   */
  private hydratedToken: { token: Secret; metadata: Promise<PersonalAccessTokenMetadata> } | null = null;
  /** The auth.json each managed ChatGPT CurrentAuth was built from (what a refresh or recovery starts from). */
  private readonly snapshots = new WeakMap<CurrentAuth, AuthDotJson>();
  private managedPromise: Promise<ManagedChatgpt> | null = null;
  /** Set once `managedPromise` resolved: lets synchronous checks see the failure memo. */
  private managedChatgpt: ManagedChatgpt | null = null;

  private constructor(
    readonly codexHome: string,
    readonly config: AuthConfig,
    readonly store: AuthStore,
    private readonly env: Env,
    private readonly enableCodexApiKeyEnv: boolean,
    private readonly proactiveRefresh: boolean,
    private readonly log: (message: string) => void,
    private readonly oauthTimeoutMs: number | undefined,
  ) {}

  /** Like Codex's Debug impl: the store, flags and modes only. The env it holds may carry credentials. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `AuthManager { codexHome: ${JSON.stringify(this.codexHome)}, store: ${this.store.description}, external: ${this.external?.mode ?? "none"}, codexApiKeyEnv: ${this.enableCodexApiKeyEnv} }`;
  }

  toJSON(): Record<string, unknown> {
    return { codexHome: this.codexHome, store: this.store.description, external: this.external?.mode ?? null };
  }

  static async create(options: AuthManagerOptions): Promise<AuthManager> {
    const store = options.store ?? createAuthStore(options.config.credentialsStore, options.codexHome);
    return new AuthManager(
      options.codexHome,
      options.config,
      store,
      // A snapshot: reading process.env is a getenv per key, and this is read on every request.
      Object.freeze({ ...(options.env ?? process.env) }),
      options.enableCodexApiKeyEnv,
      options.proactiveRefresh ?? true,
      options.log ?? (() => {}),
      options.oauthTimeoutMs,
    );
  }

  async current(): Promise<CurrentAuth | null> {
    const apiKey = this.enableCodexApiKeyEnv ? readEnvValue(this.env, "CODEX_API_KEY") : null;
    if (apiKey !== null && loginMethodViolation(this.config, "apikey") === null) {
      return apiKeyAuth(admitCredential(apiKey, "CODEX_API_KEY"), "env");
    }
    if (this.external !== null) return this.external;

    const accessToken = readEnvValue(this.env, "CODEX_ACCESS_TOKEN");
    if (accessToken !== null && this.config.forcedLoginMethod !== "api") {
      return this.allowed(await this.accessTokenAuth(admitCredential(accessToken, "CODEX_ACCESS_TOKEN"), "env"));
    }

    let stored = await this.store.load();
    if (stored === null) return null;
    const mode = resolveStoredMode(stored);
    // Filter by method before any whoami: a PAT under `forced_login_method = "api"` is simply ignored.
    if (loginMethodViolation(this.config, mode) !== null) return null;
    if (mode === "chatgpt" && this.proactiveRefresh && stored.tokens !== undefined) {
      // The window check is light; the refresh (and the OAuth client) load only when it is due.
      const { needsRefresh } = await import("./chatgpt/refresh-window.js");
      if (needsRefresh(stored.tokens, stored.last_refresh)) stored = await (await this.managed()).ensureFresh(stored);
    }
    return this.allowed(await this.storedAuth(stored));
  }

  /**
   * `refreshToken: true` (app-server `account/read`, `getAuthStatus`): a guarded refresh of the
   * stored managed ChatGPT tokens now, whatever their expiry (as Codex's `refresh_token()`). Any
   * other auth is left alone. A failure is logged (`Failed to refresh token: ...`), not thrown.
   */
  async refreshManagedTokens(): Promise<void> {
    if (this.external !== null) return;
    let stored: AuthDotJson | null;
    try {
      stored = await this.store.load();
    } catch {
      return; // current() reports an unreadable store.
    }
    if (stored === null || resolveStoredMode(stored) !== "chatgpt" || stored.tokens === undefined) return;
    const managed = await this.managed();
    try {
      await managed.refreshNow(stored);
    } catch (error) {
      managed.logRefreshFailure(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Whether this managed ChatGPT auth's refresh token already failed permanently (expired, reused,
   * revoked): the token is then not handed out (`getAuthStatus` reports the mode with a null token,
   * as Codex does).
   */
  hasPermanentRefreshFailure(auth: CurrentAuth): boolean {
    if (auth.mode !== "chatgpt" || this.managedChatgpt === null) return false;
    const snapshot = this.snapshots.get(auth);
    return snapshot !== undefined && this.managedChatgpt.permanentFailure(snapshot) !== null;
  }

  /**
   * Browser (PKCE) ChatGPT login: `forced_login_method` is checked first, then the callback server
   * starts; `forced_chatgpt_workspace_id` is enforced before anything is saved. The credential goes
   * to the configured store and replaces any external tokens.
   */
  async startChatgptLogin(options: ManagedBrowserLoginOptions = {}): Promise<ChatgptLoginHandle> {
    assertChatgptLoginAllowed(this.config);
    const { startChatgptLogin } = await import("./chatgpt/login-server.js");
    return startChatgptLogin({
      ...options,
      env: this.env,
      forcedWorkspaceIds: this.config.forcedChatgptWorkspaceIds,
      persist: (auth) => this.saveManagedLogin(auth),
      ...(options.httpTimeoutMs === undefined && this.oauthTimeoutMs !== undefined ? { httpTimeoutMs: this.oauthTimeoutMs } : {}),
    });
  }

  /** Device-code ChatGPT login, under the same policy as the browser login. */
  async startDeviceCodeLogin(options: ManagedDeviceCodeLoginOptions = {}): Promise<DeviceCodeLogin> {
    assertChatgptLoginAllowed(this.config);
    const { startDeviceCodeLogin } = await import("./chatgpt/device-code.js");
    return startDeviceCodeLogin({
      ...options,
      env: this.env,
      forcedWorkspaceIds: this.config.forcedChatgptWorkspaceIds,
      persist: (auth) => this.saveManagedLogin(auth),
      ...(options.httpTimeoutMs === undefined && this.oauthTimeoutMs !== undefined ? { httpTimeoutMs: this.oauthTimeoutMs } : {}),
    });
  }

  private async saveManagedLogin(auth: AuthDotJson): Promise<void> {
    await this.store.save(auth);
    this.external = null;
  }

  private managed(): Promise<ManagedChatgpt> {
    this.managedPromise ??= import("./chatgpt/managed.js").then(({ ManagedChatgpt }) => {
      this.managedChatgpt = new ManagedChatgpt(this.store, {
        codexHome: this.codexHome,
        ephemeral: this.config.credentialsStore === "ephemeral",
        env: this.env,
        log: this.log,
        ...(this.oauthTimeoutMs === undefined ? {} : { httpTimeoutMs: this.oauthTimeoutMs }),
      });
      return this.managedChatgpt;
    });
    return this.managedPromise;
  }

  async loginWithApiKey(key: Secret): Promise<void> {
    assertApiKeyLoginAllowed(this.config);
    await this.store.save({ auth_mode: "apikey", OPENAI_API_KEY: key.reveal() });
    this.external = null;
  }

  /** PAT (`at-`) or Agent Identity JWT. Every check runs before the save: nothing is written on any failure. */
  async loginWithAccessToken(token: Secret): Promise<CurrentAuth> {
    assertAccessTokenLoginAllowed(this.config);
    const auth = await this.accessTokenAuth(token, "store");
    if (auth.mode === "personalAccessToken") {
      // Written without auth_mode so that older Codex builds can still read the file.
      await this.store.save({ OPENAI_API_KEY: null, personal_access_token: token.reveal() });
    } else {
      ensureLoginWorkspaceAllowed(this.config, auth.accountId);
      await this.store.save({ auth_mode: "agentIdentity", OPENAI_API_KEY: null, agent_identity: token.reveal() });
    }
    this.external = null;
    return auth;
  }

  /** Tokens from a parent app (app-server `chatgptAuthTokens`): memory only, never written. */
  setExternalTokens(tokens: ExternalTokens): CurrentAuth {
    assertExternalAuthAllowed(this.config);
    ensureExternalWorkspaceAllowed(this.config, tokens.chatgptAccountId);
    const claims = readJwtClaimsUnverified(tokens.accessToken.reveal());
    const profile = chatgptClaims(claims);
    const rawPlan = tokens.chatgptPlanType ?? profile.rawPlanType;
    this.external = Object.freeze({
      mode: "chatgptAuthTokens",
      source: "external",
      bearer: tokens.accessToken,
      accountId: tokens.chatgptAccountId,
      userId: profile.userId,
      email: profile.email,
      planType: rawPlan === null ? null : toPlanType(rawPlan),
      isFedramp: profile.isFedramp,
    });
    return this.external;
  }

  clearExternalTokens(): void {
    this.external = null;
  }

  hasExternalTokens(): boolean {
    return this.external !== null;
  }

  async logout(): Promise<{ removed: boolean }> {
    let stored: AuthDotJson | null = null;
    try {
      stored = await this.store.load();
    } catch {
      // A malformed or unreadable file is still removed by an explicit logout.
    }
    // Removed first, then revoked (Codex revokes first): a removal that is refused (a read-only
    // home, a symlinked auth.json) must leave everything as it was, the issuer's tokens included.
    const hadExternal = this.external !== null;
    const removed = await this.store.delete();
    this.external = null;
    await this.revokeManagedTokensAtLogout(stored);
    return { removed: removed || hadExternal };
  }

  /**
   * Managed ChatGPT logout: revoke the stored refresh token (else the access token) at
   * `{issuer}/oauth/revoke`, best effort (10 s), once the file is deleted; a failure only goes to
   * the log. API keys, PATs, Agent Identity JWTs and external tokens are never revoked.
   */
  protected async revokeManagedTokensAtLogout(stored: AuthDotJson | null): Promise<void> {
    if (stored === null || resolveStoredMode(stored) !== "chatgpt" || stored.tokens === undefined) return;
    try {
      await (await this.managed()).revoke(stored);
    } catch (error) {
      this.log(`failed to revoke auth tokens during logout: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  recoveryFor(auth: CurrentAuth): UnauthorizedRecovery {
    switch (auth.mode) {
      case "chatgptAuthTokens":
        return new UnauthorizedRecovery("external", this.externalRefreshStep === null ? [] : [this.externalStep(auth, this.externalRefreshStep)]);
      case "chatgpt": {
        const snapshot = this.snapshots.get(auth);
        return new UnauthorizedRecovery("managed", snapshot === undefined ? [] : this.lazyManagedSteps(snapshot));
      }
      default:
        return new UnauthorizedRecovery("none", []);
    }
  }

  /** The app-server plugs in "ask the parent app for new tokens" here. */
  setExternalRefreshStep(step: RecoveryStep | null): void {
    this.externalRefreshStep = step;
  }

  /**
   * External mode's one step (`external_refresh`): when the tokens in memory are no longer the ones
   * the failed request carried (a concurrent request's recovery already replaced them), retry with
   * those instead of asking the parent app again; otherwise ask it (the plugged-in step).
   */
  private externalStep(failed: CurrentAuth, askParentApp: RecoveryStep): RecoveryStep {
    return {
      name: "external_refresh",
      attempt: async () => {
        const latest = this.external;
        if (latest !== null && !latest.bearer.equals(failed.bearer)) return true;
        return askParentApp.attempt();
      },
    };
  }

  /**
   * The managed steps, `reload` then `refresh_token` (src/auth/chatgpt/refresh.ts), with the
   * refresh module loaded on the first 401 rather than here: every command builds an AuthManager.
   */
  private lazyManagedSteps(snapshot: AuthDotJson): RecoveryStep[] {
    let steps: Promise<RecoveryStep[]> | null = null;
    const load = () => (steps ??= this.managed().then((managed) => managed.recoverySteps(snapshot)));
    return (["reload", "refresh_token"] as const).map((name, index) => ({
      name,
      attempt: async () => (await load())[index]!.attempt(),
    }));
  }

  private allowed(auth: CurrentAuth): CurrentAuth | null {
    return authRestrictionViolation(this.config, auth) === null ? auth : null;
  }

  private async accessTokenAuth(token: Secret, source: "env" | "store"): Promise<CurrentAuth> {
    const kind = classifyAccessToken(token);
    if (kind.kind === "agentIdentity") return agentIdentityAuth(token, kind.claims, source);
    return this.personalAccessTokenAuth(token, source);
  }

  private async personalAccessTokenAuth(token: Secret, source: "env" | "store"): Promise<CurrentAuth> {
    const metadata = await this.hydrate(token);
    return Object.freeze({
      mode: "personalAccessToken",
      source,
      bearer: token,
      accountId: metadata.chatgptAccountId,
      userId: metadata.chatgptUserId,
      email: metadata.email,
      planType: metadata.planType,
      isFedramp: metadata.isFedramp,
    });
  }

  private async storedAuth(stored: AuthDotJson): Promise<CurrentAuth> {
    switch (resolveStoredMode(stored)) {
      case "apikey": {
        const key = stored.OPENAI_API_KEY;
        if (typeof key !== "string" || key.length === 0) throw new AuthError("STORE_INCOMPLETE", "API key auth is missing a key.");
        return apiKeyAuth(new Secret(key), "store");
      }
      case "personalAccessToken": {
        const token = stored.personal_access_token;
        if (!token) throw new AuthError("STORE_INCOMPLETE", "personal access token auth is missing a personal access token.");
        // The field names the credential kind, so no prefix classification here.
        return this.personalAccessTokenAuth(new Secret(token), "store");
      }
      case "agentIdentity": {
        const identity = stored.agent_identity;
        if (identity === undefined) throw new AuthError("STORE_INCOMPLETE", "agent identity auth is missing agent identity auth material.");
        if (typeof identity !== "string") {
          // The record form (newer Codex builds) signs per-request assertions; it has no bearer token to use.
          throw new AuthError("AGENT_IDENTITY_UNSUPPORTED", "agent identity auth does not expose a bearer token");
        }
        const jwt = new Secret(identity);
        return agentIdentityAuth(jwt, decodeAgentIdentityJwt(jwt), "store");
      }
      case "chatgpt": {
        const tokens = stored.tokens;
        if (!tokens) throw new AuthError("STORE_INCOMPLETE", "ChatGPT auth is missing token data.");
        const profile = chatgptClaims(readJwtClaimsUnverified(tokens.id_token));
        const auth: CurrentAuth = Object.freeze({
          mode: "chatgpt",
          source: "store",
          bearer: new Secret(tokens.access_token),
          accountId: tokens.account_id ?? profile.accountId,
          userId: profile.userId,
          email: profile.email,
          planType: profile.rawPlanType === null ? null : toPlanType(profile.rawPlanType),
          isFedramp: profile.isFedramp,
        });
        this.snapshots.set(auth, stored);
        return auth;
      }
    }
  }

  private hydrate(token: Secret): Promise<PersonalAccessTokenMetadata> {
    if (this.hydratedToken?.token.equals(token)) return this.hydratedToken.metadata;
    const metadata = this.hydrator().then((hydrator) => hydrator.hydrate(token));
    const entry = { token, metadata };
    this.hydratedToken = entry;
    // A failed preflight is not remembered: the next load asks AuthAPI again.
    metadata.catch(() => {
      if (this.hydratedToken === entry) this.hydratedToken = null;
    });
    return metadata;
  }

  private hydrator(): Promise<PersonalAccessTokenHydrator> {
    // Lazy: the AuthAPI client (openapi-fetch and its validators) is only loaded when a PAT is in play.
    this.hydratorPromise ??= import("./personal-access-token.js").then(({ PersonalAccessTokenHydrator }) =>
      PersonalAccessTokenHydrator.fromEnv(this.env),
    );
    return this.hydratorPromise;
  }
}

function apiKeyAuth(key: Secret, source: "env" | "store"): CurrentAuth {
  return Object.freeze({ mode: "apikey", source, bearer: key, accountId: null, userId: null, email: null, planType: null, isFedramp: false });
}

function agentIdentityAuth(jwt: Secret, claims: AgentIdentityClaims, source: "env" | "store"): CurrentAuth {
  return Object.freeze({
    mode: "agentIdentity",
    source,
    bearer: jwt,
    accountId: claims.accountId,
    userId: claims.userId,
    email: claims.email,
    planType: claims.rawPlanType === null ? null : toPlanType(claims.rawPlanType),
    isFedramp: claims.isFedramp,
  });
}

/** Account metadata from ChatGPT token claims (`email`, the profile claim, and the auth claim). */
function chatgptClaims(claims: Record<string, unknown> | null): {
  accountId: string | null;
  userId: string | null;
  email: string | null;
  rawPlanType: string | null;
  isFedramp: boolean;
} {
  const record = (value: unknown): Record<string, unknown> => (typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {});
  const text = (value: unknown): string | null => (typeof value === "string" && value.length > 0 ? value : null);
  const root = record(claims);
  const auth = record(root["https://api.openai.com/auth"]);
  const profile = record(root["https://api.openai.com/profile"]);
  return {
    accountId: text(auth["chatgpt_account_id"]),
    userId: text(auth["chatgpt_user_id"]) ?? text(auth["user_id"]),
    email: text(root["email"]) ?? text(profile["email"]),
    rawPlanType: text(auth["chatgpt_plan_type"]),
    isFedramp: auth["chatgpt_account_is_fedramp"] === true,
  };
}
