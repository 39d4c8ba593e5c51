import type { CurrentAuth } from "../../auth/manager.js";
import { USAGE, displayArgument, parseFlags, usageError } from "../args.js";
import { errorMessage, openCliAuth } from "../auth-setup.js";
import { writeLine, type CliContext } from "../context.js";

const FLAGS = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** One line of machine output for scripts; the credential is masked as the human line masks it. */
export interface LoginStatusJson {
  loggedIn: boolean;
  authMode: CurrentAuth["mode"] | null;
  source: CurrentAuth["source"] | null;
  credential: string | null;
  accountId: string | null;
  email: string | null;
  planType: CurrentAuth["planType"];
  error: string | null;
}

/**
 * `codex-auth login status [--json]`. Loads auth as Codex does for status (`CODEX_API_KEY` ignored,
 * `CODEX_ACCESS_TOKEN` honoured); a PAT gets a live whoami. Human lines on stderr, exit 1 when not
 * logged in or on error; with `--json`, one object on stdout as well.
 */
export async function runLoginStatusCommand(args: readonly string[], ctx: CliContext): Promise<number> {
  const parsed = parseFlags(args, FLAGS, USAGE.loginStatus, ctx);
  if (typeof parsed === "number") return parsed;
  if (parsed.values.help) {
    ctx.stdout.write((await import("../help.js")).LOGIN_STATUS_HELP);
    return 0;
  }
  if (parsed.positionals.length > 0) {
    return usageError(ctx, `unexpected argument '${displayArgument(parsed.positionals[0] as string)}' found`, USAGE.loginStatus);
  }
  const json = parsed.values.json === true;
  const report = (status: LoginStatusJson) => {
    if (json) ctx.stdout.write(`${JSON.stringify(status)}\n`);
  };
  const empty: LoginStatusJson = { loggedIn: false, authMode: null, source: null, credential: null, accountId: null, email: null, planType: null, error: null };

  // No refresh here: Codex 0.169.0's `login status` reads the stored tokens and sends nothing.
  const setup = await openCliAuth(ctx, { enableCodexApiKeyEnv: false, proactiveRefresh: false });
  if ("exitCode" in setup) {
    report({ ...empty, error: setup.message });
    return setup.exitCode;
  }
  let auth: CurrentAuth | null;
  try {
    auth = await setup.manager.current();
  } catch (error) {
    const message = errorMessage(error);
    writeLine(ctx.stderr, `Error checking login status: ${message}`);
    report({ ...empty, error: message });
    return 1;
  }
  if (auth === null) {
    writeLine(ctx.stderr, "Not logged in");
    report(empty);
    return 1;
  }
  writeLine(ctx.stderr, humanStatus(auth));
  report({
    loggedIn: true,
    authMode: auth.mode,
    source: auth.source,
    credential: auth.bearer.mask(),
    accountId: auth.accountId,
    email: auth.email,
    planType: auth.planType,
    error: null,
  });
  return 0;
}

function humanStatus(auth: CurrentAuth): string {
  switch (auth.mode) {
    case "apikey":
      return `API key configured - ${auth.bearer.mask()}\nAuthentication is checked when you send a request.`;
    case "chatgpt":
    case "chatgptAuthTokens":
      return "Logged in using ChatGPT";
    case "personalAccessToken":
      return "Logged in using personal access token";
    case "agentIdentity":
      return "Logged in using access token";
  }
}
