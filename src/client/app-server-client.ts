import type { ChildProcess } from "node:child_process";
import { AppServerConnection, type AppServerConnectionOptions } from "./connection.js";
import { spawnServerProcess, type SpawnServerOptions } from "./spawn.js";
import type { AppServerInput, AppServerOutput } from "./streams.js";

export interface SpawnAppServerOptions extends AppServerConnectionOptions, SpawnServerOptions {
  /** How long `close()` waits for the process to exit after closing its stdin before killing it (default 5000 ms). */
  exitGraceMs?: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A client for `codex-auth app-server` or any compatible server (e.g. `codex app-server`).
 * `AppServerClient.spawn()` runs it as a child process; `new AppServerClient(stdout, stdin)` wraps
 * streams you already have.
 */
export class AppServerClient extends AppServerConnection {
  /** The child process, when this client spawned it. */
  readonly child: ChildProcess | null;
  /** Resolves when the spawned process has exited (immediately `null` for wrapped streams). */
  readonly exited: Promise<ExitStatus | null>;
  readonly #exitGraceMs: number;

  constructor(input: AppServerInput, output: AppServerOutput, options: AppServerConnectionOptions & { exitGraceMs?: number } = {}, spawned?: { child: ChildProcess; exited: Promise<ExitStatus> }) {
    super(input, output, options);
    this.child = spawned?.child ?? null;
    this.exited = spawned?.exited ?? Promise.resolve(null);
    this.#exitGraceMs = options.exitGraceMs ?? 5000;
  }

  static spawn(command = "codex-auth", args: readonly string[] = ["app-server"], options: SpawnAppServerOptions = {}): AppServerClient {
    const spawned = spawnServerProcess(command, args, options);
    return new AppServerClient(spawned.child.stdout!, spawned.child.stdin!, options, spawned);
  }

  /** Closes the server's stdin (it finishes in-flight work and exits), waits for it, and kills it if it lingers. */
  async close(): Promise<ExitStatus | null> {
    if (!this.child) {
      await this.end();
      return null;
    }
    const child = this.child;
    const grace = setTimeout(() => child.kill("SIGKILL"), this.#exitGraceMs);
    try {
      if (!child.stdin!.destroyed) child.stdin!.end();
      return await this.exited;
    } finally {
      clearTimeout(grace);
    }
  }
}
