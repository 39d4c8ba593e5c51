import type { AuthConfig } from "../auth/config.js";
import type { AuthManager } from "../auth/manager.js";
import { checkAccounts, fetchUsage, usageUrl, type BackendRequestAuth, type UsageResult } from "../http/backend.js";
import { managedLoginFlows } from "./chatgpt-login-flows.js";
import { Dispatcher, type RequestHandlers } from "./dispatcher.js";
import { ExternalTokenRefresher } from "./external-refresh.js";
import { createHandlers } from "./handlers/index.js";
import { currentAuthOrNull, type AccountDeps } from "./handlers/deps.js";
import { describeHost, type HostInfo } from "./host.js";
import { createStreamLogger, type Logger } from "./log.js";
import { PendingLogins, type LoginFlows } from "./logins.js";
import { ServerRequestBroker } from "./server-requests.js";
import { Session } from "./session.js";
import { MessageReader, MessageWriter } from "./transport.js";
import { discoverWorkspaceRouting } from "./workspace-routing.js";

export interface AppServerOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Diagnostics (never a secret). */
  errorOutput: NodeJS.WritableStream;
  auth: AuthManager;
  config: AuthConfig;
  /** The `-c key=value` overrides behind `config` (for `config/read`). */
  configOverrides?: readonly string[];
  codexHome: string;
  /** Our version, reported in the user agent. */
  version: string;
  /** The Codex protocol version served (package.json `config.codexVersion`), the user agent's version. */
  codexVersion: string;
  /** Managed ChatGPT login flows (default: the real browser and device-code flows of `auth`). */
  loginFlows?: LoginFlows;
  /** Settings of the default login flows (env knobs read by the command). */
  chatgptLogin?: { issuer?: string; loginPort?: number; deviceCodeTimeoutMs?: number };
  /** Wait for answers to server→client requests (default 10 s). */
  serverRequestTimeoutMs?: number;
  /** Input lines longer than this are dropped (default 1 MiB). */
  maxLineBytes?: number;
  /** Login flows are abandoned after this long (default 10 min). */
  loginTimeoutMs?: number;
  host?: HostInfo;
  /** The backend usage call (default: GET {chatgpt_base_url}wham/usage). */
  fetchUsage?: (auth: BackendRequestAuth) => Promise<UsageResult>;
  log?: Logger;
}

export interface AppServer {
  /** Serves until the input ends (or `stop()`), then finishes in-flight work and flushes the output. */
  run(): Promise<void>;
  /**
   * Ends serving as stdin EOF does (SIGTERM / SIGINT): no more input is read, pending server
   * requests fail at once, what was received is answered (every wait has its own deadline), the
   * output is flushed, then the input is released so the process can exit 0.
   */
  stop(): void;
  /** Parent-app refresh requests sent so far (diagnostics). */
  readonly externalRefreshRequests: number;
}

/** Past this many queued requests the server stops reading input until the queue drains. */
const PAUSE_BACKLOG = 1024;
const RESUME_BACKLOG = 256;

/** Methods that wait on the backend (and maybe on the client for a token refresh) outside the queue. */
const CONCURRENT_METHODS: ReadonlySet<string> = new Set(["account/rateLimits/read"]);

/** Wires transport, dispatch and handlers for one stdio connection. */
export function createAppServer(options: AppServerOptions): AppServer {
  const log = options.log ?? createStreamLogger(options.errorOutput);
  const writer = new MessageWriter(options.output, log);
  const send = (message: object) => writer.write(message);
  const session = new Session({ version: options.version, codexVersion: options.codexVersion, codexHome: options.codexHome, host: options.host ?? describeHost(), log, send });
  const serverRequests = new ServerRequestBroker({ send, log, ...(options.serverRequestTimeoutMs !== undefined ? { timeoutMs: options.serverRequestTimeoutMs } : {}) });
  const refresher = new ExternalTokenRefresher(options.auth, serverRequests);
  options.auth.setExternalRefreshStep(refresher);

  const logins = new PendingLogins({
    notifyCompleted: (completed) => session.notify("account/login/completed", completed),
    onSucceeded: async () => {
      try {
        const auth = await currentAuthOrNull({ auth: options.auth, log });
        // `reason` is null after a login, as Codex sends it (its workspaceRoutingReady comes only at start-up).
        session.notify("account/updated", { authMode: auth?.mode ?? null, planType: auth?.planType ?? null, reason: null });
      } catch (error) {
        log.error(`could not report the account after a login: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
    ...(options.loginTimeoutMs !== undefined ? { timeoutMs: options.loginTimeoutMs } : {}),
  });

  const deps: AccountDeps = {
    auth: options.auth,
    config: options.config,
    configOverrides: options.configOverrides ?? [],
    session,
    logins,
    flows: options.loginFlows ?? managedLoginFlows({ auth: options.auth, session, log, ...options.chatgptLogin }),
    log,
    fetchUsage:
      options.fetchUsage ??
      ((auth) => fetchUsage(auth, { chatgptBaseUrl: options.config.chatgptBaseUrl, ...(session.userAgent ? { userAgent: session.userAgentHeader } : {}) })),
    usageUrl: usageUrl(options.config.chatgptBaseUrl),
  };

  // Workspace routing discovery starts once the `initialize` response has been handed to stdout
  // (setImmediate runs after the writer's flush, which comes right after the promise jobs of the
  // input chunk), never holds a request, and is cancelled when serving ends.
  const routingDiscovery = new AbortController();
  const startRoutingDiscovery = () => {
    if (routingDiscovery.signal.aborted) return;
    void discoverWorkspaceRouting({
      auth: options.auth,
      log,
      notify: (update) => {
        if (!routingDiscovery.signal.aborted) session.notify("account/updated", update);
      },
      checkAccounts: (auth) =>
        checkAccounts(auth, {
          chatgptBaseUrl: options.config.chatgptBaseUrl,
          signal: routingDiscovery.signal,
          ...(session.userAgent ? { userAgent: session.userAgentHeader } : {}),
        }),
    });
  };
  const accountHandlers = createHandlers(deps);
  const handlers: RequestHandlers = {
    ...accountHandlers,
    initialize: async (params, context) => {
      const result = await accountHandlers.initialize(params, context);
      setImmediate(startRoutingDiscovery);
      return result;
    },
  };

  let reader: MessageReader | null = null;
  let paused = false;
  let stopServing: (() => void) | null = null;
  let stopRequested = false;
  const dispatcher = new Dispatcher({
    session,
    handlers,
    serverRequests,
    log,
    send,
    sendLine: (line) => writer.writeLine(line),
    whenWritable: () => writer.whenWritable(),
    blocked: () => writer.blocked,
    concurrentMethods: CONCURRENT_METHODS,
    onBacklog(queued) {
      if (!paused && queued >= PAUSE_BACKLOG) {
        paused = true;
        reader?.pause();
      } else if (paused && queued <= RESUME_BACKLOG) {
        paused = false;
        reader?.resume();
      }
    },
  });

  return {
    get externalRefreshRequests() {
      return refresher.requestsSent;
    },
    run() {
      return new Promise<void>((resolve) => {
        let ending = false;
        const end = (): Promise<void> => {
          if (ending) return Promise.resolve();
          ending = true;
          routingDiscovery.abort();
          // Nobody can answer a server request any more: fail those now rather than at the timeout.
          serverRequests.close();
          return dispatcher
            .idle()
            .then(() => {
              logins.shutdown();
              options.auth.setExternalRefreshStep(null);
              return writer.flush();
            })
            .then(resolve);
        };
        stopServing = () => {
          reader?.pause();
          void end().then(() => {
            // Let go of stdin so nothing keeps the process alive.
            (options.input as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
          });
        };
        reader = new MessageReader(options.input, {
          log,
          ...(options.maxLineBytes !== undefined ? { maxLineBytes: options.maxLineBytes } : {}),
          onMessage: (message) => {
            if (!ending) dispatcher.dispatch(message);
          },
          onEnd: () => void end(),
        });
        reader.start();
        if (stopRequested) stopServing();
      });
    },
    stop() {
      stopRequested = true;
      stopServing?.();
    },
  };
}
