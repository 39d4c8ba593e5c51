/**
 * The browser sign-in URL, with Codex 0.169.0's exact parameters and order (checked against the
 * reference binary): response_type, client_id, redirect_uri, code_challenge,
 * code_challenge_method, state, scope, id_token_add_organizations, codex_cli_simplified_flow,
 * originator, then `allowed_workspace_id` (one parameter, ids joined by ",") when workspaces are forced.
 * Only the challenge and the state go into the URL, never the verifier or a token.
 */
export const OAUTH_SCOPES = "openid profile email offline_access api.connectors.read api.connectors.invoke";
/** Codex's CLI originator; the app-server sends its client's name instead. */
export const DEFAULT_ORIGINATOR = "codex_cli_rs";
export const CALLBACK_PATH = "/auth/callback";
/**
 * Codex 0.169.0 redirects to `http://127.0.0.1:<port>/auth/callback` (older builds used
 * `localhost`). 127.0.0.1 is also the address the callback server binds, so a `localhost` that
 * resolves to ::1 cannot miss it.
 */
export const CALLBACK_HOST = "127.0.0.1";

export function callbackRedirectUri(port: number): string {
  return `http://${CALLBACK_HOST}:${port}${CALLBACK_PATH}`;
}

export interface AuthorizeUrlParams {
  issuer: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  state: string;
  originator?: string;
  /** `forced_chatgpt_workspace_id`; null or empty: no restriction. */
  allowedWorkspaceIds?: readonly string[] | null;
}

export function buildAuthorizeUrl(params: AuthorizeUrlParams): string {
  const query = new URLSearchParams();
  query.append("response_type", "code");
  query.append("client_id", params.clientId);
  query.append("redirect_uri", params.redirectUri);
  query.append("code_challenge", params.codeChallenge);
  query.append("code_challenge_method", "S256");
  query.append("state", params.state);
  query.append("scope", OAUTH_SCOPES);
  query.append("id_token_add_organizations", "true");
  query.append("codex_cli_simplified_flow", "true");
  query.append("originator", params.originator ?? DEFAULT_ORIGINATOR);
  if (params.allowedWorkspaceIds && params.allowedWorkspaceIds.length > 0) {
    query.append("allowed_workspace_id", params.allowedWorkspaceIds.join(","));
  }
  return `${params.issuer.replace(/\/+$/, "")}/oauth/authorize?${query.toString()}`;
}
