/**
 * Command dispatch for `codex-auth`: global `-c key=value` overrides, then one lazily imported
 * module per command, so `login status` loads only the auth core it needs (no HTTP client, TOML
 * parser, keyring binding or protocol validators unless they are actually used).
 */
import { displayArgument, extractConfigOverrides, usageError } from "./args.js";
import { writeLine, type CliContext } from "./context.js";

const ROOT_USAGE = "codex-auth [OPTIONS] <COMMAND>";

export async function runCli(argv: readonly string[], base: Omit<CliContext, "configOverrides">): Promise<number> {
  const extracted = extractConfigOverrides(argv);
  if ("missingValue" in extracted) {
    return usageError({ env: base.env, stdin: base.stdin, stdout: base.stdout, stderr: base.stderr, configOverrides: [] }, "a value is required for '--config <key=value>' but none was supplied", ROOT_USAGE);
  }
  // Built field by field (not spread) so that a lazy `stdin` getter stays lazy.
  const ctx: CliContext = {
    env: base.env,
    get stdin() {
      return base.stdin;
    },
    stdout: base.stdout,
    stderr: base.stderr,
    configOverrides: extracted.overrides,
    ...(base.signal ? { signal: base.signal } : {}),
  };
  const [command, ...args] = extracted.rest;

  switch (command) {
    case undefined:
      base.stderr.write((await import("./help.js")).ROOT_HELP);
      return 2;
    case "-h":
    case "--help":
      base.stdout.write((await import("./help.js")).ROOT_HELP);
      return 0;
    case "-V":
    case "--version":
      const { packageVersion } = await import("./version.js");
      writeLine(base.stdout, `codex-auth ${await packageVersion()}`);
      return 0;
    case "help":
      return printHelpFor(args, ctx);
    case "login":
      if (args[0] === "status") {
        const { runLoginStatusCommand } = await import("./commands/login-status.js");
        return runLoginStatusCommand(args.slice(1), ctx);
      }
      if (args[0] === "help") return printHelpFor(["login", ...args.slice(1)], ctx);
      return (await import("./commands/login.js")).runLoginCommand(args, ctx);
    case "logout":
      return (await import("./commands/logout.js")).runLogoutCommand(args, ctx);
    case "app-server":
      return (await import("./commands/app-server.js")).runAppServerCommand(args, ctx);
    case "dev-server": {
      const { runDevServerCommand } = await import("./commands/dev-server.js");
      return runDevServerCommand(args, { stdout: ctx.stdout, stderr: ctx.stderr, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    }
    default:
      return usageError(ctx, `unrecognized subcommand '${displayArgument(command)}'`, ROOT_USAGE);
  }
}

/** Help texts load only when asked for: they are not on the `login status` start-up path. */
async function printHelpFor(path: readonly string[], ctx: CliContext): Promise<number> {
  const { LOGIN_HELP, LOGIN_STATUS_HELP, LOGOUT_HELP, ROOT_HELP } = await import("./help.js");
  const key = path.join(" ");
  const texts: Record<string, string> = { "": ROOT_HELP, login: LOGIN_HELP, "login status": LOGIN_STATUS_HELP, logout: LOGOUT_HELP };
  const text = texts[key];
  if (text === undefined) return usageError(ctx, `unrecognized subcommand '${displayArgument(path[0] ?? "")}'`, ROOT_USAGE);
  ctx.stdout.write(text);
  return 0;
}
