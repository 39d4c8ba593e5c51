import { isAuthError } from "../../auth/errors.js";
import { assertApiKeyLoginAllowed, assertChatgptLoginAllowed, assertExternalAuthAllowed, ensureExternalWorkspaceAllowed } from "../../auth/policy.js";
import { admitCredential } from "../../auth/secret.js";
import type {
  AccountLoginCompletedNotification,
  ApiKeyLoginAccountParams,
  ChatgptAuthTokensLoginAccountParams,
  ChatgptDeviceCodeLoginAccountParams,
  ChatgptLoginAccountParams,
  LoginAccountResponse,
} from "../../protocol/index.js";
import type { RequestContext, RequestHandler } from "../dispatcher.js";
import { describeUnusableAccessToken } from "../../auth/jwt.js";
import { parseLoginId, type LoginFlowContext, type LoginKind, type LoginOutcome } from "../logins.js";
import { internalError, invalidRequest, malformedRequest, RpcError } from "../rpc.js";
import { EXTERNAL_AUTH_ACTIVE, type AccountDeps } from "./deps.js";

const SUCCEEDED: AccountLoginCompletedNotification = { loginId: null, success: true, error: null, onboardingEntrypoint: null };

/** `account/login/start`, one branch per variant, with Codex's checks in Codex's order. */
export function accountLoginStart(deps: AccountDeps): RequestHandler<"account/login/start"> {
  return async (params, context): Promise<LoginAccountResponse> => {
    switch (params.type) {
      case "apiKey":
        return loginWithApiKey(deps, params, context);
      case "chatgpt":
        return startBrowserLogin(deps, params);
      case "chatgptDeviceCode":
        return startDeviceCodeLogin(deps, params);
      case "chatgptAuthTokens":
        return loginWithExternalTokens(deps, params, context);
    }
  };
}

/** `account/login/cancel`: a UUID of the pending login, or notFound. */
export function accountLoginCancel(deps: AccountDeps): RequestHandler<"account/login/cancel"> {
  return (params, context) => {
    const loginId = parseLoginId(params.loginId);
    if (loginId === null) throw invalidRequest(`invalid login id: ${params.loginId}`);
    const status = deps.logins.cancel(loginId, (completed) => context.notifyAfterResponse("account/login/completed", completed));
    return { status };
  };
}

async function loginWithApiKey(deps: AccountDeps, params: ApiKeyLoginAccountParams, context: RequestContext): Promise<LoginAccountResponse> {
  if (deps.auth.hasExternalTokens()) throw invalidRequest(EXTERNAL_AUTH_ACTIVE);
  policy(() => assertApiKeyLoginAllowed(deps.config));
  const apiKey = admitted(() => admitCredential(params.apiKey, "apiKey"));
  cancelActiveLogin(deps);
  try {
    await deps.auth.loginWithApiKey(apiKey);
  } catch (error) {
    if (isAuthError(error)) throw internalError(`failed to save api key: ${error.message}`);
    throw error;
  }
  context.notifyAfterResponse("account/login/completed", SUCCEEDED);
  context.notifyAfterResponse("account/updated", { authMode: "apikey", planType: null, reason: null });
  return { type: "apiKey" };
}

async function startBrowserLogin(deps: AccountDeps, params: ChatgptLoginAccountParams): Promise<LoginAccountResponse> {
  ensureManagedLoginAllowed(deps);
  const { loginId, started } = await startFlow(deps, "browser", "failed to start login server", (flowContext) =>
    deps.flows.startBrowserLogin(params, flowContext),
  );
  return { type: "chatgpt", loginId, authUrl: started.authUrl };
}

async function startDeviceCodeLogin(deps: AccountDeps, params: ChatgptDeviceCodeLoginAccountParams): Promise<LoginAccountResponse> {
  ensureManagedLoginAllowed(deps);
  const { loginId, started } = await startFlow(deps, "deviceCode", "failed to request device code", (flowContext) =>
    deps.flows.startDeviceCodeLogin(params, flowContext),
  );
  return { type: "chatgptDeviceCode", loginId, verificationUrl: started.verificationUrl, userCode: started.userCode };
}

async function loginWithExternalTokens(
  deps: AccountDeps,
  params: ChatgptAuthTokensLoginAccountParams,
  context: RequestContext,
): Promise<LoginAccountResponse> {
  policy(() => assertExternalAuthAllowed(deps.config));
  const accessToken = admitted(() => admitCredential(params.accessToken, "accessToken"));
  admitted(() => admitCredential(params.chatgptAccountId, "chatgptAccountId"));
  cancelActiveLogin(deps);
  policy(() => ensureExternalWorkspaceAllowed(deps.config, params.chatgptAccountId));
  const invalid = describeUnusableAccessToken(accessToken);
  if (invalid !== null) throw internalError(`failed to set external auth: ${invalid}`);
  let planType;
  try {
    planType = deps.auth.setExternalTokens({
      accessToken,
      chatgptAccountId: params.chatgptAccountId,
      ...(params.chatgptPlanType !== undefined ? { chatgptPlanType: params.chatgptPlanType } : {}),
    }).planType;
  } catch (error) {
    if (isAuthError(error, "WORKSPACE_RESTRICTED") || isAuthError(error, "LOGIN_METHOD_DISABLED")) throw invalidRequest(error.message);
    if (isAuthError(error)) throw internalError(`failed to set external auth: ${error.message}`);
    throw error;
  }
  context.notifyAfterResponse("account/login/completed", SUCCEEDED);
  context.notifyAfterResponse("account/updated", { authMode: "chatgptAuthTokens", planType, reason: null });
  return { type: "chatgptAuthTokens" };
}

function ensureManagedLoginAllowed(deps: AccountDeps): void {
  if (deps.auth.hasExternalTokens()) throw invalidRequest(EXTERNAL_AUTH_ACTIVE);
  policy(() => assertChatgptLoginAllowed(deps.config));
}

async function startFlow<T extends { completion: Promise<LoginOutcome> }>(
  deps: AccountDeps,
  kind: LoginKind,
  failurePrefix: string,
  begin: (context: LoginFlowContext) => Promise<T>,
): Promise<{ loginId: string; started: T }> {
  try {
    return await deps.logins.start(kind, begin, (replaced) => deps.session.notify("account/login/completed", replaced));
  } catch (error) {
    if (error instanceof RpcError) throw error;
    throw internalError(`${failurePrefix}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A replaced login reports its end before the new login's response, as in Codex. */
function cancelActiveLogin(deps: AccountDeps): void {
  deps.logins.cancelActive((completed) => deps.session.notify("account/login/completed", completed));
}

/** A refused credential (src/auth/secret.ts admitCredential) is an invalid request naming the field. */
function admitted<T>(admit: () => T): T {
  try {
    return admit();
  } catch (error) {
    if (isAuthError(error, "CREDENTIAL_REFUSED")) throw malformedRequest(error.message);
    throw error;
  }
}

/** forced_login_method / forced_chatgpt_workspace_id refusals are `-32600` with Codex's text. */
function policy(check: () => void): void {
  try {
    check();
  } catch (error) {
    if (isAuthError(error)) throw invalidRequest(error.message);
    throw error;
  }
}
