import { randomUUID } from "node:crypto";
import type {
  AccountLoginCompletedNotification,
  ChatgptDeviceCodeLoginAccountParams,
  ChatgptLoginAccountParams,
} from "../protocol/index.js";

/** How a login flow ended. `error` is shown to the user and never holds a secret. */
export type LoginOutcome = { success: true } | { success: false; error: string };

export interface LoginFlowContext {
  readonly loginId: string;
  /** Aborted when the login is canceled, replaced, timed out or the server shuts down. */
  readonly signal: AbortSignal;
}

export interface StartedBrowserLogin {
  authUrl: string;
  /** Settles when the user finished (or failed) signing in; credentials are saved before it resolves. */
  completion: Promise<LoginOutcome>;
}

export interface StartedDeviceCodeLogin {
  verificationUrl: string;
  userCode: string;
  completion: Promise<LoginOutcome>;
}

/**
 * The managed ChatGPT login flows (browser PKCE with a localhost callback; device code). Injected
 * into the app-server so the real flows plug in without touching the handlers. A start failure is
 * thrown (an `RpcError` is answered as is; any other error is wrapped in Codex's message).
 */
export interface LoginFlows {
  startBrowserLogin(params: ChatgptLoginAccountParams, context: LoginFlowContext): Promise<StartedBrowserLogin>;
  startDeviceCodeLogin(params: ChatgptDeviceCodeLoginAccountParams, context: LoginFlowContext): Promise<StartedDeviceCodeLogin>;
}

export type LoginKind = "browser" | "deviceCode";

/** Codex's texts for a login that was stopped before it completed. */
const NOT_COMPLETED: Record<LoginKind, string> = {
  browser: "Login server error: Login was not completed",
  deviceCode: "Login was not completed",
};

/** Codex abandons a browser login after 10 minutes. */
export const LOGIN_TIMEOUT_MS = 10 * 60 * 1000;

type Notify = (params: AccountLoginCompletedNotification) => void;

interface ActiveLogin {
  loginId: string;
  kind: LoginKind;
  abort: AbortController;
  timer: ReturnType<typeof setTimeout>;
  done: boolean;
}

export interface PendingLoginsOptions {
  /** Sends `account/login/completed` for logins that end in the background. */
  notifyCompleted: Notify;
  /** After a successful background login (sends `account/updated`). */
  onSucceeded(loginId: string): Promise<void> | void;
  timeoutMs?: number;
}

/** Accepts the UUID forms Codex does (hyphenated or simple, any case); returns the canonical form. */
export function parseLoginId(raw: string): string | null {
  const hex = raw.trim().replace(/^urn:uuid:/i, "").replace(/^\{(.*)\}$/, "$1");
  const simple = /^[0-9a-f]{32}$/i.test(hex) ? hex : /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(hex) ? hex.replace(/-/g, "") : null;
  if (simple === null) return null;
  const h = simple.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The pending managed login, keyed by a UUID loginId. As in Codex there is at most one: starting
 * another login (of any kind) replaces it, and a replaced or canceled login reports
 * `account/login/completed {success:false}` once.
 */
export class PendingLogins {
  #active: ActiveLogin | null = null;
  readonly #timeoutMs: number;

  constructor(private readonly options: PendingLoginsOptions) {
    this.#timeoutMs = options.timeoutMs ?? LOGIN_TIMEOUT_MS;
  }

  get activeLoginId(): string | null {
    return this.#active?.loginId ?? null;
  }

  /**
   * Starts a flow under a fresh loginId, replacing any active login (its completion goes through
   * `notifyReplaced`). If the start throws, nothing stays registered.
   */
  async start<T extends { completion: Promise<LoginOutcome> }>(
    kind: LoginKind,
    begin: (context: LoginFlowContext) => Promise<T>,
    notifyReplaced: Notify,
  ): Promise<{ loginId: string; started: T }> {
    const loginId = randomUUID();
    const abort = new AbortController();
    const started = await begin({ loginId, signal: abort.signal });
    this.cancelActive(notifyReplaced);
    const entry: ActiveLogin = {
      loginId,
      kind,
      abort,
      done: false,
      timer: setTimeout(() => this.#finish(entry, { success: false, error: "Login timed out" }, this.options.notifyCompleted), this.#timeoutMs),
    };
    entry.timer.unref?.();
    this.#active = entry;
    started.completion.then(
      (outcome) => this.#settled(entry, outcome),
      (error: unknown) => this.#settled(entry, { success: false, error: error instanceof Error ? error.message : String(error) }),
    );
    return { loginId, started };
  }

  /** `account/login/cancel`: "canceled" (the completion goes through `notify`) or "notFound". */
  cancel(loginId: string, notify: Notify): "canceled" | "notFound" {
    const entry = this.#active;
    if (!entry || entry.loginId !== loginId) return "notFound";
    this.#finish(entry, { success: false, error: NOT_COMPLETED[entry.kind] }, notify);
    return "canceled";
  }

  /** Another login or a logout supersedes the active one. */
  cancelActive(notify: Notify): void {
    const entry = this.#active;
    if (entry) this.#finish(entry, { success: false, error: NOT_COMPLETED[entry.kind] }, notify);
  }

  /** Server shutdown: stop the flow without notifications (nobody is listening). */
  shutdown(): void {
    const entry = this.#active;
    if (!entry) return;
    entry.done = true;
    this.#active = null;
    clearTimeout(entry.timer);
    entry.abort.abort();
  }

  #settled(entry: ActiveLogin, outcome: LoginOutcome): void {
    if (entry.done) return;
    this.#finish(entry, outcome, this.options.notifyCompleted);
    if (outcome.success) void this.options.onSucceeded(entry.loginId);
  }

  #finish(entry: ActiveLogin, outcome: LoginOutcome, notify: Notify): void {
    if (entry.done) return;
    entry.done = true;
    clearTimeout(entry.timer);
    if (this.#active === entry) this.#active = null;
    if (!outcome.success) entry.abort.abort();
    notify({ loginId: entry.loginId, success: outcome.success, error: outcome.success ? null : outcome.error, onboardingEntrypoint: null });
  }
}
