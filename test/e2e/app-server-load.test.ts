import { describe, expect, it } from "vitest";
import { initializeMessage, RawAppServer } from "../support/app-server-process.js";
import { OutboundValidator } from "../support/app-server-validation.js";

/**
 * **[differs]** from Codex 0.169.0, which answers part of a burst with -32001 and never answers
 * others: every pipelined request gets exactly one response, in order. (No timing assertion:
 * speed is measured by `npm run bench`; the wall time is only printed.)
 */
describe("app-server under load", () => {
  it("answers 10,000 pipelined account/read requests exactly once each, in order", async () => {
    const count = 10_000;
    const server = new RawAppServer();
    const validator = new OutboundValidator();
    try {
      expect(await server.call(initializeMessage("init"))).toHaveProperty("result");
      await server.call({ id: "login", method: "account/login/start", params: { type: "apiKey", apiKey: "sk-load-test-key-0123456789" } });
      await server.next(); // account/login/completed
      await server.next(); // account/updated
      const started = performance.now();
      const burst: string[] = [];
      for (let id = 0; id < count; id++) {
        const message = { id, method: "account/read", params: id % 3 === 0 ? {} : { refreshToken: false } };
        validator.noteClientRequest(message);
        burst.push(JSON.stringify(message));
      }
      server.writeRaw(`${burst.join("\n")}\n`);
      const ids: unknown[] = [];
      for (let i = 0; i < count; i++) {
        const line = await server.nextLine(60_000);
        validator.checkLine(line);
        const message = JSON.parse(line) as { id: unknown; result?: { account?: unknown } };
        expect(message.result?.account).toEqual({ type: "apiKey" });
        ids.push(message.id);
      }
      const elapsedMs = performance.now() - started;
      console.log(`10,000 pipelined account/read: ${elapsedMs.toFixed(0)} ms wall`);
      expect(ids).toEqual(Array.from({ length: count }, (_, id) => id));
    } finally {
      expect(await server.close()).toEqual({ code: 0, signal: null });
    }
    const initial = 4; // initialize, login result and its two notifications
    expect(server.lines).toHaveLength(count + initial);
    expect(validator.problems).toEqual([]);
  });
});
