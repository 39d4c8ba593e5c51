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

export function writeLine(stream: NodeJS.WritableStream, line: string): void {
  stream.write(`${line}\n`);
}
