import { parseArgs } from "node:util";
import { displayArgument } from "../protocol/safe-text.js";
import { writeLine, type CliContext } from "./context.js";

/**
 * Pulls the global `-c key=value` / `--config key=value` overrides out of argv wherever they appear
 * (Codex accepts them before or after the subcommand). Everything after `--` is left alone.
 */
export function extractConfigOverrides(argv: readonly string[]): { overrides: string[]; rest: string[] } | { missingValue: true } {
  const overrides: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === "-c" || arg === "--config") {
      const value = argv[i + 1];
      if (value === undefined) return { missingValue: true };
      overrides.push(value);
      i++;
    } else if (arg.startsWith("--config=")) {
      overrides.push(arg.slice("--config=".length));
    } else if (arg.startsWith("-c") && arg.length > 2 && !arg.startsWith("--")) {
      overrides.push(arg.slice(arg[2] === "=" ? 3 : 2));
    } else {
      rest.push(arg);
    }
  }
  return { overrides, rest };
}

/** Usage lines for clap-style errors (kept here so the help texts load only for `--help`). */
export const USAGE = {
  root: "codex-auth [OPTIONS] <COMMAND>",
  login: "codex-auth login [OPTIONS] [COMMAND]",
  loginStatus: "codex-auth login status [OPTIONS]",
  logout: "codex-auth logout [OPTIONS]",
} as const;

type BooleanFlags = Record<string, { type: "boolean"; short?: string }>;

/**
 * util.parseArgs for a command's boolean flags, with clap-style usage errors (exit 2). An unexpected
 * argument is echoed only when it looks like a word or an option name: anything else is masked,
 * because a credential pasted on the command line must not be printed back.
 */
export function parseFlags<T extends BooleanFlags>(
  args: readonly string[],
  flags: T,
  usage: string,
  ctx: CliContext,
): { values: { [K in keyof T]?: boolean }; positionals: string[] } | number {
  // Nothing to parse: the everyday `codex-auth login status` skips loading Node's argument parser.
  if (args.length === 0) return { values: {}, positionals: [] };
  try {
    const { values, positionals } = parseArgs({ args: [...args], options: flags, strict: true, allowPositionals: true });
    return { values: values as { [K in keyof T]?: boolean }, positionals };
  } catch {
    const offending = args.find((arg) => !isKnownFlag(arg, flags)) ?? "";
    return usageError(ctx, `unexpected argument '${displayArgument(offending)}' found`, usage);
  }
}

export function usageError(ctx: CliContext, message: string, usage: string): number {
  writeLine(ctx.stderr, `error: ${message}\n\nUsage: ${usage}\n\nFor more information, try '--help'.`);
  return 2;
}

function isKnownFlag(arg: string, flags: BooleanFlags): boolean {
  for (const [name, spec] of Object.entries(flags)) {
    if (arg === `--${name}` || (spec.short !== undefined && arg === `-${spec.short}`)) return true;
  }
  return false;
}

/** The one argv masker (src/protocol/safe-text.ts), used by every command. */
export { displayArgument };
