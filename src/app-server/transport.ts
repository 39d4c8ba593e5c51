import type { Writable } from "node:stream";
import { DEFAULT_MAX_LINE_BYTES, encodeMessage, LineDecoder, parseMessageText, type InboundMessage } from "../protocol/index.js";
import type { Logger } from "./log.js";

export { DEFAULT_MAX_LINE_BYTES, LineSplitter, parseMessageLine, type InboundMessage } from "../protocol/index.js";

export interface MessageReaderOptions {
  maxLineBytes?: number;
  log: Logger;
  onMessage(message: InboundMessage): void;
  onEnd(): void;
}

/**
 * Reads newline-delimited JSON objects from a stream. Anything that is not a JSON object is logged
 * (without its content) and skipped; the reader never writes to stdout.
 */
export class MessageReader {
  readonly #input: NodeJS.ReadableStream;
  readonly #splitter: LineDecoder;
  #ended = false;

  constructor(input: NodeJS.ReadableStream, private readonly options: MessageReaderOptions) {
    this.#input = input;
    const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#splitter = new LineDecoder(
      max,
      (line, bytes) => this.#onLine(line, bytes),
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

  #onLine(line: string, bytes: number | undefined): void {
    const parsed = parseMessageText(line, bytes);
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
 * Writes one JSON object per line (the protocol's codec: a `bigint` id goes out as its exact digits).
 * Callers build messages without a `jsonrpc` member; this only serializes. Tracks backpressure so producers can wait, and can flush before exit.
 */
export class MessageWriter {
  readonly #output: NodeJS.WritableStream;
  /** A batch this long goes at once (the stream's high-water mark, read once). */
  readonly #batchLimit: number;
  #pending = "";
  #scheduled = false;
  #unflushed = 0;
  #waiters: Array<() => void> = [];
  #drainWaiters: Array<() => void> = [];
  #blocked = false;
  #broken = false;

  constructor(output: NodeJS.WritableStream, private readonly log: Logger) {
    this.#output = output;
    this.#batchLimit = (output as Partial<Writable>).writableHighWaterMark ?? 16 * 1024;
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
    this.writeLine(encodeMessage(message));
  }

  /** One line already encoded by the codec (`encodeMessage`, `encodeResultLine`), newline included. */
  writeLine(line: string): void {
    if (this.#broken) return;
    // Lines written while one input chunk is handled leave in one write: one syscall and one
    // stream callback per response were most of the cost of a burst. The batch goes once the
    // promise jobs of that chunk have run (process.nextTick runs after them), before any timer,
    // I/O or setImmediate work: the `initialize` answer is on the wire before anything the
    // server starts after it (workspace routing discovery loads the HTTP stack). A batch that
    // reaches the stream's high-water mark goes at once, so backpressure shows as soon as it exists.
    this.#pending += line;
    if (this.#pending.length >= this.#batchLimit) this.#drainPending();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#drainPending);
    }
  }

  readonly #drainPending = (): void => {
    this.#scheduled = false;
    if (this.#pending.length === 0 || this.#broken) return;
    const chunk = this.#pending;
    this.#pending = "";
    this.#unflushed++;
    const ok = this.#output.write(chunk, this.#written);
    if (!ok) this.#blocked = true;
  };

  readonly #written = (): void => {
    this.#unflushed--;
    if (this.#unflushed === 0) this.#release(this.#waiters.splice(0));
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
