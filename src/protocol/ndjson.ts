/**
 * The NDJSON codec every peer uses (the app-server's transport, the client, the test harness):
 * bytes → lines with a cap in bytes → JSON objects with lossless request ids, and messages → lines.
 * Runtime-neutral: Uint8Array, TextDecoder and JSON only (a Node Buffer is a Uint8Array).
 */

/** Lines longer than this are dropped unread by default (they may hold a secret, so never echoed). */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BYTE_ORDER_MARK = 0xfeff;

/**
 * Splits bytes into lines on LF, with a size cap in bytes. A line over the cap is discarded as it
 * streams in (never more than the cap is buffered) and reported once, with its size only. One
 * trailing CR is stripped. Chunks may split a line (or a UTF-8 character) anywhere.
 */
export class LineSplitter {
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #discarding = false;
  #discardedBytes = 0;
  readonly #maxLineBytes: number;
  readonly #onLine: (line: Uint8Array) => void;
  readonly #onOversized: (bytes: number) => void;

  constructor(maxLineBytes: number, onLine: (line: Uint8Array) => void, onOversized: (bytes: number) => void) {
    this.#maxLineBytes = maxLineBytes;
    this.#onLine = onLine;
    this.#onOversized = onOversized;
  }

  push(chunk: Uint8Array): void {
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

  /** The start of an unfinished line, buffered (empty while an over-cap line is being discarded). */
  get pending(): readonly Uint8Array[] {
    return this.#chunks;
  }

  get pendingBytes(): number {
    return this.#buffered;
  }

  get discarding(): boolean {
    return this.#discarding;
  }

  /** Forgets the buffered start of a line that the caller has taken (LineDecoder's text path). */
  dropPending(): void {
    this.#chunks = [];
    this.#buffered = 0;
  }

  #append(part: Uint8Array): void {
    if (part.length === 0) return;
    if (this.#discarding) {
      this.#discardedBytes += part.length;
      return;
    }
    if (this.#buffered + part.length > this.#maxLineBytes) {
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
      this.#onOversized(bytes);
      return;
    }
    let line = this.#chunks.length === 1 ? this.#chunks[0]! : concat(this.#chunks, this.#buffered);
    this.#chunks = [];
    this.#buffered = 0;
    if (line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN) line = line.subarray(0, line.length - 1);
    this.#onLine(line);
  }
}

/**
 * Bytes → text lines, exactly as `LineSplitter` and one `TextDecoder.decode` per line give them,
 * but decoding each chunk once: the complete lines of a chunk are one `decode` and string
 * `indexOf`s, not a view and a decode per line (a fifth of the app-server's time under a burst).
 * `onLine` gets the line's UTF-8 size only when the text cannot tell it (an invalid sequence
 * became U+FFFD); otherwise `utf8ByteLength(text)` is exact.
 *
 * A region that could hold an over-cap line, or whose text does not tell its size, takes the byte
 * path (`LineSplitter`'s rules, one line at a time). Both paths share the state, so a line may
 * start on one and end on the other.
 */
export class LineDecoder {
  /** The byte path, and the unfinished last line whichever path the next chunk takes. */
  readonly #bytes: LineSplitter;
  readonly #maxLineBytes: number;
  readonly #onLine: (text: string, bytes?: number) => void;
  /** A BOM is stripped per line (as a decode per line does), so the region decoder keeps them all. */
  readonly #regionDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

  constructor(maxLineBytes: number, onLine: (text: string, bytes?: number) => void, onOversized: (bytes: number) => void) {
    this.#maxLineBytes = maxLineBytes;
    this.#onLine = onLine;
    this.#bytes = new LineSplitter(maxLineBytes, (line) => onLine(utf8.decode(line), line.length), onOversized);
  }

  push(chunk: Uint8Array): void {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last < 0) {
      this.#bytes.push(chunk);
      return;
    }
    const lines = chunk.subarray(0, last + 1);
    // No line ending in this chunk is longer than `pendingBytes + last` bytes.
    const decoded = !this.#bytes.discarding && this.#bytes.pendingBytes + last <= this.#maxLineBytes && this.#decodeLines(lines);
    if (!decoded) this.#bytes.push(lines);
    this.#bytes.push(chunk.subarray(last + 1));
  }

  /** End of input: a last line without a trailing newline still counts. */
  end(): void {
    this.#bytes.end();
  }

  /** The text path; false (nothing consumed) when the text would not tell each line's size. */
  #decodeLines(lines: Uint8Array): boolean {
    const pendingBytes = this.#bytes.pendingBytes;
    const region = pendingBytes === 0 ? lines : concat([...this.#bytes.pending, lines], pendingBytes + lines.length);
    const text = this.#regionDecoder.decode(region);
    // A replacement character made from fewer than 3 bytes changes the size: take the byte path.
    if (text.indexOf("\uFFFD") >= 0 && utf8ByteLength(text) !== region.length) return false;
    this.#bytes.dropPending();
    let start = 0;
    for (let newline = text.indexOf("\n"); newline >= 0; newline = text.indexOf("\n", start)) {
      const to = newline > start && text.charCodeAt(newline - 1) === CARRIAGE_RETURN ? newline - 1 : newline;
      if (to > start && text.charCodeAt(start) === BYTE_ORDER_MARK) {
        // Dropped as a decode per line drops it, but its 3 bytes still count in the line's size.
        const line = text.slice(start + 1, to);
        this.#onLine(line, utf8ByteLength(line) + 3);
      } else {
        this.#onLine(text.slice(start, to));
      }
      start = newline + 1;
    }
    return true;
  }
}

/** The UTF-8 size of a string (a lone surrogate counts 3 bytes, as an encoder writes U+FFFD). */
export function utf8ByteLength(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 2 units, 4 bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** A JSON object read from a line. A request id beyond 2^53 is a `bigint` (see `parseMessage`). */
export type InboundMessage = Record<string, unknown>;

/** A line's verdict: a message, a reason it was ignored (never quoting the line), or `null` for a blank line. */
export type ParsedLine = { message: InboundMessage } | { ignored: string } | null;

const utf8 = new TextDecoder();

/** Decodes one line (UTF-8; invalid sequences become U+FFFD, as Node's Buffer does) and parses it. */
export function parseMessageLine(line: Uint8Array): ParsedLine {
  return parseMessage(utf8.decode(line), line.length);
}

/**
 * Parses one line's text into a JSON object. Integer request ids beyond `Number.MAX_SAFE_INTEGER`
 * (Codex's ids are 64-bit) come back as a `bigint` read from the line's own digits, so they are
 * echoed exactly as sent (`encodeMessage`); `JSON.parse` alone would round them.
 */
export function parseMessage(text: string, bytes = text.length): ParsedLine {
  return parseMessageText(text, bytes);
}

/** `parseMessage` for a line from `LineDecoder`: its size in bytes, when not given, is counted only if a message needs it. */
export function parseMessageText(text: string, bytes?: number): ParsedLine {
  // Our peers' lines start with `{`; only other lines can be blank.
  if (text.charCodeAt(0) !== 123 && text.trim().length === 0) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse errors quote the input; the line may hold a secret, so only its size is reported.
    return { ignored: `ignoring a line that is not valid JSON (${bytes ?? utf8ByteLength(text)} bytes)` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ignored: `ignoring a line that is not a JSON object (${kindOf(value)})` };
  }
  const message = value as InboundMessage;
  if (typeof message.id === "number") message.id = exactNumericId(text, message.id);
  return { message };
}

const INTEGER_TEXT = /^-?(?:0|[1-9][0-9]*)$/;

/**
 * A numeric id as Codex reads it (an i64): written as an integer, exactly. Beyond 2^53 it becomes
 * a `bigint` of the digits sent; written as a float (`1.0`, `1e3`) it is no integer id at all, so
 * it becomes NaN, which no classifier accepts (Codex 0.171.0 answers neither).
 */
function exactNumericId(text: string, parsed: number): number | bigint {
  // Fast path (the hot one): our own peers put the id first, as digits.
  const end = leadingIntegerIdEnd(text);
  if (end > 0) return Number.isSafeInteger(parsed) ? parsed : BigInt(text.slice(6, end));
  const raw = rawTopLevelMember(text, "id");
  if (raw === undefined || !INTEGER_TEXT.test(raw)) return Number.NaN;
  return Number.isSafeInteger(parsed) ? parsed : BigInt(raw);
}

/**
 * Where the digits of a leading `{"id":<integer>` end, or -1. Char codes, not a regex: this runs
 * for every message. Only when no other `"id"` follows (JSON.parse keeps the last duplicate).
 */
function leadingIntegerIdEnd(text: string): number {
  // {"id":
  if (text.charCodeAt(0) !== 123 || text.charCodeAt(1) !== 34 || text.charCodeAt(2) !== 105 || text.charCodeAt(3) !== 100 || text.charCodeAt(4) !== 34 || text.charCodeAt(5) !== 58) return -1;
  let at = 6;
  if (text.charCodeAt(at) === 45) at++;
  const digits = at;
  for (let c = text.charCodeAt(at); c >= 48 && c <= 57; c = text.charCodeAt(++at));
  if (at === digits) return -1;
  const next = text.charCodeAt(at);
  return (next === 44 || next === 125) && text.indexOf('"id"', at) < 0 ? at : -1;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/**
 * One message as a line (with its newline). Messages carry no `jsonrpc` member unless the caller
 * puts one in. A `bigint` id is written as its digits, first (where our responses put the id).
 */
export function encodeMessage(message: object): string {
  const id = (message as { id?: unknown }).id;
  if (typeof id !== "bigint") return `${JSON.stringify(message)}\n`;
  const { id: _id, ...rest } = message as Record<string, unknown>;
  const body = JSON.stringify(rest);
  return body === "{}" ? `{"id":${id}}\n` : `{"id":${id},${body.slice(1)}\n`;
}

/**
 * `encodeMessage({ id, result })` when the result's JSON is already at hand (a result served
 * unchanged again and again is serialized once): the same bytes, `{"id":<id>,"result":<json>}`.
 */
export function encodeResultLine(id: string | number | bigint, resultJson: string): string {
  return `{"id":${typeof id === "string" ? JSON.stringify(id) : String(id)},"result":${resultJson}}\n`;
}

/**
 * The raw text of a top-level member's value (the last one, as JSON.parse keeps the last
 * duplicate), or undefined. Only called for the rare id JSON.parse cannot hold exactly.
 */
function rawTopLevelMember(text: string, key: string): string | undefined {
  let found: string | undefined;
  let at = skipSpace(text, 0);
  if (text[at] !== "{") return undefined;
  at = skipSpace(text, at + 1);
  if (text[at] === "}") return undefined;
  for (;;) {
    if (text[at] !== '"') return found;
    const keyEnd = skipString(text, at);
    const name = JSON.parse(text.slice(at, keyEnd)) as string;
    at = skipSpace(text, keyEnd);
    if (text[at] !== ":") return found;
    at = skipSpace(text, at + 1);
    const valueEnd = skipValue(text, at);
    if (name === key) found = text.slice(at, valueEnd);
    at = skipSpace(text, valueEnd);
    if (text[at] !== ",") return found;
    at = skipSpace(text, at + 1);
  }
}

function skipSpace(text: string, at: number): number {
  while (at < text.length && (text[at] === " " || text[at] === "\t" || text[at] === "\n" || text[at] === "\r")) at++;
  return at;
}

/** `at` is on the opening quote; returns the index after the closing quote. */
function skipString(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}

function skipValue(text: string, at: number): number {
  const first = text[at];
  if (first === '"') return skipString(text, at);
  if (first === "{" || first === "[") {
    let depth = 0;
    for (let i = at; i < text.length; i++) {
      const c = text[i];
      if (c === '"') i = skipString(text, i) - 1;
      else if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return text.length;
  }
  let i = at;
  while (i < text.length && !",}] \t\r\n".includes(text[i]!)) i++;
  return i;
}
