/**
 * A JSON-RPC error: the server answered a request with it, or a server-request handler throws it
 * to answer with that code (like vscode-jsonrpc's `ResponseError(code, message, data)`).
 */
export class AppServerError extends Error {
  override readonly name = "AppServerError";
  readonly code: number;
  readonly data?: unknown;
  /** The method of the request that failed, when the error is the server's answer to one of ours. */
  readonly method?: string;

  constructor(code: number, message: string, data?: unknown);
  /** The earlier form, kept working: the method first. */
  constructor(method: string, code: number, message: string, data?: unknown);
  constructor(...args: [number, string, unknown?] | [string, number, string, unknown?]) {
    const legacy = typeof args[0] === "string";
    super(legacy ? (args[2] as string) : (args[1] as string));
    if (legacy) {
      this.method = args[0] as string;
      this.code = args[1] as number;
      if (args.length > 3) this.data = args[3];
    } else {
      this.code = args[0] as number;
      if (args.length > 2) this.data = args[2];
    }
  }

  /** The server's error answer to a request of `method`. */
  static fromResponse(method: string, error: { code: number; message: string; data?: unknown }): AppServerError {
    return "data" in error ? new AppServerError(method, error.code, error.message, error.data) : new AppServerError(method, error.code, error.message);
  }
}

/** The server sent something the generated validators reject (a result, notification or server request). */
export class AppServerProtocolError extends Error {
  override readonly name = "AppServerProtocolError";

  constructor(
    message: string,
    /** The offending message, for debugging. It may hold tokens: do not log it blindly. */
    readonly received?: unknown,
  ) {
    super(message);
  }
}

/** How a spawned server ended: its exit code, or the signal that killed it. */
export interface ExitInfo {
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/**
 * The connection ended (the server exited or its output closed) before a request was answered.
 * For a spawned server, `exitCode` / `signal` say how it ended.
 */
export class AppServerClosedError extends Error {
  override readonly name = "AppServerClosedError";
  readonly exitCode: number | null;
  readonly signal: string | null;

  constructor(message = "the app-server connection is closed", exit?: ExitInfo) {
    super(message);
    this.exitCode = exit?.exitCode ?? null;
    this.signal = exit?.signal ?? null;
  }
}

/**
 * The server process could not be started. `code` is the system error code (`ENOENT`: no such
 * command, `EACCES`: not executable, ...); `cause` is Node's original error.
 */
export class AppServerSpawnError extends Error {
  override readonly name = "AppServerSpawnError";

  constructor(
    readonly command: string,
    readonly code: string,
    options: { cause: unknown },
  ) {
    super(`could not start the app-server ${JSON.stringify(command)}: ${code}`, options);
  }
}

/** A request (or `nextNotification`) got no answer within its deadline. */
export class AppServerTimeoutError extends Error {
  override readonly name = "AppServerTimeoutError";

  constructor(
    readonly method: string,
    readonly timeoutMs: number,
    message = `${method} got no response within ${timeoutMs} ms`,
  ) {
    super(message);
  }
}

/** The caller's `AbortSignal` fired before the answer came; `reason` is the signal's reason. */
export class AppServerAbortError extends Error {
  override readonly name = "AppServerAbortError";

  constructor(
    readonly method: string,
    readonly reason: unknown,
  ) {
    super(`${method} was aborted`);
  }
}
