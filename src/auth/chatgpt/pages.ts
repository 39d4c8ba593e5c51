/**
 * The pages the local callback server shows in the browser. Texts are Codex 0.169.0's; the
 * markup is ours. Every dynamic value is escaped, and no page ever receives a token: only
 * messages, the issuer's error code and its description.
 */
export const ENTITLEMENT_MESSAGE = "Codex is not enabled for your workspace. Contact your workspace administrator to request access to Codex.";

export interface ErrorPageContent {
  /** The machine-readable code shown under "Error code" (`access_denied`, `workspace_restriction`, ...). */
  errorCode: string;
  message: string;
  details: string;
  /** The missing-entitlement variant has its own heading and advice. */
  entitlement?: boolean;
}

export function successPage(): string {
  return page(
    "Sign into Codex",
    `<h1>Signed in to Codex</h1>
      <p>You may now close this page</p>`,
  );
}

export function errorPage(content: ErrorPageContent): string {
  const heading = content.entitlement ? "You do not have access to Codex" : "Sign-in could not be completed";
  const message = content.entitlement ? "This account is not currently authorized to use Codex in this workspace." : content.message;
  const advice = content.entitlement
    ? "Contact your workspace administrator to get access to Codex, then return to Codex and try again."
    : "Return to Codex to retry, switch accounts, or contact your workspace admin if access is restricted.";
  return page(
    "Codex Sign-in Error",
    `<p class="eyebrow">Codex login</p>
      <h1>${escapeHtml(heading)}</h1>
      <p>${escapeHtml(message)}</p>
      <dl>
        <dt>Error code</dt>
        <dd><code>${escapeHtml(content.errorCode)}</code></dd>
        <dt>Details</dt>
        <dd>${escapeHtml(content.details)}</dd>
      </dl>
      <p class="advice">${escapeHtml(advice)}</p>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${escapeHtml(title)}</title>
    <style>
      body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
        font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #0d0d0d; background: #fff; }
      main { max-width: 34rem; padding: 2rem; }
      h1 { font-size: 1.5rem; margin: 0 0 0.75rem; }
      .eyebrow { color: #5d5d5d; font-size: 0.875rem; margin: 0 0 0.5rem; }
      dl { background: #f4f4f4; border-radius: 0.5rem; padding: 0.75rem 1rem; }
      dt { font-size: 0.75rem; color: #5d5d5d; text-transform: uppercase; }
      dd { margin: 0 0 0.5rem; overflow-wrap: anywhere; }
      code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
      .advice { color: #5d5d5d; }
    </style>
  </head>
  <body>
    <main>
      ${body}
    </main>
  </body>
</html>
`;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
