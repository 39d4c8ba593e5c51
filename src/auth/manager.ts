import type { AuthMode, PlanType } from "../../generated/protocol/common.js";
import type { AuthDotJson } from "../../generated/storage/auth-json.js";
import { readEnvValue, type Env } from "./codex-home.js";
import type { AuthConfig } from "./config.js";
import { classifyAccessToken, decodeAgentIdentityJwt, readJwtClaimsUnverified, type AgentIdentityClaims } from "./credentials.js";
import { AuthError } from "./errors.js";
import type { PersonalAccessTokenHydrator } from "./personal-access-token.js";
import { planTypeFromRaw } from "./plan-type.js";
import {
  assertAccessTokenLoginAllowed,
  assertApiKeyLoginAllowed,
  assertExternalAuthAllowed,
  authRestrictionViolation,
  ensureExternalWorkspaceAllowed,
  ensureLoginWorkspaceAllowed,
  loginMethodViolation,
} from "./policy.js";
import { UnauthorizedRecovery, type RecoveryStep } from "./recovery.js";
import { Secret } from "./secret.js";
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
}

/**
 * The façade the CLI and the app-server use. Load precedence: `CODEX_API_KEY` (when enabled) >
 * in-memory external tokens > `CODEX_ACCESS_TOKEN` > the configured store. Env credentials are never
 * written. A PAT is checked with a live whoami on every `current()` call; nothing is cached.
 */
export class AuthManager {
  private external: CurrentAuth | null = null;
  private externalRefreshStep: RecoveryStep | null = null;
  private hydratorPromise: Promise<PersonalAccessTokenHydrator> | null = null;

  private constructor(
    readonly codexHome: string,
    readonly config: AuthConfig,
    readonly store: AuthStore,
    private readonly env: Env,
    private readonly enableCodexApiKeyEnv: boolean,
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
    return new AuthManager(options.codexHome, options.config, store, options.env ?? process.env, options.enableCodexApiKeyEnv);
  }

  async current(): Promise<CurrentAuth | null> {
    const apiKey = this.enableCodexApiKeyEnv ? readEnvValue(this.env, "CODEX_API_KEY") : null;
    if (apiKey !== null && loginMethodViolation(this.config, "apikey") === null) {
      return apiKeyAuth(new Secret(apiKey), "env");
    }
    if (this.external !== null) return this.external;

    const accessToken = readEnvValue(this.env, "CODEX_ACCESS_TOKEN");
    if (accessToken !== null && this.config.forcedLoginMethod !== "api") {
      return this.allowed(await this.accessTokenAuth(new Secret(accessToken), "env"));
    }

    const stored = await this.store.load();
    if (stored === null) return null;
    const mode = resolveStoredMode(stored);
    // Filter by method before any whoami: a PAT under `forced_login_method = "api"` is simply ignored.
    if (loginMethodViolation(this.config, mode) !== null) return null;
    return this.allowed(await this.storedAuth(stored));
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
      planType: rawPlan === null ? null : planTypeFromRaw(rawPlan),
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
    await this.revokeManagedTokensBeforeLogout(stored);
    const hadExternal = this.external !== null;
    this.external = null;
    const removed = await this.store.delete();
    return { removed: removed || hadExternal };
  }

  /**
   * Hook for managed ChatGPT logout (a later issue): revoke the stored refresh token at
   * `{issuer}/oauth/revoke`, best effort, before the file is deleted. API keys, PATs and Agent
   * Identity JWTs are not revoked.
   */
  protected async revokeManagedTokensBeforeLogout(_stored: AuthDotJson | null): Promise<void> {}

  recoveryFor(auth: CurrentAuth): UnauthorizedRecovery {
    switch (auth.mode) {
      case "chatgptAuthTokens":
        return new UnauthorizedRecovery("external", this.externalRefreshStep ? [this.externalRefreshStep] : []);
      case "chatgpt":
        // Managed refresh (the `refresh_token` step) arrives with ChatGPT login.
        return new UnauthorizedRecovery("managed", [this.reloadStep(auth)]);
      default:
        return new UnauthorizedRecovery("none", []);
    }
  }

  /** The app-server plugs in "ask the parent app for new tokens" here. */
  setExternalRefreshStep(step: RecoveryStep | null): void {
    this.externalRefreshStep = step;
  }

  private reloadStep(auth: CurrentAuth): RecoveryStep {
    return {
      name: "reload",
      attempt: async () => {
        const stored = await this.store.load();
        if (stored === null || resolveStoredMode(stored) !== "chatgpt" || !stored.tokens) return false;
        const reloaded = await this.storedAuth(stored);
        if (reloaded.accountId !== auth.accountId) {
          throw new AuthError(
            "ACCOUNT_CHANGED",
            "Your access token could not be refreshed because you have since logged out or signed in to another account. Please sign in again.",
          );
        }
        return !reloaded.bearer.equals(auth.bearer);
      },
    };
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
    const metadata = await (await this.hydrator()).hydrate(token);
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
        return Object.freeze({
          mode: "chatgpt",
          source: "store",
          bearer: new Secret(tokens.access_token),
          accountId: tokens.account_id ?? profile.accountId,
          userId: profile.userId,
          email: profile.email,
          planType: profile.rawPlanType === null ? null : planTypeFromRaw(profile.rawPlanType),
          isFedramp: profile.isFedramp,
        });
      }
    }
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
    planType: claims.rawPlanType === null ? null : planTypeFromRaw(claims.rawPlanType),
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
