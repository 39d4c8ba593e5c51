/** A JSON-RPC error the server answered a request with. */
export class AppServerError extends Error {
  override readonly name = "AppServerError";

  constructor(
    /** The method of the request that failed. */
    readonly method: string,
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
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

/** The connection ended (the server exited or its output closed) before a request was answered. */
export class AppServerClosedError extends Error {
  override readonly name = "AppServerClosedError";

  constructor(message = "the app-server connection is closed") {
    super(message);
  }
}

/** A request got no answer within the client's `requestTimeoutMs`. */
export class AppServerTimeoutError extends Error {
  override readonly name = "AppServerTimeoutError";

  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`${method} got no response within ${timeoutMs} ms`);
  }
}
