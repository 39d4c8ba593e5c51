import type { AddressInfo } from "node:net";
import { authApiRoutes } from "./authapi.js";
import { backendRoutes } from "./backend.js";
import { controlRoutes } from "./control.js";
import { deviceCodeRoutes } from "./device-code.js";
import { apiError, createDevHttpServer, type DispatchHooks, type Route } from "./http.js";
import { issuerRoutes } from "./issuer.js";
import { createScenario, type ScenarioControls } from "./scenario.js";
import { describeFault } from "./faults.js";
import { DevState, takeOne } from "./state.js";
import { fingerprint, redact, sha256Hex } from "./tokens.js";

/**
 * The dev server: a local emulator of every HTTP service codex-auth calls (AuthAPI whoami, the
 * OAuth issuer with device code, the backend's usage endpoint), built on the project's OpenAPI
 * contracts and independent of the auth core it is used to test. See README.md.
 */

export type { DevAccount } from "./tokens.js";
export type {
  AuthorizeMode,
  DeviceCodeSettings,
  IssuedTokens,
  RecordedRequest,
  RefreshFailure,
  RevocationRecord,
  WhoAmIRequiredField,
} from "./state.js";
export type { BackendControls, DeviceCodeView, DevServerSnapshot, FaultView, PersonalAccessTokenOptions, ScenarioControls } from "./scenario.js";
export type { NetworkFault, NetworkFaultKind } from "./faults.js";
export { NETWORK_FAULT_KINDS, DEFAULT_OVERSIZED_BYTES, DEFAULT_DRIP_INTERVAL_MS } from "./faults.js";

export interface DevServerOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** Receives one line per request (method, path, status, redacted bearer); never a secret. */
  log?: (line: string) => void;
  /** How long `at-demo-slow` makes whoami wait; default 15 000 ms, `Infinity` until close(). */
  slowDelayMs?: number;
  /** The device-code poll interval in seconds, as a string; default "5". */
  deviceCodeInterval?: string;
  /** Lifetime of minted access tokens; default 3600. */
  accessTokenTtlSeconds?: number;
}

export interface DevServer extends ScenarioControls {
  readonly url: string;
  /** `${url}/api/accounts`: env CODEX_AUTHAPI_BASE_URL. */
  readonly authApiBaseUrl: string;
  /** `${url}`: env CODEX_AUTH_ISSUER. */
  readonly issuerUrl: string;
  /** `${url}/backend-api/`: config chatgpt_base_url. */
  readonly chatgptBaseUrl: string;
  /** CODEX_AUTHAPI_BASE_URL, CODEX_REFRESH_TOKEN_URL_OVERRIDE, CODEX_REVOKE_TOKEN_URL_OVERRIDE, CODEX_AUTH_ISSUER. */
  env(): Record<string, string>;
  /** `["-c", "chatgpt_base_url=<chatgptBaseUrl>"]` for a codex-auth command line. */
  configOverrides(): string[];
  close(): Promise<void>;
}

/** The public demo PATs: their names may be printed (they are documentation, not secrets). */
export const DEMO_PERSONAL_ACCESS_TOKENS: Readonly<Record<string, string>> = {
  "at-demo-valid": "valid: demo@example.com, user-demo, workspace acct-demo, plan plus",
  "at-demo-other-workspace": "valid: other@example.com, workspace acct-other, plan team",
  "at-demo-revoked": "whoami 401",
  "at-demo-forbidden": "whoami 403",
  "at-demo-missing-email": "whoami 200 with email: null (deliberately breaks the contract)",
  "at-demo-slow": "whoami answers after the slow delay (default 15 s)",
};

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const log = options.log ?? (() => {});
  const state = new DevState({
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
    deviceCodeInterval: options.deviceCodeInterval ?? "5",
    slowDelayMs: options.slowDelayMs ?? 15_000,
  });
  const scenario = createScenario(state);
  const shutdown = new AbortController();

  const urls = { url: "", authApiBaseUrl: "", issuerUrl: "", chatgptBaseUrl: "" };
  const env = (): Record<string, string> => ({
    CODEX_AUTHAPI_BASE_URL: urls.authApiBaseUrl,
    CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${urls.url}/oauth/token`,
    CODEX_REVOKE_TOKEN_URL_OVERRIDE: `${urls.url}/oauth/revoke`,
    CODEX_AUTH_ISSUER: urls.issuerUrl,
  });
  const configOverrides = (): string[] => ["-c", `chatgpt_base_url=${urls.chatgptBaseUrl}`];

  const routes: Route[] = [
    ...authApiRoutes(state),
    ...issuerRoutes(state),
    ...deviceCodeRoutes(state),
    ...backendRoutes(state),
    ...controlRoutes({ scenario, describe: () => ({ ...urls, env: env(), configOverrides: configOverrides() }) }),
  ];
  const server = createDevHttpServer(routes, dispatchHooks(state, log), shutdown.signal);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  urls.url = `http://${urlHost(address)}:${port}`;
  urls.authApiBaseUrl = `${urls.url}/api/accounts`;
  urls.issuerUrl = urls.url;
  urls.chatgptBaseUrl = `${urls.url}/backend-api/`;
  state.url = urls.url;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      // Release held requests first, so nothing (a slow whoami timer) keeps the process alive.
      shutdown.abort();
      server.close(() => resolve());
      server.closeAllConnections();
    }));

  // Property descriptors, not a spread: the scenario's getters must stay live.
  const devServer = Object.defineProperties(scenario, {
    url: { value: urls.url, enumerable: true },
    authApiBaseUrl: { value: urls.authApiBaseUrl, enumerable: true },
    issuerUrl: { value: urls.issuerUrl, enumerable: true },
    chatgptBaseUrl: { value: urls.chatgptBaseUrl, enumerable: true },
    env: { value: env },
    configOverrides: { value: configOverrides },
    close: { value: close },
  });
  return devServer as DevServer;
}

function urlHost(address: string): string {
  if (address === "0.0.0.0") return "127.0.0.1";
  if (address === "::") return "[::1]";
  return address.includes(":") ? `[${address}]` : address;
}

function dispatchHooks(state: DevState, log: (line: string) => void): DispatchHooks {
  return {
    onRequest(request, route) {
      const bearer = request.bearer === null ? "" : ` bearer=${redact(request.bearer)}`;
      if (route?.control) return (status) => log(`dev-server: control ${request.method} ${request.path} ${status}`);
      const workspace = request.headers["chatgpt-account-id"];
      const record = {
        method: request.method,
        path: request.path,
        query: Object.fromEntries(request.query),
        status: 0,
        bearerFingerprint: request.bearer === null ? null : fingerprint(request.bearer),
        bearerHash: request.bearer === null ? null : sha256Hex(request.bearer),
        chatgptAccountId: typeof workspace === "string" ? workspace : null,
        grantType: null as string | null,
        at: Date.now(),
      };
      state.requests.push(record);
      return (status) => {
        record.status = status;
        record.grantType = request.notes.grantType ?? null;
        const grant = record.grantType ? ` grant_type=${record.grantType}` : "";
        log(`dev-server: ${request.method} ${request.path} ${status === 0 ? "(closed before answering)" : status}${grant}${bearer}`);
      };
    },
    interceptor(request, route) {
      if (!route.api) return null;
      const faultCountdown = state.injectedFaults.get(route.path);
      const fault = takeOne(faultCountdown);
      if (faultCountdown && faultCountdown.remaining <= 0) state.injectedFaults.delete(route.path);
      if (fault !== null) {
        log(`dev-server: injecting ${describeFault(fault)} into ${request.method} ${request.path}`);
        const status = fault.kind === "status" ? fault.status : 500;
        // A JSON error body goes through the normal (validated) path; the rest is written raw.
        if (fault.kind === "status" && (fault.body ?? "json") === "json") {
          return apiError(route.api, status, "injected_fault", `The dev server was told to fail this request with ${status}.`);
        }
        return { kind: "fault", fault, path: route.path, errorBody: null };
      }
      const countdown = state.injectedFailures.get(route.path);
      const status = takeOne(countdown);
      if (countdown && countdown.remaining <= 0) state.injectedFailures.delete(route.path);
      if (status === null) return null;
      return apiError(route.api, status, "injected_failure", `The dev server was told to fail this request with ${status}.`);
    },
    onContractViolation(description) {
      state.contractViolations.push(description);
    },
    log,
  };
}
