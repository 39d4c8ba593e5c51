import type { PendingAuthorization } from "./state.js";
import type { DevAccount } from "./tokens.js";

/** The browser pages: plain HTML forms, so a person (or a test with fetch) can click through. */

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; color: #1a1a1a; }
dt { font-weight: 600; margin-top: .5rem; }
dd { margin: 0; font-family: ui-monospace, monospace; word-break: break-all; }
button { font-size: 1rem; padding: .5rem 1.25rem; margin-right: .5rem; }
.banner { background: #fff3cd; padding: .5rem .75rem; border-radius: 4px; }
</style>
</head>
<body>
<p class="banner">codex-auth dev server: a local emulator, not a real sign-in.</p>
${body}
</body>
</html>
`;
}

export function authorizePage(requestId: string, request: PendingAuthorization, account: DevAccount): string {
  const workspaces = request.allowedWorkspaceIds.length > 0 ? request.allowedWorkspaceIds.join(", ") : "any workspace";
  return page(
    "Sign in to Codex",
    `<h1>Sign in to Codex</h1>
<dl>
<dt>Client</dt><dd id="client-id">${escapeHtml(request.clientId)}</dd>
<dt>Redirects to</dt><dd id="redirect-uri">${escapeHtml(request.redirectUri)}</dd>
<dt>Scope</dt><dd>${escapeHtml(request.scope)}</dd>
<dt>Workspace restriction (allowed_workspace_id)</dt><dd id="allowed-workspaces">${escapeHtml(workspaces)}</dd>
<dt>Signing in as</dt><dd id="account">${escapeHtml(account.email)} (${escapeHtml(account.userId)}, plan ${escapeHtml(account.planType)})</dd>
</dl>
<form method="post" action="/oauth/authorize/decision">
<input type="hidden" name="request_id" value="${escapeHtml(requestId)}">
<p><label>Workspace (account id) <input name="account_id" value="${escapeHtml(account.accountId)}"></label></p>
<p>The restriction is shown, not enforced, so tests can sign in to another workspace.</p>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

export function errorPage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p id="error">${escapeHtml(message)}</p>`);
}

export function devicePage(prefilledUserCode: string): string {
  return page(
    "Connect a device to Codex",
    `<h1>Connect a device to Codex</h1>
<p>Enter the code shown in your terminal.</p>
<form method="post" action="/codex/device">
<p><label>Code <input name="user_code" value="${escapeHtml(prefilledUserCode)}" autocomplete="off" autofocus></label></p>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

export function deviceResultPage(approved: boolean, userCode: string): string {
  return approved
    ? page("Device approved", `<h1>Device approved</h1>\n<p id="result">Code ${escapeHtml(userCode)} approved. You can return to your terminal.</p>`)
    : page("Device denied", `<h1>Device denied</h1>\n<p id="result">Code ${escapeHtml(userCode)} denied.</p>`);
}
