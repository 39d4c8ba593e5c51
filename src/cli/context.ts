import { terminalSafe } from "../protocol/safe-text.js";

/** What every `codex-auth` command gets from the entry point: its streams, environment and the global `-c` overrides. */
export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `isTTY` is how `login --with-api-key` refuses an interactive terminal. */
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  /** Machine output only (`--json`, env exports). */
  readonly stdout: NodeJS.WritableStream;
  /** Human messages, exactly as Codex prints them. */
  readonly stderr: NodeJS.WritableStream;
  /** Raw `-c key=value` overrides in command-line order (parsed by `loadAuthConfig`). */
  readonly configOverrides: readonly string[];
  /** Aborted on SIGINT/SIGTERM for long-running commands. */
  readonly signal?: AbortSignal;
}

/**
 * Every human line the CLI prints goes through here, so text from outside (a server's
 * `error_description`, a device `user_code`, a stored key's mask, a file's content) reaches the
 * terminal without escape sequences or control characters (src/protocol/safe-text.ts).
 */
export function writeLine(stream: NodeJS.WritableStream, line: string): void {
  writeText(stream, `${line}\n`);
}

/** `writeLine` without the newline: for preformatted blocks (help, prompts). */
export function writeText(stream: NodeJS.WritableStream, text: string): void {
  stream.write(terminalSafe(text));
}
