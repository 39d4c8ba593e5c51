import type { Writable } from "node:stream";
import type { Logger } from "./log.js";

/** Lines longer than this are dropped unread (they may hold a secret, so they are never echoed). */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

export type InboundMessage = Record<string, unknown>;

export interface MessageReaderOptions {
  maxLineBytes?: number;
  log: Logger;
  onMessage(message: InboundMessage): void;
  onEnd(): void;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Splits bytes into lines with a size cap. A line over the cap is discarded as it streams in (we
 * never buffer more than the cap), and reported once with its size only.
 */
export class LineSplitter {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #discarding = false;
  #discardedBytes = 0;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: Buffer) => void,
    private readonly onOversized: (bytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline < 0 ? chunk.length : newline;
      this.#append(chunk.subarray(start, end));
      if (newline < 0) return;
      this.#finishLine();
      start = newline + 1;
    }
  }

  /** End of input: a last line without a trailing newline still counts. */
  end(): void {
    if (this.#buffered > 0 || this.#discarding) this.#finishLine();
  }

  #append(part: Buffer): void {
    if (part.length === 0) return;
    if (this.#discarding) {
      this.#discardedBytes += part.length;
      return;
    }
    if (this.#buffered + part.length > this.maxLineBytes) {
      this.#discarding = true;
      this.#discardedBytes = this.#buffered + part.length;
      this.#chunks = [];
      this.#buffered = 0;
      return;
    }
    this.#chunks.push(part);
    this.#buffered += part.length;
  }

  #finishLine(): void {
    if (this.#discarding) {
      const bytes = this.#discardedBytes;
      this.#discarding = false;
      this.#discardedBytes = 0;
      this.onOversized(bytes);
      return;
    }
    let line = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#buffered);
    this.#chunks = [];
    this.#buffered = 0;
    if (line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN) line = line.subarray(0, line.length - 1);
    this.onLine(line);
  }
}

/** Why a line was not a message; the line itself is never reported. */
export function parseMessageLine(line: Buffer): { message: InboundMessage } | { ignored: string } | null {
  const text = line.toString("utf8");
  if (text.trim().length === 0) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse errors quote the input; the line may hold a secret, so only its size is reported.
    return { ignored: `ignoring a line that is not valid JSON (${line.length} bytes)` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ignored: `ignoring a line that is not a JSON object (${kindOf(value)})` };
  }
  return { message: value as InboundMessage };
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/**
 * Reads newline-delimited JSON objects from a stream. Anything that is not a JSON object is logged
 * (without its content) and skipped; the reader never writes to stdout.
 */
export class MessageReader {
  readonly #input: NodeJS.ReadableStream;
  readonly #splitter: LineSplitter;
  #ended = false;

  constructor(input: NodeJS.ReadableStream, private readonly options: MessageReaderOptions) {
    this.#input = input;
    const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#splitter = new LineSplitter(
      max,
      (line) => this.#onLine(line),
      (bytes) => options.log.warn(`ignoring a line of ${bytes} bytes: over the ${max}-byte limit`),
    );
  }

  start(): void {
    this.#input.on("data", (chunk: Buffer | string) => this.#splitter.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk));
    this.#input.on("end", () => this.#finish());
    this.#input.on("close", () => this.#finish());
    this.#input.on("error", (error: Error) => {
      this.options.log.warn(`input stream error: ${error.message}`);
      this.#finish();
    });
  }

  pause(): void {
    if (!this.#ended) this.#input.pause();
  }

  resume(): void {
    if (!this.#ended) this.#input.resume();
  }

  #onLine(line: Buffer): void {
    const parsed = parseMessageLine(line);
    if (parsed === null) return;
    if ("ignored" in parsed) {
      this.options.log.warn(parsed.ignored);
      return;
    }
    this.options.onMessage(parsed.message);
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#splitter.end();
    this.options.onEnd();
  }
}

/**
 * Writes one JSON object per line. Callers build messages without a `jsonrpc` member; this only
 * serializes. Tracks backpressure so producers can wait, and can flush before exit.
 */
export class MessageWriter {
  readonly #output: NodeJS.WritableStream;
  #unflushed = 0;
  #waiters: Array<() => void> = [];
  #drainWaiters: Array<() => void> = [];
  #blocked = false;
  #broken = false;

  constructor(output: NodeJS.WritableStream, private readonly log: Logger) {
    this.#output = output;
    output.on("drain", () => {
      this.#blocked = false;
      this.#release(this.#drainWaiters.splice(0));
    });
    output.on("error", (error: Error) => {
      if (!this.#broken) log.warn(`output stream error: ${error.message}`);
      this.#broken = true;
      this.#blocked = false;
      this.#unflushed = 0;
      this.#release(this.#drainWaiters.splice(0));
      this.#release(this.#waiters.splice(0));
    });
  }

  /** True while the output's buffer is full; wait with `whenWritable()`. */
  get blocked(): boolean {
    return this.#blocked;
  }

  get broken(): boolean {
    return this.#broken;
  }

  write(message: object): void {
    if (this.#broken) return;
    // Lines written in the same turn of the event loop leave in one write: one syscall and one
    // stream callback per response were most of the cost of a burst. A batch that reaches the
    // stream's high-water mark goes at once, so backpressure shows as soon as it exists.
    this.#pending += `${JSON.stringify(message)}\n`;
    if (this.#pending.length >= this.#batchLimit) this.#drainPending();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#drainPending);
    }
  }

  #pending = "";
  #scheduled = false;

  get #batchLimit(): number {
    return (this.#output as Partial<Writable>).writableHighWaterMark ?? 16 * 1024;
  }

  readonly #drainPending = (): void => {
    this.#scheduled = false;
    if (this.#pending.length === 0 || this.#broken) return;
    const chunk = this.#pending;
    this.#pending = "";
    this.#unflushed++;
    const ok = this.#output.write(chunk, () => {
      this.#unflushed--;
      if (this.#unflushed === 0) this.#release(this.#waiters.splice(0));
    });
    if (!ok) this.#blocked = true;
  };

  whenWritable(): Promise<void> {
    if (!this.#blocked || this.#broken) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Resolves once everything written so far has been handed to the OS. */
  flush(): Promise<void> {
    this.#drainPending();
    if (this.#unflushed === 0 || this.#broken) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #release(waiters: Array<() => void>): void {
    for (const waiter of waiters) waiter();
  }
}
