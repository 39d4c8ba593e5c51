/// <reference types="node" preserve="true" />
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AppServerClosedError, AppServerSpawnError } from "./errors.js";
import { emittingInput, type NodeReadableLike, type NodeWritableLike } from "./streams.js";

export interface SpawnServerOptions {
  /** The server's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The server's stderr: inherited (default), ignored, or handed to a callback as text. */
  stderr?: "inherit" | "ignore" | ((text: string) => void);
}

/** How the server process ended. `error` is set when it could not be started at all. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: AppServerSpawnError;
}

export interface SpawnedServer {
  child: ChildProcess;
  /** The server's stdout for the connection: it ends only once the process has exited, with how it ended. */
  input: NodeReadableLike;
  /** The server's stdin for the connection: write errors are left to the exit to report. */
  output: NodeWritableLike;
  /** Resolves with the exit status once the process has exited and its streams are closed. */
  exited: Promise<ExitStatus>;
}

/**
 * The command line of this package's own app-server: the running Node (`process.execPath`, so
 * PATH does not matter) on the `codex-auth` bin that package.json declares.
 */
export function ownAppServerCommand(): { command: string; args: string[] } {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, "package.json");
    let parsed: { name?: unknown; bin?: unknown } | undefined;
    try {
      parsed = JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown; bin?: unknown };
    } catch {
      parsed = undefined;
    }
    if (parsed?.name === "codex-auth") {
      const bin = typeof parsed.bin === "string" ? parsed.bin : (parsed.bin as Record<string, unknown> | undefined)?.["codex-auth"];
      if (typeof bin !== "string") throw new Error(`${manifest} declares no codex-auth bin`);
      return { command: process.execPath, args: [path.join(dir, bin), "app-server"] };
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("cannot find the codex-auth package.json above the client module");
    dir = parent;
  }
}

function describeExit(code: number | null, signal: string | null): string {
  return signal !== null ? `the app-server was killed by ${signal}` : `the app-server exited with code ${code}`;
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
  let spawnError: AppServerSpawnError | undefined;
  child.on("error", (error: NodeJS.ErrnoException) => {
    // 'error' also fires for a failed kill(); only a failure before the process ran is a spawn error.
    if (child.pid === undefined && spawnError === undefined) spawnError = new AppServerSpawnError(command, error.code ?? "UNKNOWN", { cause: error });
  });
  // A server that exits early closes its stdin; writes then fail with EPIPE, which the exit reports.
  child.stdin!.on("error", () => {});
  const exited = new Promise<ExitStatus>((resolve) => {
    child.on("close", (code, signal) => {
      if (spawnError) resolve({ code: null, signal: null, error: spawnError });
      else resolve({ code, signal });
    });
  });

  const { input, emit } = emittingInput();
  child.stdout!.on("data", (chunk: Buffer) => emit("data", chunk));
  void exited.then((status) => {
    emit("error", status.error ?? new AppServerClosedError(describeExit(status.code, status.signal), { exitCode: status.code, signal: status.signal }));
  });
  const stdin = child.stdin!;
  const output: NodeWritableLike = {
    write(chunk, callback) {
      if (stdin.destroyed || stdin.writableEnded) return false;
      return stdin.write(chunk, () => callback?.());
    },
    end(callback) {
      if (stdin.destroyed || stdin.writableEnded) callback?.();
      else stdin.end(callback);
    },
  };
  return { child, input, output, exited };
}
