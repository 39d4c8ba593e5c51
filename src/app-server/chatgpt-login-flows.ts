import { isChatgptLoginError } from "../auth/chatgpt/errors.js";
import type { AuthManager } from "../auth/manager.js";
import type { Logger } from "./log.js";
import type { LoginFlows, LoginOutcome } from "./logins.js";
import { invalidRequest } from "./rpc.js";
import type { Session } from "./session.js";

/**
 * The real managed ChatGPT login flows behind `account/login/start`:
 * - `chatgpt`: the local callback server (PKCE); the response carries `authUrl` (the client opens
 *   it), `originator` is the client's name. A failure completes with `Login server error: <reason>`.
 * - `chatgptDeviceCode`: the user code is requested before the response; an issuer without device
 *   code login is `-32600 <message>`, other failures `-32603 failed to request device code: ...`
 *   (PendingLogins / the handler wrap them). A failure completes with the bare reason.
 * The credential is saved by the AuthManager before the completion resolves; PendingLogins owns the
 * 10-minute limit, the loginId, cancel and the notifications.
 */
export interface ManagedLoginFlowsOptions {
  auth: AuthManager;
  session: Pick<Session, "clientInfo">;
  log: Logger;
  /** `CODEX_APP_SERVER_LOGIN_ISSUER` (as Codex); else the manager's default (`CODEX_AUTH_ISSUER`). */
  issuer?: string;
  /** Callback port (default 1455, then 1457). */
  loginPort?: number;
  /** Device-code polling limit (default 15 minutes). */
  deviceCodeTimeoutMs?: number;
}

export function managedLoginFlows(options: ManagedLoginFlowsOptions): LoginFlows {
  const issuer = options.issuer ? { issuer: options.issuer } : {};
  return {
    async startBrowserLogin(_params, context) {
      const clientName = options.session.clientInfo?.name;
      const handle = await options.auth.startChatgptLogin({
        ...issuer,
        ...(clientName ? { originator: clientName } : {}),
        ...(options.loginPort === undefined ? {} : { port: options.loginPort }),
        signal: context.signal,
        timeoutMs: null,
      });
      const completion = handle.done.then(
        (): LoginOutcome => ({ success: true }),
        (error: unknown): LoginOutcome => {
          const message = error instanceof Error ? error.message : String(error);
          if (!context.signal.aborted) options.log.warn(`ChatGPT login ${context.loginId} failed: ${message}`);
          return { success: false, error: `Login server error: ${message}` };
        },
      );
      return { authUrl: handle.authUrl, completion };
    },

    async startDeviceCodeLogin(_params, context) {
      let login;
      try {
        login = await options.auth.startDeviceCodeLogin({
          ...issuer,
          ...(options.deviceCodeTimeoutMs === undefined ? {} : { maxWaitMs: options.deviceCodeTimeoutMs }),
          signal: context.signal,
        });
      } catch (error) {
        if (isChatgptLoginError(error, "DEVICE_CODE_DISABLED")) throw invalidRequest(error.message);
        throw error;
      }
      const completion = login.done.then(
        (): LoginOutcome => ({ success: true }),
        (error: unknown): LoginOutcome => ({ success: false, error: error instanceof Error ? error.message : String(error) }),
      );
      return { verificationUrl: login.verificationUrl, userCode: login.userCode, completion };
    },
  };
}
