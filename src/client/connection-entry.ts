/**
 * `codex-auth/connection`: the JSON-RPC connection to a Codex-compatible app-server over WHATWG
 * streams, Node streams or a message port. No Node imports: it bundles for browsers and workers.
 */
export {
  AppServerConnection,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type AbortSignalLike,
  type AppServerConnectionOptions,
  type InitializeRequestParams,
  type MessageTap,
  type NextNotificationOptions,
  type NotificationListener,
  type NotificationParamsArgs,
  type RequestArgs,
  type RequestOptions,
  type RequestParamsArgs,
  type ServerRequestContext,
  type ServerRequestHandler,
} from "./connection.js";
export type { ParamsArgs, WireRequestId } from "../protocol/index.js";
export {
  AppServerAbortError,
  AppServerClosedError,
  AppServerError,
  AppServerProtocolError,
  AppServerSpawnError,
  AppServerTimeoutError,
  type ExitInfo,
} from "./errors.js";
export type { AppServerInput, AppServerOutput, MessagePortLike, NodeReadableLike, NodeWritableLike, WebReadableLike, WebWritableLike } from "./streams.js";
