/// <reference types="node" preserve="true" />
import type { ChildProcess } from "node:child_process";
import { AppServerConnection, type AppServerConnectionOptions } from "./connection.js";
import { ownAppServerCommand, spawnServerProcess, type ExitStatus, type SpawnServerOptions } from "./spawn.js";
import type { AppServerInput, AppServerOutput } from "./streams.js";

export type { ExitStatus } from "./spawn.js";

export interface SpawnAppServerOptions extends AppServerConnectionOptions, SpawnServerOptions {
  /** How long `close()` waits for the process to exit after closing its stdin before killing it (default 5000 ms). */
  exitGraceMs?: number;
  /** With no command: extra arguments after `codex-auth app-server` (e.g. `["-c", "cli_auth_credentials_store=ephemeral"]`). */
  args?: readonly string[];
}

/**
 * A client for `codex-auth app-server` or any compatible server (e.g. `codex app-server`).
 * `AppServerClient.spawn()` runs this package's own server as a child process;
 * `AppServerClient.spawn("codex")` runs `codex app-server`; `new AppServerClient(stdout, stdin)`
 * wraps streams you already have.
 */
export class AppServerClient extends AppServerConnection {
  /** The child process, when this client spawned it. */
  readonly child: ChildProcess | null;
  /**
   * Resolves when the spawned process has exited: its code or signal, or `error` (an
   * `AppServerSpawnError` with `code` ENOENT, EACCES, ...) when it never started. `null` for
   * wrapped streams.
   */
  readonly exited: Promise<ExitStatus | null>;
  readonly #exitGraceMs: number;

  constructor(input: AppServerInput, output: AppServerOutput, options: AppServerConnectionOptions & { exitGraceMs?: number } = {}, spawned?: { child: ChildProcess; exited: Promise<ExitStatus> }) {
    super(input, output, options);
    this.child = spawned?.child ?? null;
    this.exited = spawned?.exited ?? Promise.resolve(null);
    this.#exitGraceMs = options.exitGraceMs ?? 5000;
  }

  /** This package's own app-server, through `process.execPath` (PATH plays no part). */
  static spawn(options?: SpawnAppServerOptions): AppServerClient;
  /** Any compatible server: `spawn("codex")` runs `codex app-server` (args default to `["app-server"]`). */
  static spawn(command: string, args?: readonly string[], options?: SpawnAppServerOptions): AppServerClient;
  static spawn(commandOrOptions?: string | SpawnAppServerOptions, args?: readonly string[], maybeOptions?: SpawnAppServerOptions): AppServerClient {
    let command: string;
    let argv: readonly string[];
    let options: SpawnAppServerOptions;
    if (typeof commandOrOptions === "string") {
      command = commandOrOptions;
      argv = args ?? ["app-server"];
      options = maybeOptions ?? {};
    } else {
      options = commandOrOptions ?? {};
      const own = ownAppServerCommand();
      command = own.command;
      argv = [...own.args, ...(options.args ?? [])];
    }
    const spawned = spawnServerProcess(command, argv, options);
    return new AppServerClient(spawned.input, spawned.output, options, spawned);
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
