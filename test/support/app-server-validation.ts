import {
  describeValidationError,
  isKnownMethod,
  methods,
  validateJSONRPCError,
  validateJSONRPCNotification,
  validateJSONRPCRequest,
  validateJSONRPCResponse,
  type RequestId,
} from "../../src/protocol/index.js";

/**
 * Checks server output against the contract: every line one JSON object, never a `jsonrpc`
 * member, the envelope's generated validators, and the per-method result or notification
 * validators (results are matched to the client request with the same id, in order).
 */
export class OutboundValidator {
  readonly #pendingMethods = new Map<RequestId, string[]>();
  readonly problems: string[] = [];

  /** Records a request the client sent, so its response can be checked against the method. */
  noteClientRequest(message: unknown): void {
    if (typeof message !== "object" || message === null) return;
    const { id, method } = message as { id?: unknown; method?: unknown };
    if (typeof method !== "string" || (typeof id !== "string" && !Number.isSafeInteger(id))) return;
    const queue = this.#pendingMethods.get(id as RequestId) ?? [];
    queue.push(method);
    this.#pendingMethods.set(id as RequestId, queue);
  }

  checkLine(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.problems.push(`not JSON: ${line.slice(0, 80)}`);
      return;
    }
    this.check(message);
  }

  check(message: unknown): void {
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      this.problems.push(`not a JSON object: ${JSON.stringify(message)}`);
      return;
    }
    const record = message as Record<string, unknown>;
    if ("jsonrpc" in record) this.problems.push(`jsonrpc member sent: ${JSON.stringify(record)}`);
    const has = (key: string) => Object.prototype.hasOwnProperty.call(record, key);
    if (typeof record.method === "string") {
      const method = record.method;
      const descriptor = isKnownMethod(method) ? methods[method] : undefined;
      if (!descriptor || descriptor.direction !== "serverToClient") {
        this.problems.push(`server sent unknown method ${method}`);
        return;
      }
      if (has("id")) {
        if (!validateJSONRPCRequest(record)) this.problems.push(`invalid request envelope: ${JSON.stringify(record)}`);
        if (descriptor.kind !== "request") this.problems.push(`${method} sent as a request`);
      } else {
        if (!validateJSONRPCNotification(record)) this.problems.push(`invalid notification envelope: ${JSON.stringify(record)}`);
        if (descriptor.kind !== "notification") this.problems.push(`${method} sent as a notification`);
      }
      if (!descriptor.validateParams(record.params)) {
        this.problems.push(`invalid ${method} params: ${describeValidationError(descriptor.validateParams.errors, record.params)}`);
      }
      return;
    }
    const id = record.id as RequestId;
    const method = this.#pendingMethods.get(id)?.shift();
    if (has("error")) {
      if (!validateJSONRPCError(record)) this.problems.push(`invalid error envelope: ${JSON.stringify(record)}`);
      return;
    }
    if (!validateJSONRPCResponse(record)) {
      this.problems.push(`invalid response envelope: ${JSON.stringify(record)}`);
      return;
    }
    if (method === undefined) {
      this.problems.push(`response to an id the client never used: ${JSON.stringify(id)}`);
      return;
    }
    const validate = isKnownMethod(method) ? methods[method].validateResult : null;
    if (!validate) {
      this.problems.push(`result for ${method}, which has no result`);
      return;
    }
    if (!validate(record.result)) this.problems.push(`invalid ${method} result: ${describeValidationError(validate.errors, record.result)}`);
  }
}
