import {
  classifyMessage,
  DEFAULT_MAX_LINE_BYTES,
  describeValidationError,
  encodeMessage,
  ErrorCode,
  isKnownMethod,
  LineSplitter,
  methods,
  parseMessageLine,
  validateJSONRPCErrorError,
  type ClientNotificationMethod,
  type ClientNotifications,
  type ClientRequestMethod,
  type ClientRequests,
  type InboundMessage,
  type InitializeCapabilities,
  type InitializeParams,
  type InitializeResponse,
  type MethodDescriptor,
  type MethodDirection,
  type MethodKind,
  type ParamsArgs,
  type ServerNotificationMethod,
  type ServerNotifications,
  type ServerRequestMethod,
  type ServerRequests,
  type WireRequestId,
} from "../protocol/index.js";
import { AppServerAbortError, AppServerClosedError, AppServerError, AppServerProtocolError, AppServerTimeoutError } from "./errors.js";
import { createLineOutput, messagePortStreams, subscribeInput, type AppServerInput, type AppServerOutput, type InputSubscription, type LineOutput, type MessagePortLike } from "./streams.js";

/**
 * What `AbortSignal` offers that we use; a DOM or Node `AbortSignal` fits. Declared here so the
 * types need neither the DOM lib nor `@types/node`.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/** Per-call options: a deadline and a cancel. */
export interface RequestOptions {
  /** Reject with `AppServerTimeoutError` after this many ms (default: the connection's `requestTimeoutMs`; `Infinity` waits forever). */
  timeoutMs?: number;
  /** Reject with `AppServerAbortError` when this fires; a late answer is then dropped silently. */
  signal?: AbortSignalLike;
}

/**
 * The arguments after the method name: the params (none, optional or required, see `ParamsArgs`),
 * then options. A method without params takes the options alone, with at least one member set (so
 * a stray `{}` is still a type error there).
 */
export type RequestArgs<M extends ClientRequestMethod> =
  ParamsArgs<ClientRequests[M]["params"]> extends []
    ? [options?: RequestOptions & ({ timeoutMs: number } | { signal: AbortSignalLike })]
    : [...ParamsArgs<ClientRequests[M]["params"]>, options?: RequestOptions];

/** The params argument of `request()`: none for methods that take no params. */
export type RequestParamsArgs<M extends ClientRequestMethod> = ParamsArgs<ClientRequests[M]["params"]>;

export type NotificationParamsArgs<M extends ClientNotificationMethod> = ParamsArgs<ClientNotifications[M]["params"]>;

export type NotificationListener<M extends ServerNotificationMethod> = (params: ServerNotifications[M]["params"]) => void;

export interface NextNotificationOptions<P> extends RequestOptions {
  /** Only a notification whose params satisfy this counts. */
  predicate?: (params: P) => boolean;
}

export interface ServerRequestContext {
  /** The server's id for this request. */
  readonly id: WireRequestId;
  /** The method (useful in a handler installed with `onRequest` for several methods). */
  readonly method: string;
}

/** Answers a server→client request. Throw (ideally an `AppServerError`) to answer with a JSON-RPC error. */
export type ServerRequestHandler<M extends ServerRequestMethod> = (
  params: ServerRequests[M]["params"],
  context: ServerRequestContext,
) => ServerRequests[M]["result"] | Promise<ServerRequests[M]["result"]>;

/** Every message in either direction, for logging and tests. Messages may hold tokens. */
export type MessageTap = (direction: "in" | "out", message: Record<string, unknown>) => void;

/**
 * `initialize` params as a client sends them: Codex's capabilities object has more members than
 * this protocol types (e.g. `optOutNotificationMethods`), and the schema accepts unknown ones.
 */
export type InitializeRequestParams = Omit<InitializeParams, "capabilities"> & {
  capabilities?: (InitializeCapabilities & Record<string, unknown>) | null;
};

export interface AppServerConnectionOptions {
  /** Validate results, notifications and server requests of known methods with the generated validators (default true). */
  validateInbound?: boolean;
  /** The default deadline of `request()`, `sendRequest()` and `nextNotification()` in ms (default 60 000; `Infinity` waits forever). */
  requestTimeoutMs?: number;
  /** Inbound lines longer than this many bytes are dropped and reported (default 1 MiB, as the server). */
  maxLineBytes?: number;
  /** Inbound problems: unparseable lines, invalid messages, answers to unknown ids. */
  onProtocolError?: (error: AppServerProtocolError) => void;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

interface PendingRequest {
  method: string;
  resolve(result: unknown): void;
  reject(error: Error): void;
  cleanup(): void;
}

type AnyHandler = (params: unknown, context: ServerRequestContext) => unknown;

/** Ids we stopped waiting for (timeout, abort): their late answers are dropped without a report. */
const ABANDONED_LIMIT = 1024;

function descriptorOf(method: string, direction: MethodDirection, kind: MethodKind): MethodDescriptor | undefined {
  if (!isKnownMethod(method)) return undefined;
  const descriptor: MethodDescriptor = methods[method];
  return descriptor.direction === direction && descriptor.kind === kind ? descriptor : undefined;
}

/**
 * A JSON-RPC connection to a Codex-compatible app-server over any pair of byte streams (or a
 * message port). Typed for the methods this protocol knows (`request`, `on`, `onServerRequest`),
 * untyped for any other (`sendRequest`, `onNotification`, `onRequest`): an unknown method never
 * throws. Runtime-neutral (no Node imports): `AppServerClient` adds spawning a process on Node.
 */
export class AppServerConnection {
  readonly #output: LineOutput;
  readonly #subscription: InputSubscription;
  readonly #splitter: LineSplitter;
  readonly #options: AppServerConnectionOptions;
  readonly #pending = new Map<WireRequestId, PendingRequest>();
  readonly #abandoned = new Set<WireRequestId>();
  readonly #listeners = new Map<string, Set<(params: unknown) => void>>();
  readonly #anyListeners = new Set<(method: string, params: unknown) => void>();
  readonly #handlers = new Map<string, AnyHandler>();
  readonly #taps = new Set<MessageTap>();
  readonly #closeListeners = new Set<(error: Error) => void>();
  #nextId = 1;
  #closed = false;
  #closedError: Error | null = null;
  readonly #closedPromise: Promise<void>;
  #resolveClosed!: () => void;

  constructor(input: AppServerInput, output: AppServerOutput, options: AppServerConnectionOptions = {}) {
    this.#options = options;
    const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#closedPromise = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#splitter = new LineSplitter(
      maxLineBytes,
      (line) => this.#onLine(line),
      (bytes) => this.#report(new AppServerProtocolError(`dropping an inbound line of ${bytes} bytes: over the ${maxLineBytes}-byte limit`)),
    );
    // A failed write means the peer is gone; its output ending (or the process exit) says why.
    this.#output = createLineOutput(output, (error) => this.#onInputEnd(error));
    this.#subscription = subscribeInput(
      input,
      (bytes) => this.#splitter.push(bytes),
      (error) => {
        this.#splitter.end();
        this.#onInputEnd(error);
      },
    );
  }

  /** A connection over a message port (or a worker): one JSON-RPC message per posted message. */
  static overMessagePort(port: MessagePortLike, options: AppServerConnectionOptions = {}): AppServerConnection {
    const { input, output } = messagePortStreams(port);
    return new AppServerConnection(input, output, options);
  }

  /** Resolves when the server's output has ended. */
  get closed(): Promise<void> {
    return this.#closedPromise;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** `initialize`, then the `initialized` notification. */
  async initialize(params: InitializeRequestParams, options?: RequestOptions): Promise<InitializeResponse> {
    const result = (await this.sendRequest("initialize", params, options)) as InitializeResponse;
    this.notify("initialized");
    return result;
  }

  /** A typed request: params and result from the method registry; options last. */
  request<M extends ClientRequestMethod>(method: M, ...args: RequestArgs<M>): Promise<ClientRequests[M]["result"]> {
    // Methods without params take the options first (`request("account/logout", { signal })`).
    const takesParams = isKnownMethod(method) && methods[method].paramsType !== null;
    const params: unknown = takesParams ? args[0] : undefined;
    const options = (takesParams ? args[1] : args[0]) as RequestOptions | undefined;
    return this.sendRequest(method, params, options) as Promise<ClientRequests[M]["result"]>;
  }

  /**
   * Any request, typed or not (e.g. one of `codex app-server`'s other methods): the result is
   * `unknown`, validated when the method is one this protocol knows. `params` undefined is omitted.
   */
  sendRequest(method: string, params?: unknown, options: RequestOptions = {}): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closedError ?? new AppServerClosedError());
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(new AppServerAbortError(method, signal.reason));
    const id = this.#nextId++;
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    return new Promise<unknown>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const abandon = (error: Error) => {
        if (!this.#pending.has(id)) return;
        this.#pending.delete(id);
        this.#abandon(id);
        pending.cleanup();
        reject(error);
      };
      const onAbort = () => abandon(new AppServerAbortError(method, signal?.reason));
      const pending: PendingRequest = {
        method,
        resolve,
        reject,
        cleanup: () => {
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
        },
      };
      if (Number.isFinite(timeoutMs)) timer = setTimeout(() => abandon(new AppServerTimeoutError(method, timeoutMs)), timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(id, pending);
      this.#send(params !== undefined ? { id, method, params } : { id, method });
    });
  }

  /** A typed notification to the server. */
  notify<M extends ClientNotificationMethod>(method: M, ...args: NotificationParamsArgs<M>): void {
    this.sendNotification(method, args[0] ?? undefined);
  }

  /** Any notification to the server; `params` undefined is omitted. */
  sendNotification(method: string, params?: unknown): void {
    if (this.#closed) return;
    this.#send(params !== undefined ? { method, params } : { method });
  }

  /** Listens to one server notification (validated unless `validateInbound: false`); returns the unsubscribe function. */
  on<M extends ServerNotificationMethod>(method: M, listener: NotificationListener<M>): () => void {
    return this.onNotification(method, listener as (params: unknown) => void);
  }

  /** Listens to any notification by name, typed or not; params of known methods are validated. */
  onNotification(method: string, listener: (params: unknown) => void): () => void {
    let set = this.#listeners.get(method);
    if (!set) this.#listeners.set(method, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Every notification, including ones this protocol version does not know (e.g. Codex's `configWarning`). */
  onAnyNotification(listener: (method: string, params: unknown) => void): () => void {
    this.#anyListeners.add(listener);
    return () => this.#anyListeners.delete(listener);
  }

  /**
   * The next notification of `method` (that satisfies the predicate), within a deadline: the
   * connection's `requestTimeoutMs` unless `timeoutMs` says otherwise (`Infinity` for a login the
   * user completes in a browser).
   */
  nextNotification<M extends ServerNotificationMethod>(
    method: M,
    predicateOrOptions?: ((params: ServerNotifications[M]["params"]) => boolean) | NextNotificationOptions<ServerNotifications[M]["params"]>,
  ): Promise<ServerNotifications[M]["params"]> {
    const options: NextNotificationOptions<ServerNotifications[M]["params"]> =
      typeof predicateOrOptions === "function" ? { predicate: predicateOrOptions } : (predicateOrOptions ?? {});
    const predicate = options.predicate ?? (() => true);
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const signal = options.signal;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new AppServerAbortError(method, signal.reason));
        return;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (outcome: () => void) => {
        off();
        offClosed();
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        outcome();
      };
      const onAbort = () => finish(() => reject(new AppServerAbortError(method, signal?.reason)));
      const off = this.on(method, (params) => {
        if (predicate(params)) finish(() => resolve(params));
      });
      const offClosed = this.#onClose((error) => finish(() => reject(error)));
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => finish(() => reject(new AppServerTimeoutError(method, timeoutMs, `no ${method} notification within ${timeoutMs} ms`))), timeoutMs);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Installs the typed handler for a server→client request (one per method); returns the uninstall function. */
  onServerRequest<M extends ServerRequestMethod>(method: M, handler: ServerRequestHandler<M>): () => void {
    return this.onRequest(method, handler as AnyHandler);
  }

  /**
   * Installs a handler for any server→client request by name. Params and results of known
   * methods are validated; a request without a handler is answered `-32601`.
   */
  onRequest(method: string, handler: (params: unknown, context: ServerRequestContext) => unknown): () => void {
    this.#handlers.set(method, handler);
    return () => {
      if (this.#handlers.get(method) === handler) this.#handlers.delete(method);
    };
  }

  /** Observes every message in both directions. */
  tap(listener: MessageTap): () => void {
    this.#taps.add(listener);
    return () => this.#taps.delete(listener);
  }

  /** Ends our side of the connection; resolves when the server's output ends. */
  async end(): Promise<void> {
    await this.#output.end();
    await this.#closedPromise;
  }

  /** Stops reading and fails pending requests without waiting for the server. */
  destroy(): void {
    this.#subscription.cancel();
    this.#onInputEnd();
  }

  #onClose(listener: (error: Error) => void): () => void {
    if (this.#closed) {
      listener(this.#closedError ?? new AppServerClosedError());
      return () => {};
    }
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  #abandon(id: WireRequestId): void {
    this.#abandoned.add(id);
    if (this.#abandoned.size > ABANDONED_LIMIT) this.#abandoned.delete(this.#abandoned.values().next().value!);
  }

  #send(message: Record<string, unknown>): void {
    for (const tap of this.#taps) tap("out", message);
    this.#output.write(encodeMessage(message));
  }

  #report(error: AppServerProtocolError): void {
    this.#options.onProtocolError?.(error);
  }

  #onLine(line: Uint8Array): void {
    const parsed = parseMessageLine(line);
    if (parsed === null) return;
    if ("ignored" in parsed) {
      this.#report(new AppServerProtocolError(`the server sent ${parsed.ignored.replace(/^ignoring /, "")}`));
      return;
    }
    this.#onMessage(parsed.message);
  }

  #onMessage(message: InboundMessage): void {
    for (const tap of this.#taps) tap("in", message);
    const classified = classifyMessage(message);
    switch (classified.kind) {
      case "request":
        void this.#onServerRequest(classified.id, classified.method, classified.params);
        return;
      case "notification":
        this.#onNotification(classified.method, classified.params);
        return;
      case "response":
      case "errorResponse":
        this.#onResponse(classified.id, message);
        return;
      case "invalid":
        this.#report(new AppServerProtocolError(`the server sent an invalid message (${classified.reason.replace(/^ignoring /, "")})`, message));
        return;
    }
  }

  #validating(): boolean {
    return this.#options.validateInbound !== false;
  }

  #onResponse(id: WireRequestId, message: InboundMessage): void {
    const pending = this.#pending.get(id);
    if (!pending) {
      if (!this.#abandoned.delete(id)) this.#report(new AppServerProtocolError(`the server answered an unknown request id ${String(id)}`, message));
      return;
    }
    this.#pending.delete(id);
    pending.cleanup();
    const method = pending.method;
    if (Object.prototype.hasOwnProperty.call(message, "error")) {
      const error = message.error;
      if (validateJSONRPCErrorError(error)) {
        pending.reject(AppServerError.fromResponse(method, error));
      } else {
        pending.reject(new AppServerProtocolError(`invalid error object for ${method}`, message));
      }
      return;
    }
    const validate = this.#validating() ? descriptorOf(method, "clientToServer", "request")?.validateResult : undefined;
    if (validate && !validate(message.result)) {
      const error = new AppServerProtocolError(`invalid ${method} result: ${describeValidationError(validate.errors, message.result)}`, message);
      this.#report(error);
      pending.reject(error);
      return;
    }
    pending.resolve(message.result);
  }

  #onNotification(method: string, params: unknown): void {
    for (const listener of this.#anyListeners) listener(method, params);
    const listeners = this.#listeners.get(method);
    if (!listeners || listeners.size === 0) return;
    const descriptor = this.#validating() ? descriptorOf(method, "serverToClient", "notification") : undefined;
    if (descriptor && !descriptor.validateParams(params)) {
      this.#report(new AppServerProtocolError(`invalid ${method} notification: ${describeValidationError(descriptor.validateParams.errors, params)}`, params));
      return;
    }
    for (const listener of [...listeners]) listener(params);
  }

  async #onServerRequest(id: WireRequestId, method: string, params: unknown): Promise<void> {
    const answerError = (code: number, message: string, data?: unknown) =>
      this.#send({ id, error: data === undefined ? { code, message } : { code, message, data } });
    const handler = this.#handlers.get(method);
    if (!handler) {
      answerError(ErrorCode.MethodNotFound, `no handler for server request ${method}`);
      return;
    }
    const descriptor = descriptorOf(method, "serverToClient", "request");
    if (this.#validating() && descriptor && !descriptor.validateParams(params)) {
      const detail = describeValidationError(descriptor.validateParams.errors, params);
      this.#report(new AppServerProtocolError(`invalid ${method} params: ${detail}`, params));
      answerError(ErrorCode.InvalidParams, `invalid params: ${detail}`);
      return;
    }
    let result: unknown;
    try {
      result = await handler(params, { id, method });
    } catch (error) {
      if (error instanceof AppServerError) answerError(error.code, error.message, error.data);
      else answerError(ErrorCode.InternalError, error instanceof Error ? error.message : String(error));
      return;
    }
    const validate = descriptor?.validateResult;
    if (validate && !validate(result)) {
      const detail = describeValidationError(validate.errors, result);
      this.#report(new AppServerProtocolError(`the ${method} handler returned an invalid result: ${detail}`));
      answerError(ErrorCode.InternalError, `invalid ${method} result: ${detail}`);
      return;
    }
    if (this.#closed) return;
    this.#send({ id, result: result === undefined ? null : result });
  }

  #onInputEnd(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closedError =
      error instanceof AppServerClosedError || (error instanceof Error && error.name === "AppServerSpawnError")
        ? error
        : new AppServerClosedError(error === undefined ? undefined : `the app-server connection failed: ${describeStreamError(error)}`);
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      pending.cleanup();
      pending.reject(this.#closedError);
    }
    for (const listener of [...this.#closeListeners]) listener(this.#closedError);
    this.#closeListeners.clear();
    this.#resolveClosed();
  }
}

function describeStreamError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  return error instanceof Error ? error.message : String(error);
}
