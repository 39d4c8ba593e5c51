import { USAGE, displayArgument, parseFlags, usageError } from "../args.js";
import { errorMessage, openCliAuth } from "../auth-setup.js";
import { writeLine, type CliContext } from "../context.js";
import { createLoginLog } from "../login-log.js";

const FLAGS = { help: { type: "boolean", short: "h" } } as const;

/**
 * `codex-auth logout`: revokes managed ChatGPT tokens (best effort; a failure goes only to the
 * login log), then removes stored auth, even a malformed file. "Not logged in" is exit 0, as in Codex.
 */
export async function runLogoutCommand(args: readonly string[], ctx: CliContext): Promise<number> {
  const parsed = parseFlags(args, FLAGS, USAGE.logout, ctx);
  if (typeof parsed === "number") return parsed;
  if (parsed.values.help) {
    ctx.stdout.write((await import("../help.js")).LOGOUT_HELP);
    return 0;
  }
  if (parsed.positionals.length > 0) {
    return usageError(ctx, `unexpected argument '${displayArgument(parsed.positionals[0] as string)}' found`, USAGE.logout);
  }
  const setup = await openCliAuth(ctx, { enableCodexApiKeyEnv: false, log: createLoginLog });
  if ("exitCode" in setup) return setup.exitCode;
  try {
    const { removed } = await setup.manager.logout();
    writeLine(ctx.stderr, removed ? "Successfully logged out" : "Not logged in");
    return 0;
  } catch (error) {
    writeLine(ctx.stderr, `Error logging out: ${errorMessage(error)}`);
    return 1;
  }
}
