/**
 * `codex-auth/client`: a typed client for the app-server protocol. `AppServerConnection` works on
 * any byte streams in any runtime; `AppServerClient` adds spawning the server on Node.
 */
export { AppServerClient, type ExitStatus, type SpawnAppServerOptions } from "./app-server-client.js";
export {
  AppServerConnection,
  type AppServerConnectionOptions,
  type MessageTap,
  type NotificationListener,
  type NotificationParamsArgs,
  type ParamsArgsOf,
  type RequestParamsArgs,
  type ServerRequestContext,
  type ServerRequestHandler,
} from "./connection.js";
export { AppServerClosedError, AppServerError, AppServerProtocolError, AppServerTimeoutError } from "./errors.js";
export type { AppServerInput, AppServerOutput, NodeReadableLike, NodeWritableLike, WebReadableLike, WebWritableLike } from "./streams.js";
export type { SpawnServerOptions } from "./spawn.js";
