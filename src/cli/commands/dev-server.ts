import { describeLibraryError } from "../../protocol/safe-text.js";
import { displayArgument } from "../args.js";
import { writeText } from "../context.js";
import { DEMO_PERSONAL_ACCESS_TOKENS, startDevServer, type DevServer } from "../../dev-server/index.js";

/**
 * `codex-auth dev-server [--port N] [--host H]`: runs the local emulator until SIGINT/SIGTERM (or
 * `io.signal`). Stdout gets machine output only: shell `export` lines, everything else as `#`
 * comments, so it can be pasted into a shell. Request log lines (redacted) go to stderr.
 */

export interface DevServerCommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Stops the server like SIGINT would (for tests and embedding). */
  signal?: AbortSignal;
}

const USAGE = `Usage: codex-auth dev-server [--port N] [--host HOST] [--slow-delay-ms N] [--device-interval S] [--access-token-ttl SECONDS]

Runs a local emulator of AuthAPI, the OAuth issuer and the ChatGPT backend until interrupted.
`;

interface ParsedArgs {
  port: number;
  host: string;
  slowDelayMs?: number;
  deviceCodeInterval?: string;
  accessTokenTtlSeconds?: number;
}

class UsageError extends Error {}

function parseArgs(args: readonly string[]): ParsedArgs | "help" {
  const parsed: ParsedArgs = { port: 0, host: "127.0.0.1" };
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (arg === "--help" || arg === "-h") return "help";
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string => {
      const next = inline ?? args[++index];
      if (next === undefined) throw new UsageError(`${displayArgument(flag)} needs a value`);
      return next;
    };
    const integer = (): number => {
      const text = value();
      if (!/^-?\d+$/.test(text)) throw new UsageError(`${displayArgument(flag)} expects an integer, got ${displayArgument(text)}`);
      return Number(text);
    };
    switch (flag) {
      case "--port": {
        const port = integer();
        if (port < 0 || port > 65_535) throw new UsageError(`--port must be between 0 and 65535, got ${port}`);
        parsed.port = port;
        break;
      }
      case "--host":
        parsed.host = value();
        break;
      case "--slow-delay-ms":
        parsed.slowDelayMs = integer();
        break;
      case "--device-interval":
        parsed.deviceCodeInterval = value();
        break;
      case "--access-token-ttl":
        parsed.accessTokenTtlSeconds = integer();
        break;
      default:
        throw new UsageError(`unexpected argument ${displayArgument(arg)}`);
    }
  }
  return parsed;
}

/** Quotes a value for a POSIX shell only when it needs it. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function banner(server: DevServer): string {
  const lines = [
    `# codex-auth dev server listening on ${server.url}`,
    ...Object.entries(server.env()).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
    `# backend: add these to codex-auth commands: ${server.configOverrides().map(shellQuote).join(" ")}`,
    `# control plane: ${server.url}/__dev/state`,
    "# demo personal access tokens (public demo values):",
    ...Object.entries(DEMO_PERSONAL_ACCESS_TOKENS).map(([token, meaning]) => `#   ${token.padEnd(24)} ${meaning}`),
    "# Press Ctrl-C to stop.",
  ];
  return `${lines.join("\n")}\n`;
}

export async function runDevServerCommand(args: string[], io: DevServerCommandIo): Promise<number> {
  let parsed: ParsedArgs | "help";
  try {
    parsed = parseArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    writeText(io.stderr, `error: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === "help") {
    io.stderr.write(USAGE);
    return 0;
  }

  const { port, host, ...rest } = parsed;
  let server: DevServer;
  try {
    server = await startDevServer({ port, host, ...rest, log: (line) => writeText(io.stderr, `${line}\n`) });
  } catch (error) {
    writeText(io.stderr, `Error starting dev server: ${describeLibraryError(error)}\n`);
    return 1;
  }
  io.stdout.write(banner(server));

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      io.signal?.removeEventListener("abort", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener("abort", stop, { once: true });
  });
  await server.close();
  io.stderr.write("dev-server: stopped\n");
  return 0;
}
