import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { initializeMessage, RawAppServer } from "../support/app-server-process.js";

/**
 * SIGTERM and SIGINT end `codex-auth app-server` the way stdin EOF does: what is in flight is
 * answered or failed, the output is flushed, exit 0 (Codex 0.169.0 exits 0 on SIGTERM; on SIGINT
 * it dies by the signal, which an editor stopping its agent reads as a crash).
 */
describe.each(["SIGTERM", "SIGINT"] as const)("app-server on %s", (signal) => {
  let dev: DevServer;
  beforeAll(async () => {
    dev = await startDevServer();
  });
  afterAll(async () => {
    await dev?.close();
  });

  it("idle: exits 0 at once, not by the signal", async () => {
    const server = new RawAppServer();
    try {
      expect(await server.call(initializeMessage(1))).toHaveProperty("result");
      server.child.kill(signal);
      expect(await server.exited).toEqual({ code: 0, signal: null });
    } finally {
      await server.close();
    }
  });

  it("in flight: a read waiting on the parent app is failed, later requests answered, output flushed, exit 0", async () => {
    const server = new RawAppServer({ env: dev.env(), config: [`chatgpt_base_url=${dev.chatgptBaseUrl}`] });
    try {
      expect(await server.call(initializeMessage(1, { experimentalApi: true }))).toHaveProperty("result");
      const { accessToken } = dev.issueTokens({ accountId: "acct-signal" });
      server.send({ id: 2, method: "account/login/start", params: { type: "chatgptAuthTokens", accessToken, chatgptAccountId: "acct-signal" } });
      expect(await server.next()).toEqual({ id: 2, result: { type: "chatgptAuthTokens" } });
      await server.next(); // account/login/completed
      await server.next(); // account/updated
      dev.backend.revokeBearer(accessToken);

      // The 401 makes the server ask this (parent) app for tokens; it never answers.
      server.send({ id: 3, method: "account/rateLimits/read" });
      expect(await server.next()).toMatchObject({ method: "account/chatgptAuthTokens/refresh" });
      server.send({ id: 4, method: "account/read", params: {} });
      expect(await server.next()).toMatchObject({ id: 4, result: { account: { type: "chatgpt" } } });

      server.child.kill(signal);
      expect(await server.exited).toEqual({ code: 0, signal: null });
      const answer = JSON.parse(server.lines.at(-1)!) as { id: number; error: { code: number; message: string } };
      expect(answer.id).toBe(3);
      expect(answer.error.code).toBe(-32603);
      expect(answer.error.message).toMatch(/^failed to fetch codex rate limits: auth refresh request failed/);
      // Flushed: the last line is complete, and every request got exactly one answer.
      expect(server.stdout.endsWith("\n")).toBe(true);
      const answered = server.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((m) => !("method" in m)).map((m) => m.id);
      expect(answered.sort()).toEqual([1, 2, 3, 4]);
    } finally {
      await server.close();
    }
  });
});
