import { describe, expect, it } from "vitest";
import { classifyMessage, encodeMessage, isRequestId, LineSplitter, parseMessage, parseMessageLine } from "../../src/protocol/index.js";

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
