import { ErrorCode, INVALID_REQUEST_PREFIX, type RequestId } from "../protocol/index.js";

/** A JSON-RPC error a handler answers with. `message` is the contract's text and never holds a secret. */
export class RpcError extends Error {
  override readonly name = "RpcError";

  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** `-32600`: policy refusals, gating, handshake errors. */
export function invalidRequest(message: string): RpcError {
  return new RpcError(ErrorCode.InvalidRequest, message);
}

/** `-32600 Invalid request: <detail>`: unknown method or params that do not decode. */
export function malformedRequest(detail: string): RpcError {
  return new RpcError(ErrorCode.InvalidRequest, `${INVALID_REQUEST_PREFIX}${detail}`);
}

/** `-32603`: internal and backend failures. */
export function internalError(message: string): RpcError {
  return new RpcError(ErrorCode.InternalError, message);
}

/**
 * The classifier and id helpers live in the protocol's codec (one for the server, the client and
 * the tests); these names are what the dispatcher and the server-request broker use.
 */
export {
  classifyMessage as classify,
  describeId,
  describeMethod,
  isRequestId,
  type ClassifiedMessage as Classified,
  type WireRequestId,
} from "../protocol/index.js";
