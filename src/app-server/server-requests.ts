import {
  describeValidationError,
  methods,
  validateJSONRPCErrorError,
  type RequestId,
  type ServerRequestMethod,
  type ServerRequests,
} from "../protocol/index.js";
import type { Logger } from "./log.js";
import { describeId, type WireRequestId } from "./rpc.js";

/** How long the server waits for the client to answer one of its requests (Codex: 10 s). */
export const DEFAULT_SERVER_REQUEST_TIMEOUT_MS = 10_000;

export type ServerRequestFailure =
  | { kind: "timeout"; timeoutMs: number }
  | { kind: "rpcError"; code: number; message: string }
  | { kind: "malformed"; detail: string }
  | { kind: "closed" };

/** A server→client request that got no usable answer. Messages never quote the answer's content. */
export class ServerRequestError extends Error {
  override readonly name = "ServerRequestError";

  constructor(
    readonly method: ServerRequestMethod,
    readonly failure: ServerRequestFailure,
  ) {
    super(describeFailure(failure));
  }
}

export function describeFailure(failure: ServerRequestFailure): string {
  switch (failure.kind) {
    case "timeout":
      return `timed out after ${formatDuration(failure.timeoutMs)}`;
    case "rpcError":
      return `failed: code=${failure.code} message=${failure.message}`;
    case "malformed":
      return `returned an invalid response: ${failure.detail}`;
    case "closed":
      return "failed: the client closed the connection";
  }
}

/** `10s` for whole seconds (Codex's wording), `250ms` otherwise. */
export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

interface Pending {
  method: ServerRequestMethod;
  resolve(result: unknown): void;
  reject(error: ServerRequestError): void;
  timer: ReturnType<typeof setTimeout>;
}

export interface ServerRequestBrokerOptions {
  send(message: { id: RequestId; method: string; params: unknown }): void;
  log: Logger;
  timeoutMs?: number;
}

/**
 * Requests the server sends to the client: integer ids from a counter starting at 0 (as Codex),
 * a timeout per request, answers validated with the generated validators. Answers to ids that are
 * not pending (late, unknown, duplicate) are logged and dropped.
 */
export class ServerRequestBroker {
  readonly timeoutMs: number;
  #nextId = 0;
  readonly #pending = new Map<WireRequestId, Pending>();
  #closed = false;

  constructor(private readonly options: ServerRequestBrokerOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_SERVER_REQUEST_TIMEOUT_MS;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  request<M extends ServerRequestMethod>(method: M, params: ServerRequests[M]["params"]): Promise<ServerRequests[M]["result"]> {
    if (this.#closed) return Promise.reject(new ServerRequestError(method, { kind: "closed" }));
    const id = this.#nextId++;
    return new Promise<ServerRequests[M]["result"]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ServerRequestError(method, { kind: "timeout", timeoutMs: this.timeoutMs }));
      }, this.timeoutMs);
      this.#pending.set(id, { method, resolve: resolve as (result: unknown) => void, reject, timer });
      this.options.send({ id, method, params });
    });
  }

  /** A client answer `{id, result}`; returns false when no request with that id is pending. */
  handleResult(id: WireRequestId, result: unknown): boolean {
    const pending = this.#take(id);
    if (!pending) return false;
    const validate = methods[pending.method].validateResult;
    if (!validate(result)) {
      pending.reject(new ServerRequestError(pending.method, { kind: "malformed", detail: describeValidationError(validate.errors, result, { maxQuoted: 0 }) }));
    } else {
      pending.resolve(result);
    }
    return true;
  }

  /** A client answer `{id, error}`. */
  handleError(id: WireRequestId, error: unknown): boolean {
    const pending = this.#take(id);
    if (!pending) return false;
    if (validateJSONRPCErrorError(error)) {
      pending.reject(new ServerRequestError(pending.method, { kind: "rpcError", code: error.code, message: error.message }));
    } else {
      const detail = describeValidationError(validateJSONRPCErrorError.errors, error, { maxQuoted: 0 });
      pending.reject(new ServerRequestError(pending.method, { kind: "malformed", detail: `invalid error object: ${detail}` }));
    }
    return true;
  }

  /** The client can no longer answer (stdin closed): fail everything pending now instead of at the timeout. */
  close(): void {
    this.#closed = true;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      pending.reject(new ServerRequestError(pending.method, { kind: "closed" }));
    }
  }

  #take(id: WireRequestId): Pending | undefined {
    const pending = this.#pending.get(id);
    if (!pending) {
      this.options.log.warn(`dropping a response to unknown server request id ${describeId(id)}`);
      return undefined;
    }
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }
}
