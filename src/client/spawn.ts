import { spawn, type ChildProcess } from "node:child_process";

export interface SpawnServerOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The server's stderr: inherited (default), ignored, or handed to a callback as text. */
  stderr?: "inherit" | "ignore" | ((text: string) => void);
}

export interface SpawnedServer {
  child: ChildProcess;
  /** Resolves with the exit status once the process has exited and its streams are closed. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `command args` with piped stdin/stdout (Node only). */
export function spawnServerProcess(command: string, args: readonly string[], options: SpawnServerOptions = {}): SpawnedServer {
  const stderr = options.stderr ?? "inherit";
  const child = spawn(command, [...args], {
    env: options.env ?? process.env,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    stdio: ["pipe", "pipe", typeof stderr === "function" ? "pipe" : stderr],
  });
  if (typeof stderr === "function") {
    child.stderr!.setEncoding("utf8").on("data", (text: string) => stderr(text));
  }
  // A server that exits early closes its stdin; writes then fail with EPIPE, which the exit reports.
  child.stdin!.on("error", () => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("error", () => resolve({ code: null, signal: null }));
    child.on("close", (code, signal) => resolve({ code, signal }));
  });
  return { child, exited };
}
