import { PassThrough, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { LineSplitter, MessageReader, MessageWriter, parseMessageLine } from "../../src/app-server/transport.js";
import type { Logger } from "../../src/app-server/log.js";

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (m) => lines.push(`warn: ${m}`), error: (m) => lines.push(`error: ${m}`) };
}

function split(chunks: Array<string | Buffer>, max = 16): { lines: string[]; oversized: number[] } {
  const lines: string[] = [];
  const oversized: number[] = [];
  const splitter = new LineSplitter(max, (line) => lines.push(Buffer.from(line).toString("utf8")), (bytes) => oversized.push(bytes));
  for (const chunk of chunks) splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  splitter.end();
  return { lines, oversized };
}

describe("LineSplitter", () => {
  it("splits on newlines across chunk boundaries and strips a trailing CR", () => {
    expect(split(["ab", "c\nde", "f\r\n", "\n", "gh"])).toEqual({ lines: ["abc", "def", "", "gh"], oversized: [] });
  });

  it("keeps a line of exactly the cap and drops a longer one, reporting only its size", () => {
    expect(split(["x".repeat(16), "\n", "y".repeat(17), "\nok\n"])).toEqual({ lines: ["x".repeat(16), "ok"], oversized: [17] });
  });

  it("drops an oversized line that arrives in many chunks without buffering it", () => {
    const chunks = ["{", ...Array.from({ length: 50 }, () => "z".repeat(10)), "}\nnext\n"];
    expect(split(chunks)).toEqual({ lines: ["next"], oversized: [502] });
  });

  it("reports an oversized final line without a newline at the end of input", () => {
    expect(split(["a\n", "b".repeat(40)])).toEqual({ lines: ["a"], oversized: [40] });
  });

  it("does not split multi-byte characters", () => {
    const text = "é€😀";
    const bytes = Buffer.from(`${text}\n`);
    expect(split([bytes.subarray(0, 3), bytes.subarray(3)], 64).lines).toEqual([text]);
  });
});

describe("parseMessageLine", () => {
  it("accepts JSON objects and ignores blank lines", () => {
    expect(parseMessageLine(Buffer.from('{"id":1}'))).toEqual({ message: { id: 1 } });
    expect(parseMessageLine(Buffer.from("   "))).toBeNull();
  });

  it("reports non-JSON and non-objects without quoting the line", () => {
    const secret = "sk-should-never-be-quoted";
    for (const line of [`not json ${secret}`, `["${secret}"]`, `"${secret}"`, "42", "null"]) {
      const parsed = parseMessageLine(Buffer.from(line));
      expect(parsed).toHaveProperty("ignored");
      expect(JSON.stringify(parsed)).not.toContain(secret);
    }
  });
});

describe("MessageReader", () => {
  it("delivers objects, logs the rest, and ends once", async () => {
    const input = new PassThrough();
    const log = recordingLogger();
    const messages: unknown[] = [];
    let ends = 0;
    new MessageReader(input, { log, maxLineBytes: 32, onMessage: (m) => messages.push(m), onEnd: () => ends++ }).start();
    input.write('{"a":1}\ngarbage\n[1]\n');
    input.write(`${"x".repeat(40)}\n`);
    input.end('{"b":2}');
    await new Promise((resolve) => input.on("close", resolve));
    expect(messages).toEqual([{ a: 1 }, { b: 2 }]);
    expect(ends).toBe(1);
    expect(log.lines).toEqual([
      "warn: ignoring a line that is not valid JSON (7 bytes)",
      "warn: ignoring a line that is not a JSON object (array)",
      "warn: ignoring a line of 40 bytes: over the 32-byte limit",
    ]);
  });
});

describe("MessageWriter", () => {
  it("writes one JSON object per line and flushes", async () => {
    const chunks: string[] = [];
    const output = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        setImmediate(callback);
      },
    });
    const writer = new MessageWriter(output, recordingLogger());
    writer.write({ id: 1, result: {} });
    writer.write({ method: "account/updated", params: { authMode: null, planType: null } });
    await writer.flush();
    expect(chunks.join("")).toBe('{"id":1,"result":{}}\n{"method":"account/updated","params":{"authMode":null,"planType":null}}\n');
  });

  it("hands the lines of one turn to the stream in one write, before setImmediate work runs", async () => {
    const chunks: string[] = [];
    const output = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    });
    const writer = new MessageWriter(output, recordingLogger());
    const seenByImmediate = new Promise<string[]>((resolve) => setImmediate(() => resolve([...chunks])));
    await Promise.resolve();
    writer.write({ id: 1, result: {} });
    writer.writeLine('{"id":2,"result":{}}\n');
    expect(chunks).toEqual([]);
    expect(await seenByImmediate).toEqual(['{"id":1,"result":{}}\n{"id":2,"result":{}}\n']);
  });

  it("reports backpressure and releases waiters on drain", async () => {
    let release: (() => void) | null = null;
    const output = new Writable({
      highWaterMark: 8,
      write(_chunk, _encoding, callback) {
        release = callback;
      },
    });
    const writer = new MessageWriter(output, recordingLogger());
    writer.write({ id: 1, result: { padding: "0123456789" } });
    expect(writer.blocked).toBe(true);
    let writable = false;
    const waiting = writer.whenWritable().then(() => (writable = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writable).toBe(false);
    release!();
    await waiting;
    expect(writer.blocked).toBe(false);
  });

  it("stops writing after an output error instead of throwing", async () => {
    const output = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error("EPIPE"));
      },
    });
    const log = recordingLogger();
    const writer = new MessageWriter(output, log);
    writer.write({ id: 1, result: {} });
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.broken).toBe(true);
    writer.write({ id: 2, result: {} });
    await writer.flush();
    expect(log.lines).toEqual(["warn: output stream error: EPIPE"]);
  });
});
