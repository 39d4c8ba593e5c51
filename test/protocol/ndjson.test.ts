import { describe, expect, it } from "vitest";
import {
  classifyMessage,
  encodeMessage,
  encodeResultLine,
  isRequestId,
  LineDecoder,
  LineSplitter,
  parseMessage,
  parseMessageLine,
  parseMessageText,
  utf8ByteLength,
} from "../../src/protocol/index.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("the NDJSON codec", () => {
  it("caps lines in bytes, not UTF-16 units", () => {
    const lines: string[] = [];
    const oversized: number[] = [];
    const splitter = new LineSplitter(8, (line) => lines.push(new TextDecoder().decode(line)), (n) => oversized.push(n));
    // "😀😀" is 4 UTF-16 units but 8 bytes: kept; a third one (12 bytes) is over the cap.
    splitter.push(bytes("😀😀\n😀😀😀\nok"));
    splitter.end();
    expect(lines).toEqual(["😀😀", "ok"]);
    expect(oversized).toEqual([12]);
  });

  it("reads an integer id beyond 2^53 from its digits and writes it back byte for byte", () => {
    for (const digits of ["9007199254740993", "9223372036854775807", "-9223372036854775808", "18446744073709551615"]) {
      const line = `{"method":"account/read" , "id" : ${digits},"params":{"note":"id 1"}}`;
      const parsed = parseMessage(line);
      expect(parsed).toEqual({ message: { method: "account/read", id: BigInt(digits), params: { note: "id 1" } } });
      const id = (parsed as { message: { id: bigint } }).message.id;
      expect(encodeMessage({ id, result: { ok: true } })).toBe(`{"id":${digits},"result":{"ok":true}}\n`);
      expect(encodeMessage({ id })).toBe(`{"id":${digits}}\n`);
    }
  });

  it("takes the last duplicate id, as JSON.parse does, and skips ids nested in params", () => {
    const parsed = parseMessage(`{"params":{"id":1,"x":[{"id":"}"}]},"id":1,"id":9007199254740995,"method":"m"}`);
    expect(parsed).toEqual({ message: { params: { id: 1, x: [{ id: "}" }] }, id: 9007199254740995n, method: "m" } });
  });

  it("keeps safe integers and strings as they are, and leaves non-integer texts to the classifier", () => {
    expect(parseMessage(`{"id":42,"method":"m"}`)).toEqual({ message: { id: 42, method: "m" } });
    expect(parseMessage(`{"id":"9007199254740993","method":"m"}`)).toEqual({ message: { id: "9007199254740993", method: "m" } });
    // Codex reads ids as i64: a float's syntax is no integer id, whatever its value.
    for (const text of ["1e20", "1e3", "1.0", "-0.0"]) {
      const { message } = parseMessage(`{"method":"m","id":${text}}`) as { message: Record<string, unknown> };
      expect(message.id).toBeNaN();
      expect(classifyMessage(message).kind).toBe("invalid");
    }
    expect(parseMessage(`{"id":1,"method":"m","id":2}`)).toEqual({ message: { id: 2, method: "m" } });
    expect(parseMessage(`{"id":2,"method":"m","id":2.0}`)).toEqual({ message: { id: Number.NaN, method: "m" } });
  });

  it("accepts ids in Codex's i64 range and nothing beyond", () => {
    expect(isRequestId(2n ** 63n - 1n)).toBe(true);
    expect(isRequestId(-(2n ** 63n))).toBe(true);
    expect(isRequestId(2n ** 63n)).toBe(false);
    expect(isRequestId(1.5)).toBe(false);
    expect(isRequestId(null)).toBe(false);
  });

  it("classifies requests, notifications, responses and error responses with lossless ids", () => {
    const { message } = parseMessageLine(bytes(`{"id":9007199254740993,"result":{}}`)) as { message: Record<string, unknown> };
    expect(classifyMessage(message)).toEqual({ kind: "response", id: 9007199254740993n, result: {} });
    expect(classifyMessage({ method: "initialized" })).toEqual({ kind: "notification", method: "initialized", params: undefined });
    expect(classifyMessage({ id: "a", error: { code: -32600, message: "x" } })).toEqual({ kind: "errorResponse", id: "a", error: { code: -32600, message: "x" } });
    expect(classifyMessage({ id: 1, method: "m" })).toEqual({ kind: "request", id: 1, method: "m", params: undefined, hasParams: false });
  });
});

/** Deterministic pseudo-random numbers (a fixed seed: every run checks the same inputs). */
function random(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % below;
  };
}

/** Pieces lines are made of: JSON, multi-byte characters, invalid or cut UTF-8, BOMs, CRs. */
const PIECES: Uint8Array[] = [
  bytes('{"id":1,"method":"account/read","params":{}}'),
  bytes("é€😀"),
  bytes("\uFFFD"),
  bytes("\uFEFF"),
  bytes("\r"),
  bytes("\n"),
  bytes("\n"),
  bytes("\r\n"),
  bytes(" "),
  bytes("x".repeat(20)),
  Uint8Array.of(0xff),
  Uint8Array.of(0xe2, 0x82),
  Uint8Array.of(0xf0, 0x9f, 0x98),
  Uint8Array.of(0xc3),
];

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** What the byte splitter and one decode per line give: the reference the decoder must match. */
function reference(stream: Uint8Array, chunks: Uint8Array[], max: number) {
  const events: string[] = [];
  const splitter = new LineSplitter(max, (line) => events.push(`line ${line.length} ${JSON.stringify(new TextDecoder().decode(line))}`), (n) => events.push(`oversized ${n}`));
  splitter.push(stream);
  splitter.end();
  const decoded: string[] = [];
  const decoder = new LineDecoder(max, (text, size) => decoded.push(`line ${size ?? utf8ByteLength(text)} ${JSON.stringify(text)}`), (n) => decoded.push(`oversized ${n}`));
  for (const chunk of chunks) decoder.push(chunk);
  decoder.end();
  return { events, decoded };
}

describe("LineDecoder", () => {
  it("gives the lines and sizes of LineSplitter plus a decode per line, however the bytes are cut", () => {
    const next = random(15);
    for (let round = 0; round < 400; round++) {
      const stream = concatBytes(Array.from({ length: 1 + next(40) }, () => PIECES[next(PIECES.length)]!));
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < stream.length; ) {
        const size = 1 + next(round % 2 ? 8 : 200);
        chunks.push(stream.subarray(at, at + size));
        at += size;
      }
      const max = [8, 24, 64, 1024 * 1024][round % 4]!;
      const { events, decoded } = reference(stream, chunks, max);
      expect(decoded).toEqual(events);
    }
  });

  it("decodes a chunk's complete lines at once and keeps the unfinished one for the next chunk", () => {
    const lines: string[] = [];
    const decoder = new LineDecoder(1024, (text, size) => lines.push(`${text}:${size ?? "-"}`), () => {});
    decoder.push(bytes('{"a":1}\n{"b":"é'));
    expect(lines).toEqual(['{"a":1}:-']);
    decoder.push(bytes('"}\r\n\uFEFF{"c":3}\n'));
    expect(lines).toEqual(['{"a":1}:-', '{"b":"é"}:-', '{"c":3}:10']);
  });

  it("reports the size in bytes of a line that is not JSON, multi-byte characters included", () => {
    expect(parseMessageText("é not json")).toEqual({ ignored: "ignoring a line that is not valid JSON (11 bytes)" });
    expect(parseMessageText("\uFFFD", 1)).toEqual({ ignored: "ignoring a line that is not valid JSON (1 bytes)" });
    expect(parseMessageText("  ")).toBeNull();
    expect(utf8ByteLength("aé€😀\uD800")).toBe(1 + 2 + 3 + 4 + 3);
  });
});

describe("encodeResultLine", () => {
  it("writes the bytes encodeMessage writes for the same response", () => {
    const result = { account: { type: "chatgpt", email: "ü@example.com", planType: "plus" }, requiresOpenaiAuth: true };
    for (const id of [0, 7, -3, 9007199254740991, "a\"b", "ü", 9223372036854775807n]) {
      expect(encodeResultLine(id, JSON.stringify(result))).toBe(encodeMessage({ id, result }));
    }
  });
});
