import {
  describeJsonValue,
  describeValidationError,
  encodeResultLine,
  experimentalDescriptor,
  isKnownMethod,
  methods,
  requiresExperimentalApiMessage,
  type ClientRequestMethod,
  type ClientRequests,
  type MethodDescriptor,
  type ServerNotificationMethod,
  type ServerNotifications,
} from "../protocol/index.js";
import type { Logger } from "./log.js";
import { describeLibraryError } from "../protocol/safe-text.js";
import { classify, describeId, describeMethod, internalError, invalidRequest, malformedRequest, RpcError, type WireRequestId } from "./rpc.js";
import type { ServerRequestBroker } from "./server-requests.js";
import type { Session } from "./session.js";
import { rememberStableResultJson, stableResultJson } from "./stable-results.js";
import type { InboundMessage } from "./transport.js";

export interface RequestContext {
  readonly id: WireRequestId;
  readonly method: ClientRequestMethod;
  readonly session: Session;
  /** Queues a notification that goes out right after this request's response (Codex's order). */
  notifyAfterResponse<M extends ServerNotificationMethod>(method: M, params: ServerNotifications[M]["params"]): void;
}

export type RequestHandler<M extends ClientRequestMethod> = (
  params: ClientRequests[M]["params"],
  context: RequestContext,
) => ClientRequests[M]["result"] | Promise<ClientRequests[M]["result"]>;

export type RequestHandlers = { readonly [M in ClientRequestMethod]: RequestHandler<M> };

export interface DispatcherOptions {
  session: Session;
  handlers: RequestHandlers;
  serverRequests: ServerRequestBroker;
  log: Logger;
  send(message: object): void;
  /** Writes one line the codec encoded (a result whose JSON is kept); without it, results go through `send`. */
  sendLine?(line: string): void;
  /** Resolves when the output can take more (backpressure). */
  whenWritable(): Promise<void>;
  /** False while the output can take more: the queue then moves on without waiting on `whenWritable`. */
  blocked?(): boolean;
  /**
   * Methods that do not hold the queue while they run (backend reads that may wait on the client
   * for a token refresh). They still start only after every request that arrived before them.
   */
  concurrentMethods?: ReadonlySet<string>;
  /** Called when the number of queued requests changes (the server pauses input on a long backlog). */
  onBacklog?(queued: number): void;
}

type Prepared = { descriptor: MethodDescriptor; method: ClientRequestMethod; params: unknown };

type QueuedRequest = { id: WireRequestId; method: string; params: unknown; hasParams: boolean };

/** Client request methods, for the `unknown variant` message. */
const CLIENT_REQUEST_METHODS = Object.values(methods as Record<string, MethodDescriptor>)
  .filter((d) => d.direction === "clientToServer" && d.kind === "request")
  .map((d) => d.method);

/** The client requests by name: one Map lookup per request (a property lookup by a parsed string cost more). */
const CLIENT_REQUESTS: ReadonlyMap<string, MethodDescriptor> = new Map(
  Object.values(methods as Record<string, MethodDescriptor>)
    .filter((d) => d.direction === "clientToServer" && d.kind === "request")
    .map((d) => [d.method, d]),
);

type AfterResponse = Array<{ method: ServerNotificationMethod; params: unknown }>;

/** One request's context; the notifications to send after its response are collected on first use. */
class Context implements RequestContext {
  after: AfterResponse | null = null;

  constructor(
    readonly id: WireRequestId,
    readonly method: ClientRequestMethod,
    readonly session: Session,
  ) {}

  notifyAfterResponse<M extends ServerNotificationMethod>(method: M, params: ServerNotifications[M]["params"]): void {
    (this.after ??= []).push({ method, params });
  }
}

const isPromise = (value: unknown): value is PromiseLike<unknown> => typeof (value as PromiseLike<unknown> | null)?.then === "function";

/**
 * Routes every inbound message. Requests are decoded against the generated method registry and
 * answered exactly once, in arrival order (one queue); answers to our own requests go to the
 * server-request broker at once; client notifications are accepted and ignored.
 */
export class Dispatcher {
  readonly #queue: QueuedRequest[] = [];
  #pumping = false;
  readonly #inFlight = new Set<Promise<void>>();
  #idleWaiters: Array<() => void> = [];
  readonly #concurrent: ReadonlySet<string>;

  constructor(private readonly options: DispatcherOptions) {
    this.#concurrent = options.concurrentMethods ?? new Set();
  }

  dispatch(message: InboundMessage): void {
    const classified = classify(message);
    switch (classified.kind) {
      case "request":
        this.#enqueue(classified);
        return;
      case "notification":
        if (!(isKnownMethod(classified.method) && methods[classified.method].direction === "clientToServer")) {
          this.options.log.warn(`ignoring unknown notification ${describeMethod(classified.method)}`);
        }
        return;
      case "response":
        this.options.serverRequests.handleResult(classified.id, classified.result);
        return;
      case "errorResponse":
        this.options.serverRequests.handleError(classified.id, classified.error);
        return;
      case "invalid":
        this.options.log.warn(classified.reason);
        return;
    }
  }

  /** Resolves once every request received so far has been answered. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  get queued(): number {
    return this.#queue.length;
  }

  #isIdle(): boolean {
    return this.#queue.length === 0 && !this.#pumping && this.#inFlight.size === 0;
  }

  #enqueue(request: QueuedRequest): void {
    this.#queue.push(request);
    this.options.onBacklog?.(this.#queue.length);
    if (!this.#pumping) void this.#pump();
  }

  /**
   * One request at a time, in arrival order. A request answered without waiting (a refusal, a
   * synchronous handler) costs no promise; the queue waits only on what is really pending.
   */
  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      for (let request = this.#queue.shift(); request !== undefined; request = this.#queue.shift()) {
        this.options.onBacklog?.(this.#queue.length);
        if (this.options.blocked?.() !== false) await this.options.whenWritable();
        const pending = this.#handleRequest(request);
        if (pending !== undefined) await pending;
      }
    } finally {
      this.#pumping = false;
      this.#checkIdle();
    }
  }

  #checkIdle(): void {
    if (this.#isIdle()) for (const waiter of this.#idleWaiters.splice(0)) waiter();
  }

  #handleRequest({ id, method, params, hasParams }: QueuedRequest): Promise<void> | undefined {
    let prepared: Prepared;
    try {
      prepared = this.#prepare(method, params, hasParams);
    } catch (error) {
      this.#respondError(id, error);
      return undefined;
    }
    if (this.#concurrent.has(prepared.method)) {
      // Runs beside the queue: later requests need not wait for a backend round trip.
      const running = Promise.resolve(this.#run(id, prepared)).finally(() => {
        this.#inFlight.delete(running);
        this.#checkIdle();
      });
      this.#inFlight.add(running);
      return undefined;
    }
    return this.#run(id, prepared);
  }

  /** Decodes a request like Codex: method, then params, then the handshake and experimental gates. */
  #prepare(method: string, params: unknown, hasParams: boolean): Prepared {
    const descriptor = CLIENT_REQUESTS.get(method);
    if (descriptor === undefined) {
      throw malformedRequest(`unknown variant \`${method}\`, expected one of ${CLIENT_REQUEST_METHODS.map((m) => `\`${m}\``).join(", ")}`);
    }
    let decoded: unknown;
    if (descriptor.paramsType === null) {
      if (!descriptor.validateParams(params)) throw malformedRequest(`invalid type: ${describeJsonValue(params)}, expected unit`);
      decoded = undefined;
    } else if ((!hasParams || params === null) && descriptor.optionalParams) {
      decoded = undefined;
    } else {
      if (!hasParams || params === null) throw malformedRequest("missing field `params`");
      if (!descriptor.validateParams(params)) {
        throw malformedRequest(serdeStyle(describeValidationError(descriptor.validateParams.errors, params)));
      }
      decoded = params;
    }
    const { session } = this.options;
    if (method !== "initialize" && !session.initialized) throw invalidRequest("Not initialized");
    if (!session.experimentalApi) {
      if (descriptor.experimental) throw invalidRequest(requiresExperimentalApiMessage(experimentalDescriptor(method)));
      const variant = (decoded as { type?: unknown } | undefined)?.type;
      if (typeof variant === "string" && descriptor.experimentalVariants.includes(variant)) {
        throw invalidRequest(requiresExperimentalApiMessage(experimentalDescriptor(method, variant)));
      }
    }
    return { descriptor, method: method as ClientRequestMethod, params: decoded };
  }

  /** Runs the handler; a promise only when the handler returned one. */
  #run(id: WireRequestId, prepared: Prepared): Promise<void> | undefined {
    const context = new Context(id, prepared.method, this.options.session);
    let result: unknown;
    try {
      const handler = this.options.handlers[prepared.method] as RequestHandler<ClientRequestMethod>;
      result = handler(prepared.params as never, context);
    } catch (error) {
      this.#respondError(id, error, prepared.method);
      return undefined;
    }
    if (isPromise(result)) {
      return Promise.resolve(result).then(
        (value) => this.#respond(context, prepared.descriptor, value),
        (error: unknown) => this.#respondError(id, error, prepared.method),
      );
    }
    this.#respond(context, prepared.descriptor, result);
    return undefined;
  }

  #respond(context: Context, descriptor: MethodDescriptor, result: unknown): void {
    const { id, method } = context;
    const stable = stableResultJson(result);
    if (typeof stable === "string" && this.options.sendLine) {
      // Validated and serialized when first served.
      this.options.sendLine(encodeResultLine(id, stable));
    } else {
      const validate = descriptor.validateResult;
      if (validate && !validate(result)) {
        const detail = describeValidationError(validate.errors, result, { maxQuoted: 0 });
        this.options.log.error(`${method} produced an invalid result: ${detail}`);
        this.#respondError(id, internalError(`failed to serialize response: ${detail}`));
        return;
      }
      if (stable === null && this.options.sendLine) {
        const json = JSON.stringify(result);
        rememberStableResultJson(result as object, json);
        this.options.sendLine(encodeResultLine(id, json));
      } else {
        this.options.send({ id, result });
      }
    }
    if (context.after === null) return;
    for (const notification of context.after) {
      this.options.session.notify(notification.method, notification.params as never);
    }
  }

  #respondError(id: WireRequestId, error: unknown, method?: string): void {
    let rpc: RpcError;
    if (error instanceof RpcError) {
      rpc = error;
    } else {
      // A library's text may quote its input (a header value, a file): only our wording is logged.
      this.options.log.error(`${method ?? "request"} ${describeId(id)} failed unexpectedly: ${describeLibraryError(error)}`);
      rpc = internalError("internal error");
    }
    this.options.send({ id, error: rpc.data === undefined ? { code: rpc.code, message: rpc.message } : { code: rpc.code, message: rpc.message, data: rpc.data } });
  }
}

/**
 * As serde words decode errors: no location, and an `Option<T>` expects just `T` ("expected a
 * boolean", not "a boolean or null"). Long quoted strings are dropped (see below).
 */
function serdeStyle(message: string): string {
  return message.replace(/ at (\/[^\s]*)$/, "").replace(/(, expected .+) or null$/, "$1");
}

