import {
  describeJsonValue,
  describeValidationError,
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
  /** Resolves when the output can take more (backpressure). */
  whenWritable(): Promise<void>;
  /**
   * Methods that do not hold the queue while they run (backend reads that may wait on the client
   * for a token refresh). They still start only after every request that arrived before them.
   */
  concurrentMethods?: ReadonlySet<string>;
  /** Called when the number of queued requests changes (the server pauses input on a long backlog). */
  onBacklog?(queued: number): void;
}

type Prepared = { descriptor: MethodDescriptor; method: ClientRequestMethod; params: unknown };

/** Client request methods, for the `unknown variant` message. */
const CLIENT_REQUEST_METHODS = Object.values(methods as Record<string, MethodDescriptor>)
  .filter((d) => d.direction === "clientToServer" && d.kind === "request")
  .map((d) => d.method);

/**
 * Routes every inbound message. Requests are decoded against the generated method registry and
 * answered exactly once, in arrival order (one queue); answers to our own requests go to the
 * server-request broker at once; client notifications are accepted and ignored.
 */
export class Dispatcher {
  readonly #queue: Array<() => Promise<void>> = [];
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
        this.#enqueue(() => this.#handleRequest(classified.id, classified.method, classified.params, classified.hasParams));
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

  #enqueue(task: () => Promise<void>): void {
    this.#queue.push(task);
    this.options.onBacklog?.(this.#queue.length);
    if (!this.#pumping) void this.#pump();
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      for (let task = this.#queue.shift(); task; task = this.#queue.shift()) {
        this.options.onBacklog?.(this.#queue.length);
        await this.options.whenWritable();
        await task();
      }
    } finally {
      this.#pumping = false;
      this.#checkIdle();
    }
  }

  #checkIdle(): void {
    if (this.#isIdle()) for (const waiter of this.#idleWaiters.splice(0)) waiter();
  }

  async #handleRequest(id: WireRequestId, rawMethod: string, rawParams: unknown, hasParams: boolean): Promise<void> {
    let prepared: Prepared;
    try {
      prepared = this.#prepare(rawMethod, rawParams, hasParams);
    } catch (error) {
      this.#respondError(id, error);
      return;
    }
    if (this.#concurrent.has(prepared.method)) {
      // Runs beside the queue: later requests need not wait for a backend round trip.
      const running = this.#run(id, prepared).finally(() => {
        this.#inFlight.delete(running);
        this.#checkIdle();
      });
      this.#inFlight.add(running);
      return;
    }
    await this.#run(id, prepared);
  }

  /** Decodes a request like Codex: method, then params, then the handshake and experimental gates. */
  #prepare(method: string, params: unknown, hasParams: boolean): Prepared {
    const descriptor: MethodDescriptor | undefined = isKnownMethod(method) ? methods[method] : undefined;
    if (!descriptor || descriptor.direction !== "clientToServer" || descriptor.kind !== "request") {
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

  async #run(id: WireRequestId, { descriptor, method, params }: Prepared): Promise<void> {
    const after: Array<{ method: ServerNotificationMethod; params: unknown }> = [];
    const context: RequestContext = {
      id,
      method,
      session: this.options.session,
      notifyAfterResponse: (notification, notificationParams) => {
        after.push({ method: notification, params: notificationParams });
      },
    };
    let result: unknown;
    try {
      const handler = this.options.handlers[method] as RequestHandler<ClientRequestMethod>;
      result = await handler(params as never, context);
    } catch (error) {
      this.#respondError(id, error, method);
      return;
    }
    const validate = descriptor.validateResult;
    if (validate && !validate(result)) {
      const detail = describeValidationError(validate.errors, result, { maxQuoted: 0 });
      this.options.log.error(`${method} produced an invalid result: ${detail}`);
      this.#respondError(id, internalError(`failed to serialize response: ${detail}`));
      return;
    }
    this.options.send({ id, result });
    for (const notification of after) {
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

