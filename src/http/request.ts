import { STATUS_CODES } from "node:http";
import type { Validator } from "../../generated/validator.js";
import { describeLibraryError } from "../protocol/safe-text.js";
import { describeValidationError } from "../protocol/validation-message.js";

/**
 * The shared HTTP boundary: every call gets a deadline (AbortSignal.timeout), transport failures
 * and timeouts become typed errors, and every response body is validated against the generated
 * OpenAPI validator for its operation and status. HttpError messages name the URL (without
 * userinfo or query) and never contain a request header, so no bearer can leak through them.
 */
export type HttpErrorCode = "TIMEOUT" | "TRANSPORT" | "STATUS" | "INVALID_RESPONSE" | "CANCELLED";

export class HttpError extends Error {
  override readonly name = "HttpError";
  /** For STATUS: the response status and its canonical reason phrase. */
  readonly status?: number;
  readonly reason?: string;
  /** For STATUS: the error code of a JSON error body the spec declares (`error.code`, `error` or `code`), if any. */
  readonly errorCode?: string;

  constructor(
    readonly code: HttpErrorCode,
    message: string,
    details: { status?: number; reason?: string; errorCode?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    if (details.status !== undefined) this.status = details.status;
    if (details.reason !== undefined) this.reason = details.reason;
    if (details.errorCode !== undefined) this.errorCode = details.errorCode;
  }
}

/** Something that can give up a secret at the point of use (src/auth's Secret), without importing it here. */
export interface RevealableSecret {
  reveal(): string;
}

/**
 * No response we read is legitimately larger than a few kilobytes; a body past this cap is refused
 * as it streams in, so a misbehaving server cannot make the process buffer megabytes.
 */
export const MAX_RESPONSE_BODY_BYTES = 1024 * 1024;

export class ResponseTooLargeError extends Error {
  override readonly name = "ResponseTooLargeError";
  constructor(readonly limit: number) {
    super(`response body exceeds ${limit} bytes`);
  }
}

/**
 * `fetch` for the generated openapi-fetch clients (pass it as their `fetch` option): the response
 * body is cut off at MAX_RESPONSE_BODY_BYTES, and a declared Content-Length over the cap is refused
 * before any of the body is read.
 */
export async function boundedFetch(input: Request): Promise<Response> {
  const response = await fetch(input);
  return limitResponseBody(response, MAX_RESPONSE_BODY_BYTES);
}

export function limitResponseBody(response: Response, limit: number): Response {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    void response.body?.cancel().catch(() => {});
    throw new ResponseTooLargeError(limit);
  }
  if (response.body === null) return response;
  let seen = 0;
  const capped = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) controller.error(new ResponseTooLargeError(limit));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new Response(capped, { status: response.status, statusText: response.statusText, headers: response.headers });
}

export interface SendResult {
  response: Response;
  data?: unknown;
  error?: unknown;
}

export interface ValidatedRequest {
  /** "METHOD /path" as in the generated response validator tables. */
  operation: string;
  /** The generated table: operation → status → validator. */
  validators: Readonly<Record<string, Readonly<Record<string, Validator<unknown>>>>>;
  /** The URL for messages. */
  url: string;
  timeoutMs: number;
  /** A cancel (Ctrl-C, `account/login/cancel`) that ends the request at once, before its deadline. */
  signal?: AbortSignal;
  /** Performs the request (an openapi-fetch call with `parseAs: "text"` and the given signal). */
  send: (signal: AbortSignal) => Promise<SendResult>;
}

export async function sendValidated<T>(request: ValidatedRequest): Promise<T> {
  const deadline = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([deadline, request.signal]) : deadline;
  const where = displayUrl(request.url);
  let result: SendResult;
  try {
    if (request.signal?.aborted) throw request.signal.reason;
    result = await request.send(signal);
  } catch (error) {
    // The library's error is not kept as `cause`: undici's quotes the request (a header value, whole),
    // and a cause shows in util.inspect and in logs. Only our wording leaves this function.
    const tooLarge = findTooLarge(error);
    if (tooLarge) throw new HttpError("INVALID_RESPONSE", `${tooLarge.message} (${where})`, { cause: tooLarge });
    if (request.signal?.aborted) throw new HttpError("CANCELLED", `request cancelled (${where})`);
    if (deadline.aborted) {
      throw new HttpError("TIMEOUT", `operation timed out after ${formatSeconds(request.timeoutMs)} (${where})`);
    }
    throw new HttpError("TRANSPORT", `error sending request for url (${where})${describeTransportCause(error)}`);
  }
  const { response } = result;
  const statusValidators = request.validators[request.operation] ?? {};
  const validator = statusValidators[String(response.status)];
  const body = response.ok ? result.data : result.error;

  if (!response.ok) {
    const reason = STATUS_CODES[response.status] ?? response.statusText;
    // openapi-fetch hands error bodies over already JSON-parsed when they parse, else as text.
    const parsed = validator ? (typeof body === "string" ? parseJsonText(body) : body) : undefined;
    const errorCode = parsed !== undefined && validator?.(parsed) ? readErrorCode(parsed) : undefined;
    throw new HttpError("STATUS", `${response.status}${reason ? ` ${reason}` : ""}`, {
      status: response.status,
      ...(reason ? { reason } : {}),
      ...(errorCode ? { errorCode } : {}),
    });
  }

  if (!validator) throw new HttpError("INVALID_RESPONSE", `unexpected status ${response.status} from ${where}`);
  let data: unknown;
  try {
    data = JSON.parse(typeof body === "string" ? body : "");
  } catch (error) {
    // Never the parser's own text: V8 quotes the body, and a proxy may echo the bearer into it.
    throw new HttpError("INVALID_RESPONSE", `error decoding response body: ${describeLibraryError(error)}`);
  }
  if (!validator(data)) {
    throw new HttpError("INVALID_RESPONSE", describeValidationError(validator.errors, data));
  }
  return data as T;
}

function findTooLarge(error: unknown): ResponseTooLargeError | null {
  for (let current = error, depth = 0; current && depth < 4; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof ResponseTooLargeError) return current;
  }
  return null;
}

/** Scheme, host, port and path only: userinfo or a query could carry credentials. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return "<invalid url>";
  }
}

function parseJsonText(body: unknown): unknown {
  if (typeof body !== "string") return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** The error code of a JSON error body: `{"error":{"code":"..."}}`, `{"error":"..."}` or `{"code":"..."}`. */
export function readErrorCode(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const record = body as { error?: unknown; code?: unknown };
  const text = (value: unknown): string | undefined => (typeof value === "string" && value.length > 0 ? value : undefined);
  const nested = typeof record.error === "object" && record.error !== null ? (record.error as { code?: unknown }).code : undefined;
  return text(nested) ?? text(record.error) ?? text(record.code);
}

/**
 * Undici hides the useful part in `cause` (ECONNREFUSED, ENOTFOUND, ...): its code is reported, as
 * reqwest does. Nothing of the library's own text is used: undici quotes the offending header
 * value (a bearer with a CR in it, whole) in its message.
 */
function describeTransportCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  if (typeof cause?.code === "string" && /^[A-Z][A-Z0-9_]{1,40}$/.test(cause.code)) return `: ${cause.code}`;
  if (error instanceof Error && error.message === "fetch failed" && (cause === undefined || cause === null)) return "";
  return `: ${describeLibraryError(error)}`;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
