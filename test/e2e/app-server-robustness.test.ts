import { describe, expect, it } from "vitest";
import { initializeMessage, RawAppServer } from "../support/app-server-process.js";
import { OutboundValidator } from "../support/app-server-validation.js";

/**
 * Hostile and sloppy input against the spawned server: it answers what is answerable, writes
 * nothing to stdout that is not a JSON object, and keeps serving.
 */

async function withServer(run: (server: RawAppServer, validator: OutboundValidator) => Promise<void>, env: Record<string, string> = {}): Promise<RawAppServer> {
  const server = new RawAppServer({ env });
  const validator = new OutboundValidator();
  const send = server.send.bind(server);
  server.send = (message) => {
    validator.noteClientRequest(message);
    send(message);
  };
  try {
    expect(await server.call(initializeMessage())).toHaveProperty("result");
    await run(server, validator);
    // Still serving afterwards.
    expect(await server.call({ id: "alive", method: "account/read", params: {} })).toEqual({
      id: "alive",
      result: { account: null, userId: null, requiresOpenaiAuth: true, workspaceRouting: null },
    });
  } finally {
    expect(await server.close()).toEqual({ code: 0, signal: null });
  }
  for (const line of server.stdout.split("\n").filter(Boolean)) validator.checkLine(line);
  expect(validator.problems).toEqual([]);
  return server;
}

describe("app-server robustness", () => {
  it("ignores garbage lines: not JSON, not objects, blank, CRLF, invalid ids", async () => {
    const server = await withServer(async (server, validator) => {
      for (const line of ["not json", "{", "[]", "[1,2]", "42", '"text"', "null", "true", "", "   ", "\u0000\u0001binary", "{}", '{"foo":1}']) server.send(line);
      server.send({ id: null, method: "account/read", params: {} });
      server.send({ id: 1.5, method: "account/read", params: {} });
      server.send({ id: { x: 1 }, method: "account/read", params: {} });
      server.send({ id: 7, method: 42 });
      server.send({ method: "no/such/notification", params: {} });
      server.send({ method: "initialized" });
      validator.noteClientRequest({ id: "crlf", method: "account/read" });
      server.writeRaw('{"id":"crlf","method":"account/read","params":{}}\r\n');
      // Only the CRLF request is answered.
      expect(await server.next()).toEqual({ id: "crlf", result: { account: null, userId: null, requiresOpenaiAuth: true, workspaceRouting: null } });
    });
    expect(server.stderr).toContain("ignoring a line that is not valid JSON");
    expect(server.stderr).toContain("ignoring a line that is not a JSON object (array)");
  });

  it("skips an oversized line without echoing it and serves the next one", async () => {
    const secret = `sk-oversized-${"x".repeat(40)}`;
    const server = await withServer(
      async (server) => {
        const huge = JSON.stringify({ id: 99, method: "account/login/start", params: { type: "apiKey", apiKey: secret, pad: "y".repeat(300_000) } });
        server.send(huge);
        expect(await server.call({ id: 100, method: "account/read", params: {} })).toMatchObject({ id: 100, result: { account: null } });
      },
      { CODEX_AUTH_APP_SERVER_MAX_LINE_BYTES: "65536" },
    );
    expect(server.stderr).toMatch(/ignoring a line of \d+ bytes: over the 65536-byte limit/);
    expect(server.stdout).not.toContain(secret);
    expect(server.stderr).not.toContain(secret);
  });

  it("skips a line over the default 1 MiB cap, even when it arrives in many chunks", async () => {
    await withServer(async (server) => {
      server.writeRaw('{"id":1,"method":"account/read","params":{"pad":"');
      for (let i = 0; i < 20; i++) server.writeRaw("z".repeat(64 * 1024));
      server.writeRaw('"}}\n');
      expect(await server.call({ id: 2, method: "account/read", params: {} })).toMatchObject({ id: 2 });
    });
  });

  it("answers unknown methods and wrong param types with -32600 Invalid request", async () => {
    await withServer(async (server) => {
      expect(await server.call({ id: 1, method: "thread/start", params: {} })).toMatchObject({
        id: 1,
        error: { code: -32600, message: expect.stringMatching(/^Invalid request: unknown variant `thread\/start`, expected one of /) },
      });
      expect(await server.call({ id: 2, method: "account/chatgptAuthTokens/refresh", params: {} })).toMatchObject({ id: 2, error: { code: -32600 } });
      expect(await server.call({ id: 3, method: "account/read", params: { refreshToken: "yes" } })).toEqual({
        id: 3,
        error: { code: -32600, message: 'Invalid request: invalid type: string "yes", expected a boolean' },
      });
      expect(await server.call({ id: 4, method: "account/read", params: null })).toEqual({ id: 4, error: { code: -32600, message: "Invalid request: missing field `params`" } });
      expect(await server.call({ id: 5, method: "account/logout", params: { x: 1 } })).toEqual({
        id: 5,
        error: { code: -32600, message: "Invalid request: invalid type: map, expected unit" },
      });
      expect(await server.call({ id: 6, method: "account/login/start", params: { type: "apiKey", apiKey: 5 } })).toEqual({
        id: 6,
        error: { code: -32600, message: "Invalid request: invalid type: integer `5`, expected a string" },
      });
      expect(await server.call({ id: 7, method: "account/login/start", params: { type: "bogus" } })).toMatchObject({
        id: 7,
        error: { code: -32600, message: expect.stringMatching(/^Invalid request: unknown variant `bogus`/) },
      });
      expect(await server.call({ id: 8, method: "getAuthStatus", params: [] })).toMatchObject({ id: 8, error: { code: -32600 } });
      expect(await server.call({ id: 9, method: "initialize", params: { clientInfo: { name: "x" } } })).toEqual({
        id: 9,
        error: { code: -32600, message: "Invalid request: missing field `version`" },
      });
      // A credential in a wrong-typed field is not quoted back.
      const pasted = "sk-pasted-into-the-wrong-field-0123456789";
      const reply = await server.call({ id: 10, method: "getAuthStatus", params: { includeToken: pasted } });
      expect(reply).toEqual({ id: 10, error: { code: -32600, message: "Invalid request: invalid type: a string, expected a boolean" } });
      // Accepted forms: params absent, null or {} for no-params methods; unknown members; a jsonrpc member.
      expect(await server.call({ id: 11, method: "account/logout" })).toEqual({ id: 11, result: {} });
      await server.next(); // account/updated
      expect(await server.call({ id: 12, method: "account/logout", params: null })).toEqual({ id: 12, result: {} });
      await server.next();
      expect(await server.call({ jsonrpc: "2.0", id: 13, method: "account/read", params: { refreshToken: false, extra: 1 } })).toMatchObject({ id: 13, result: {} });
    });
  });

  it("answers every request with a duplicate id, in order", async () => {
    await withServer(async (server) => {
      server.send({ id: 5, method: "account/read", params: {} });
      server.send({ id: 5, method: "getAuthStatus", params: {} });
      server.send({ id: 5, method: "account/read", params: { refreshToken: 1 } });
      expect(await server.next()).toMatchObject({ id: 5, result: { account: null } });
      expect(await server.next()).toMatchObject({ id: 5, result: { authMethod: null } });
      expect(await server.next()).toMatchObject({ id: 5, error: { code: -32600 } });
    });
  });

  it("drops responses to server-request ids it never sent", async () => {
    const server = await withServer(async (server) => {
      server.send({ id: 0, result: { accessToken: "x", chatgptAccountId: "y" } });
      server.send({ id: 41, error: { code: -32000, message: "stray" } });
      server.send({ id: "abc", result: null });
      server.send({ id: 3 });
      expect(await server.call({ id: 1, method: "getAuthStatus", params: {} })).toMatchObject({ id: 1, result: {} });
    });
    expect(server.stderr).toContain("dropping a response to unknown server request id 0");
    expect(server.stderr).toContain('dropping a response to unknown server request id "abc"');
  });

  it("finishes queued work at stdin EOF and exits 0", async () => {
    const server = new RawAppServer();
    server.send(initializeMessage());
    for (let id = 2; id < 50; id++) server.send({ id, method: "account/read", params: {} });
    server.child.stdin.end('{"id":50,"method":"getAuthStatus","params":{}}');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    const ids = server.lines.map((line) => (JSON.parse(line) as { id: unknown }).id);
    expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await server.close();
  });
});
