import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CODEX_CLIENT_ID, exchangeAuthorizationCode, resolveOAuthEndpoints } from "../../http/oauth.js";
import { Secret } from "../secret.js";
import { buildAuthorizeUrl, CALLBACK_HOST, CALLBACK_PATH, callbackRedirectUri } from "./authorize-url.js";
import { completeChatgptLogin, describeTokenEndpointError, type ChatgptLoginResult } from "./complete-login.js";
import { ChatgptLoginError, LOGIN_CANCELLED, LOGIN_NOT_COMPLETED, type ChatgptLoginErrorCode } from "./errors.js";
import { ENTITLEMENT_MESSAGE, errorPage, successPage } from "./pages.js";
import type { PersistChatgptAuth } from "./persist.js";
import { generatePkce, generateState } from "./pkce.js";

export type { ChatgptLoginResult };

/**
 * Browser (PKCE) login: a local callback server on 127.0.0.1 that the issuer redirects back to.
 *
 * Port: 1455 by default. When it is busy, the server asks whoever holds it to stop (`GET /cancel`,
 * once: usually an earlier login of ours) and retries every 200 ms up to 10 times, then falls
 * back to 1457 the same way (as Codex). Any other port (0 in tests) has no fallback unless given.
 *
 * Routes: `/auth/callback` (state check, then the issuer's error, the code exchange, the workspace
 * check before anything is saved, the best-effort API-key exchange, `persist`, 302 to `/success`),
 * `/success`, `/cancel`; anything else 404. Terminal responses carry `Connection: close`.
 * **[differs]** Codex puts the id_token in the `/success` redirect URL; we never do, and `/success`
 * only ends the login after a successful callback.
 */

export const DEFAULT_LOGIN_PORT = 1455;
export const FALLBACK_LOGIN_PORT = 1457;
/** The app-server gives a browser login this long. */
export const APP_SERVER_LOGIN_TIMEOUT_MS = 10 * 60_000;

export interface BusyPortPolicy {
  /** Deadline of the one `GET /cancel` sent to a busy port (Codex: 2 s). */
  cancelTimeoutMs?: number;
  /** Pause between bind attempts after the cancel (Codex: 200 ms). */
  retryDelayMs?: number;
  /** Bind attempts after the cancel (Codex: 10). */
  retries?: number;
}

export interface ChatgptLoginServerOptions {
  /** Saves the validated auth.json (`store.save`). Called once, after every check passed. */
  persist: PersistChatgptAuth;
  /** Default: `CODEX_AUTH_ISSUER` from `env`, else https://auth.openai.com. */
  issuer?: string;
  env?: Readonly<Record<string, string | undefined>>;
  clientId?: string;
  /** `originator` in the authorize URL (Codex CLI: `codex_cli_rs`; the app-server: its client's name). */
  originator?: string;
  /** `forced_chatgpt_workspace_id`: sent as `allowed_workspace_id` and enforced before saving. */
  forcedWorkspaceIds?: readonly string[] | null;
  /** Default 1455; 0 picks a free port. */
  port?: number;
  /** Default 1457 when `port` is 1455, else none. */
  fallbackPort?: number | null;
  busyPort?: BusyPortPolicy;
  /** Exchange the id_token for an API key (best effort). Default true. */
  exchangeApiKey?: boolean;
  /** Give up after this long (`Login was not completed`); default: wait until cancelled. */
  timeoutMs?: number | null;
  signal?: AbortSignal;
  /** Deadline of each issuer request (default 10 s). */
  httpTimeoutMs?: number;
  /** After the redirect to /success, how long to wait for the browser to load it before finishing anyway. */
  successGraceMs?: number;
  /** For tests: a fixed state instead of a random one. */
  forceState?: string;
}

export interface ChatgptLoginHandle {
  /** Open this in the browser. Carries only the PKCE challenge and the state. */
  readonly authUrl: string;
  readonly port: number;
  readonly redirectUri: string;
  /** Resolves with the account once the credential is saved; rejects with a ChatgptLoginError. */
  readonly done: Promise<ChatgptLoginResult>;
  /** Ends the login (`Login was not completed`) and closes the server; idempotent. */
  cancel(): void;
}

export async function startChatgptLogin(options: ChatgptLoginServerOptions): Promise<ChatgptLoginHandle> {
  const issuer = (options.issuer ?? resolveOAuthEndpoints(options.env ?? process.env).issuer).replace(/\/+$/, "");
  const clientId = options.clientId ?? CODEX_CLIENT_ID;
  const { preferredPort, fallbackPort } = loginPorts(options);

  const pkce = generatePkce();
  const state = options.forceState ?? generateState();
  const flow = new CallbackFlow({
    issuer,
    clientId,
    state,
    pkce,
    persist: options.persist,
    forcedWorkspaceIds: options.forcedWorkspaceIds ?? null,
    exchangeApiKey: options.exchangeApiKey ?? true,
    successGraceMs: options.successGraceMs ?? 3_000,
    ...(options.httpTimeoutMs === undefined ? {} : { httpTimeoutMs: options.httpTimeoutMs }),
  });

  const server = await bindCallbackServer((request, response) => flow.handle(request, response), preferredPort, fallbackPort, options.busyPort ?? {});
  const port = (server.address() as AddressInfo).port;
  const redirectUri = callbackRedirectUri(port);
  flow.attach(server, redirectUri);

  if (options.timeoutMs != null) flow.limitTo(options.timeoutMs);
  if (options.signal) {
    if (options.signal.aborted) flow.cancel();
    else options.signal.addEventListener("abort", () => flow.cancel(), { once: true });
  }

  const authUrl = buildAuthorizeUrl({
    issuer,
    clientId,
    redirectUri,
    codeChallenge: pkce.codeChallenge,
    state,
    ...(options.originator === undefined ? {} : { originator: options.originator }),
    allowedWorkspaceIds: options.forcedWorkspaceIds ?? null,
  });
  return Object.freeze({ authUrl, port, redirectUri, done: flow.done, cancel: () => flow.cancel() });
}

/** 1455 then 1457 by default; an explicit port has no fallback unless one is given. */
export function loginPorts(options: { port?: number; fallbackPort?: number | null }): { preferredPort: number; fallbackPort: number | null } {
  const preferredPort = options.port ?? DEFAULT_LOGIN_PORT;
  const fallbackPort = options.fallbackPort !== undefined ? options.fallbackPort : preferredPort === DEFAULT_LOGIN_PORT ? FALLBACK_LOGIN_PORT : null;
  return { preferredPort, fallbackPort };
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** The callback server's state machine: waiting → (processing) → redirected to /success → finished. */
class CallbackFlow {
  readonly done: Promise<ChatgptLoginResult>;
  private resolveDone!: (result: ChatgptLoginResult) => void;
  private rejectDone!: (error: ChatgptLoginError) => void;
  private server: Server | null = null;
  private redirectUri = "";
  private phase: "waiting" | "processing" | "redirected" | "finished" = "waiting";
  private result: ChatgptLoginResult | null = null;
  private timers: NodeJS.Timeout[] = [];
  /** Requests are handled one at a time, in arrival order (as Codex's single-threaded server). */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly context: {
      issuer: string;
      clientId: string;
      state: string;
      pkce: ReturnType<typeof generatePkce>;
      persist: PersistChatgptAuth;
      forcedWorkspaceIds: readonly string[] | null;
      exchangeApiKey: boolean;
      successGraceMs: number;
      httpTimeoutMs?: number;
    },
  ) {
    this.done = new Promise<ChatgptLoginResult>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A caller that only cancels must not crash the process with an unhandled rejection.
    this.done.catch(() => undefined);
  }

  attach(server: Server, redirectUri: string): void {
    this.server = server;
    this.redirectUri = redirectUri;
    if (this.phase === "finished") this.closeServer();
  }

  limitTo(timeoutMs: number): void {
    this.timers.push(setTimeout(() => this.fail("TIMED_OUT", LOGIN_NOT_COMPLETED), timeoutMs));
  }

  cancel(): void {
    this.fail("CANCELLED", LOGIN_NOT_COMPLETED);
  }

  handle(request: IncomingMessage, response: ServerResponse): void {
    this.queue = this.queue.then(() => this.route(request, response)).catch(() => undefined);
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", `http://${CALLBACK_HOST}`);
    if (this.phase === "finished") return sendText(response, 404, "Not Found", true);
    switch (url.pathname) {
      case CALLBACK_PATH:
        return this.callback(url.searchParams, response);
      case "/success":
        if (this.phase !== "redirected" || this.result === null) return sendText(response, 404, "Not Found");
        sendHtml(response, 200, successPage());
        return this.succeed(this.result);
      case "/cancel":
        sendText(response, 200, LOGIN_CANCELLED, true);
        return this.fail("CANCELLED", LOGIN_CANCELLED);
      default:
        return sendText(response, 404, "Not Found");
    }
  }

  private async callback(query: URLSearchParams, response: ServerResponse): Promise<void> {
    if (query.get("state") !== this.context.state) return sendText(response, 400, "State mismatch");
    if (this.phase !== "waiting") return sendText(response, 409, "Login already completed");

    const error = query.get("error");
    if (error !== null) {
      const description = query.get("error_description");
      if (error === "access_denied" && description?.includes("missing_codex_entitlement")) {
        return this.failWithPage(response, "ACCESS_DENIED", ENTITLEMENT_MESSAGE, { errorCode: error, details: ENTITLEMENT_MESSAGE, entitlement: true });
      }
      const message = `Sign-in failed: ${description || error}`;
      return this.failWithPage(response, "ACCESS_DENIED", message, { errorCode: error, details: description || message });
    }

    const code = query.get("code");
    if (!code) {
      const message = "Missing authorization code. Sign-in could not be completed.";
      return this.failWithPage(response, "MISSING_CODE", message, { errorCode: "missing_authorization_code", details: message });
    }

    this.phase = "processing";
    let result: ChatgptLoginResult;
    try {
      const tokens = await exchangeAuthorizationCode(
        { issuer: this.context.issuer, clientId: this.context.clientId, code: new Secret(code), codeVerifier: this.context.pkce.codeVerifier, redirectUri: this.redirectUri },
        this.context.httpTimeoutMs === undefined ? {} : { timeoutMs: this.context.httpTimeoutMs },
      ).catch((exchangeError: unknown) => {
        throw new ChatgptLoginError("TOKEN_EXCHANGE_FAILED", `Token exchange failed: ${describeTokenEndpointError(exchangeError)}`, { cause: exchangeError });
      });
      if (this.isFinished()) return sendText(response, 404, "Not Found", true);
      result = await completeChatgptLogin(tokens, {
        issuer: this.context.issuer,
        clientId: this.context.clientId,
        forcedWorkspaceIds: this.context.forcedWorkspaceIds,
        // A cancel or timeout that lands during the exchange must keep the credential off disk.
        persist: async (auth) => {
          if (this.isFinished()) throw new ChatgptLoginError("CANCELLED", LOGIN_NOT_COMPLETED);
          await this.context.persist(auth);
        },
        exchangeApiKey: this.context.exchangeApiKey,
        ...(this.context.httpTimeoutMs === undefined ? {} : { httpTimeoutMs: this.context.httpTimeoutMs }),
      });
    } catch (failure) {
      if (this.isFinished()) return sendText(response, 404, "Not Found", true);
      const loginError =
        failure instanceof ChatgptLoginError ? failure : new ChatgptLoginError("SERVER_FAILED", failure instanceof Error ? failure.message : String(failure));
      const [errorCode, shown] = CALLBACK_FAILURE_PAGES[loginError.code] ?? ["login_failed", loginError.message];
      return this.failWithPage(response, loginError.code, loginError.message, { errorCode, details: shown ?? loginError.message }, loginError);
    }

    if (this.isFinished()) return sendText(response, 404, "Not Found", true);
    this.result = result;
    this.phase = "redirected";
    response.writeHead(302, { Location: `http://${CALLBACK_HOST}:${this.port()}/success`, "Content-Length": "0", Connection: "close" });
    response.end();
    // A client that does not follow the redirect must not keep the login open: the credential is saved.
    this.timers.push(setTimeout(() => this.succeed(result), this.context.successGraceMs));
  }

  private isFinished(): boolean {
    return this.phase === "finished";
  }

  private port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  private failWithPage(
    response: ServerResponse,
    code: ChatgptLoginErrorCode,
    message: string,
    page: { errorCode: string; details: string; entitlement?: boolean },
    error?: ChatgptLoginError,
  ): void {
    sendHtml(response, 200, errorPage({ ...page, message }));
    this.finish(() => this.rejectDone(error ?? new ChatgptLoginError(code, message)));
  }

  private succeed(result: ChatgptLoginResult): void {
    this.finish(() => this.resolveDone(result));
  }

  private fail(code: ChatgptLoginErrorCode, message: string): void {
    // Once the credential is saved the login has happened: a late cancel or timeout cannot undo it.
    if (this.phase === "redirected" && this.result !== null) return this.succeed(this.result);
    this.finish(() => this.rejectDone(new ChatgptLoginError(code, message)));
  }

  private finish(settle: () => void): void {
    if (this.phase === "finished") return;
    this.phase = "finished";
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    settle();
    this.closeServer();
  }

  private closeServer(): void {
    const server = this.server;
    if (server === null) return;
    // Let the terminal response flush, then drop every connection (keep-alive ones included).
    setImmediate(() => {
      server.close();
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 100).unref();
    });
  }
}

/** The error code and details a failed callback shows, by failure. */
const CALLBACK_FAILURE_PAGES: Partial<Record<ChatgptLoginErrorCode, [string, string | null]>> = {
  TOKEN_EXCHANGE_FAILED: ["token_exchange_failed", null],
  WORKSPACE_RESTRICTED: ["workspace_restriction", null],
  PERSIST_FAILED: ["persist_failed", "Sign-in completed but credentials could not be saved locally."],
};

function sendText(response: ServerResponse, status: number, body: string, close = false): void {
  response.writeHead(status, {
    "Content-Type": "text/plain; charset=UTF-8",
    "Content-Length": String(Buffer.byteLength(body)),
    ...(close ? { Connection: "close" } : {}),
  });
  response.end(body);
}

function sendHtml(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Length": String(Buffer.byteLength(body)),
    "Cache-Control": "no-store",
    Connection: "close",
  });
  response.end(body);
}

/**
 * Binds 127.0.0.1:<preferred>; if busy, cancels the holder once and retries, then does the same on
 * the fallback port; else `Port 127.0.0.1:<p> is already in use`.
 */
export async function bindCallbackServer(handler: Handler, preferredPort: number, fallbackPort: number | null, policy: BusyPortPolicy = {}): Promise<Server> {
  const preferred = await bindWithCancel(handler, preferredPort, policy);
  if (preferred !== null) return preferred;
  if (fallbackPort !== null && fallbackPort !== preferredPort) {
    const fallback = await bindWithCancel(handler, fallbackPort, policy);
    if (fallback !== null) return fallback;
  }
  throw new ChatgptLoginError("PORT_IN_USE", `Port ${CALLBACK_HOST}:${fallbackPort ?? preferredPort} is already in use`);
}

async function bindWithCancel(handler: Handler, port: number, policy: BusyPortPolicy): Promise<Server | null> {
  const first = await tryListen(handler, port);
  if (first !== null) return first;
  await requestCancel(port, policy.cancelTimeoutMs ?? 2_000);
  for (let attempt = 0; attempt < (policy.retries ?? 10); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, policy.retryDelayMs ?? 200));
    const server = await tryListen(handler, port);
    if (server !== null) return server;
  }
  return null;
}

/** The server, or null when the port is taken; other bind errors are thrown. */
function tryListen(handler: Handler, port: number): Promise<Server | null> {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.keepAliveTimeout = 1_000;
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") resolve(null);
      else reject(new ChatgptLoginError("SERVER_FAILED", `failed to start the login server on ${CALLBACK_HOST}:${port}: ${error.message}`, { cause: error }));
    });
    server.listen({ port, host: CALLBACK_HOST, exclusive: true }, () => resolve(server));
  });
}

/** `GET /cancel` to whoever holds the port (usually an earlier login); any answer or failure is fine. */
async function requestCancel(port: number, timeoutMs: number): Promise<void> {
  try {
    const response = await fetch(`http://${CALLBACK_HOST}:${port}/cancel`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer().catch(() => undefined);
  } catch {
    // Not ours, or not answering: the retries decide.
  }
}
