import {
  describeValidationError,
  isKnownMethod,
  methods,
  validateJSONRPCErrorError,
  validateRequestId,
  type ClientNotificationMethod,
  type ClientNotifications,
  type ClientRequestMethod,
  type ClientRequests,
  type InitializeParams,
  type InitializeResponse,
  type RequestId,
  type ServerNotificationMethod,
  type ServerNotifications,
  type ServerRequestMethod,
  type ServerRequests,
} from "../protocol/index.js";
import { AppServerClosedError, AppServerError, AppServerProtocolError, AppServerTimeoutError } from "./errors.js";
import { createLineOutput, subscribeInput, type AppServerInput, type AppServerOutput, type InputSubscription, type LineOutput } from "./streams.js";

/** The arguments after the method name: none without params, an optional one for optional params, else one. */
export type ParamsArgsOf<P> = [P] extends [undefined] ? [] : undefined extends P ? [params?: Exclude<P, undefined> | null] : [params: P];

/** The params argument of `request()`: none for methods that take no params. */
export type RequestParamsArgs<M extends ClientRequestMethod> = ParamsArgsOf<ClientRequests[M]["params"]>;

export type NotificationParamsArgs<M extends ClientNotificationMethod> = ParamsArgsOf<ClientNotifications[M]["params"]>;

export type NotificationListener<M extends ServerNotificationMethod> = (params: ServerNotifications[M]["params"]) => void;

export interface ServerRequestContext {
  /** The server's id for this request. */
  readonly id: RequestId;
}

/** Answers a server→client request. Throw (ideally an `AppServerError`) to answer with a JSON-RPC error. */
export type ServerRequestHandler<M extends ServerRequestMethod> = (
  params: ServerRequests[M]["params"],
  context: ServerRequestContext,
) => ServerRequests[M]["result"] | Promise<ServerRequests[M]["result"]>;

/** Every message in either direction, for logging and tests. Messages may hold tokens. */
export type MessageTap = (direction: "in" | "out", message: Record<string, unknown>) => void;

export interface AppServerConnectionOptions {
  /** Validate results, notifications and server requests with the generated validators (default true). */
  validateInbound?: boolean;
  /** Reject a request that gets no answer within this many ms (default: wait forever). */
  requestTimeoutMs?: number;
  /** Inbound lines longer than this are dropped and reported (default 16 MiB). */
  maxLineBytes?: number;
  /** Inbound problems: unparseable lines, invalid messages, answers to unknown ids. */
  onProtocolError?: (error: AppServerProtocolError) => void;
}

interface PendingRequest {
  method: ClientRequestMethod;
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer?: ReturnType<typeof setTimeout>;
}

const has = (value: object, key: string) => Object.prototype.hasOwnProperty.call(value, key);

/**
 * A typed JSON-RPC connection to a Codex-compatible app-server over any pair of byte streams. It
 * is runtime-neutral (no Node imports): `AppServerClient` adds spawning a child process on Node.
 */
export class AppServerConnection {
  readonly #output: LineOutput;
  readonly #subscription: InputSubscription;
  readonly #options: AppServerConnectionOptions;
  readonly #pending = new Map<RequestId, PendingRequest>();
  readonly #listeners = new Map<string, Set<(params: unknown) => void>>();
  readonly #anyListeners = new Set<(method: string, params: unknown) => void>();
  readonly #handlers = new Map<string, (params: unknown, context: ServerRequestContext) => unknown>();
  readonly #taps = new Set<MessageTap>();
  readonly #closeListeners = new Set<(error: Error) => void>();
  readonly #maxLineBytes: number;
  #nextId = 1;
  #buffer = "";
  #closed = false;
  #closedError: Error | null = null;
  readonly #closedPromise: Promise<void>;
  #resolveClosed!: () => void;

  constructor(input: AppServerInput, output: AppServerOutput, options: AppServerConnectionOptions = {}) {
    this.#options = options;
    this.#maxLineBytes = options.maxLineBytes ?? 16 * 1024 * 1024;
    this.#closedPromise = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#output = createLineOutput(output, (error) => this.#report(new AppServerProtocolError(`write failed: ${String(error)}`)));
    this.#subscription = subscribeInput(
      input,
      (text) => this.#onText(text),
      (error) => this.#onInputEnd(error),
    );
  }

  /** Resolves when the server's output has ended. */
  get closed(): Promise<void> {
    return this.#closedPromise;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** `initialize`, then the `initialized` notification. */
  async initialize(params: InitializeParams): Promise<InitializeResponse> {
    const result = await this.request("initialize", params);
    this.notify("initialized");
    return result;
  }

  request<M extends ClientRequestMethod>(method: M, ...args: RequestParamsArgs<M>): Promise<ClientRequests[M]["result"]> {
    if (this.#closed) return Promise.reject(this.#closedError ?? new AppServerClosedError());
    const id = this.#nextId++;
    return new Promise<ClientRequests[M]["result"]>((resolve, reject) => {
      const pending: PendingRequest = { method, resolve: resolve as (result: unknown) => void, reject };
      const timeoutMs = this.#options.requestTimeoutMs;
      if (timeoutMs !== undefined) {
        pending.timer = setTimeout(() => {
          this.#pending.delete(id);
          reject(new AppServerTimeoutError(method, timeoutMs));
        }, timeoutMs);
      }
      this.#pending.set(id, pending);
      const params: unknown = args[0];
      this.#send(params !== undefined ? { id, method, params } : { id, method });
    });
  }

  notify<M extends ClientNotificationMethod>(method: M, ...args: NotificationParamsArgs<M>): void {
    if (this.#closed) return;
    const params: unknown = args[0];
    this.#send(params !== undefined ? { method, params } : { method });
  }

  /** Listens to one server notification; returns the unsubscribe function. */
  on<M extends ServerNotificationMethod>(method: M, listener: NotificationListener<M>): () => void {
    let set = this.#listeners.get(method);
    if (!set) this.#listeners.set(method, (set = new Set()));
    const entry = listener as (params: unknown) => void;
    set.add(entry);
    return () => set.delete(entry);
  }

  /** Every notification, including ones this protocol version does not know (e.g. Codex's `configWarning`). */
  onAnyNotification(listener: (method: string, params: unknown) => void): () => void {
    this.#anyListeners.add(listener);
    return () => this.#anyListeners.delete(listener);
  }

  /** The next notification of `method` that satisfies `predicate`. */
  nextNotification<M extends ServerNotificationMethod>(
    method: M,
    predicate: (params: ServerNotifications[M]["params"]) => boolean = () => true,
  ): Promise<ServerNotifications[M]["params"]> {
    return new Promise((resolve, reject) => {
      const offClosed = this.#onClose(reject);
      const off = this.on(method, (params) => {
        if (!predicate(params)) return;
        off();
        offClosed();
        resolve(params);
      });
    });
  }

  /** Installs the handler for a server→client request (one per method); returns the uninstall function. */
  onServerRequest<M extends ServerRequestMethod>(method: M, handler: ServerRequestHandler<M>): () => void {
    const entry = handler as (params: unknown, context: ServerRequestContext) => unknown;
    this.#handlers.set(method, entry);
    return () => {
      if (this.#handlers.get(method) === entry) this.#handlers.delete(method);
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

  #send(message: Record<string, unknown>): void {
    for (const tap of this.#taps) tap("out", message);
    this.#output.write(`${JSON.stringify(message)}\n`);
  }

  #report(error: AppServerProtocolError): void {
    this.#options.onProtocolError?.(error);
  }

  #onText(text: string): void {
    let start = 0;
    for (let newline = text.indexOf("\n"); newline >= 0; newline = text.indexOf("\n", start)) {
      this.#buffer += text.slice(start, newline);
      start = newline + 1;
      const line = this.#buffer;
      this.#buffer = "";
      this.#onLine(line);
    }
    this.#buffer += text.slice(start);
    if (this.#buffer.length > this.#maxLineBytes) {
      this.#report(new AppServerProtocolError(`dropping an inbound line over ${this.#maxLineBytes} bytes`));
      this.#buffer = "";
    }
  }

  #onLine(line: string): void {
    if (line.trim() === "") return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.#report(new AppServerProtocolError("the server sent a line that is not JSON", line));
      return;
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      this.#report(new AppServerProtocolError("the server sent a line that is not a JSON object", message));
      return;
    }
    const record = message as Record<string, unknown>;
    for (const tap of this.#taps) tap("in", record);
    if (typeof record.method === "string") {
      if (has(record, "id")) void this.#onServerRequest(record.id, record.method, record.params);
      else this.#onNotification(record.method, record.params);
      return;
    }
    if (has(record, "id")) {
      this.#onResponse(record);
      return;
    }
    this.#report(new AppServerProtocolError("the server sent a message that is neither a request, a notification nor a response", record));
  }

  #validating(): boolean {
    return this.#options.validateInbound !== false;
  }

  #onResponse(message: Record<string, unknown>): void {
    const id = message.id as RequestId;
    const pending = this.#pending.get(id);
    if (!pending) {
      this.#report(new AppServerProtocolError(`the server answered an unknown request id ${JSON.stringify(id)}`, message));
      return;
    }
    this.#pending.delete(id);
    if (pending.timer) clearTimeout(pending.timer);
    if (has(message, "error")) {
      const error = message.error;
      if (validateJSONRPCErrorError(error)) {
        pending.reject(new AppServerError(pending.method, error.code, error.message, error.data));
      } else {
        pending.reject(new AppServerProtocolError(`invalid error object for ${pending.method}`, message));
      }
      return;
    }
    if (!has(message, "result")) {
      pending.reject(new AppServerProtocolError(`response to ${pending.method} has neither result nor error`, message));
      return;
    }
    const validate = methods[pending.method].validateResult;
    if (this.#validating() && validate && !validate(message.result)) {
      const error = new AppServerProtocolError(`invalid ${pending.method} result: ${describeValidationError(validate.errors, message.result)}`, message);
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
    if (this.#validating() && isKnownMethod(method)) {
      const descriptor = methods[method];
      if (descriptor.direction === "serverToClient" && descriptor.kind === "notification" && !descriptor.validateParams(params)) {
        this.#report(new AppServerProtocolError(`invalid ${method} notification: ${describeValidationError(descriptor.validateParams.errors, params)}`, params));
        return;
      }
    }
    for (const listener of [...listeners]) listener(params);
  }

  async #onServerRequest(rawId: unknown, method: string, params: unknown): Promise<void> {
    if (!validateRequestId(rawId)) {
      this.#report(new AppServerProtocolError(`server request ${method} has an invalid id`, rawId));
      return;
    }
    const id = rawId;
    const answerError = (code: number, message: string, data?: unknown) =>
      this.#send({ id, error: data === undefined ? { code, message } : { code, message, data } });
    const handler = this.#handlers.get(method);
    if (!handler) {
      answerError(-32601, `no handler for server request ${method}`);
      return;
    }
    const descriptor = isKnownMethod(method) ? methods[method] : undefined;
    if (this.#validating() && descriptor && !descriptor.validateParams(params)) {
      const detail = describeValidationError(descriptor.validateParams.errors, params);
      this.#report(new AppServerProtocolError(`invalid ${method} params: ${detail}`, params));
      answerError(-32602, `invalid params: ${detail}`);
      return;
    }
    let result: unknown;
    try {
      result = await handler(params, { id });
    } catch (error) {
      if (error instanceof AppServerError) answerError(error.code, error.message, error.data);
      else answerError(-32603, error instanceof Error ? error.message : String(error));
      return;
    }
    const validate = descriptor?.validateResult;
    if (validate && !validate(result)) {
      const detail = describeValidationError(validate.errors, result);
      this.#report(new AppServerProtocolError(`the ${method} handler returned an invalid result: ${detail}`));
      answerError(-32603, `invalid ${method} result: ${detail}`);
      return;
    }
    if (this.#closed) return;
    this.#send({ id, result });
  }

  #onInputEnd(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closedError = new AppServerClosedError(error === undefined ? undefined : `the app-server connection failed: ${String(error)}`);
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      if (pending.timer) clearTimeout(pending.timer);
      pending.reject(this.#closedError);
    }
    for (const listener of this.#closeListeners) listener(this.#closedError);
    this.#closeListeners.clear();
    this.#resolveClosed();
  }
}
