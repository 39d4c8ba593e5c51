import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { initializeMessage, RawAppServer } from "../support/app-server-process.js";
import { CODEX_VERSION, referenceCodexBinary } from "../support/codex-reference.js";
import { NdjsonPeer, serverEnv } from "../support/ndjson-peer.js";

/**
 * The user agent (initialize's `userAgent`, and the User-Agent of backend calls): Codex's shape,
 * the pinned Codex version with ours as build metadata, and valid header bytes for a client name
 * in any script (issue 10.11: a non-Latin-1 name used to break every backend read with
 * "Cannot convert argument to a ByteString").
 */

const PACKAGE = (await import("../../package.json", { with: { type: "json" } })).default as { version: string; config: { codexVersion: string } };

/** Forwards to the dev-server and records each request's raw User-Agent bytes, decoded as UTF-8. */
async function recordingProxy(target: string): Promise<{ url: string; userAgents: string[]; server: Server }> {
  const userAgents: string[] = [];
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const at = req.rawHeaders.findIndex((name) => name.toLowerCase() === "user-agent");
    if (at >= 0) userAgents.push(Buffer.from(req.rawHeaders[at + 1]!, "latin1").toString("utf8"));
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, userAgents, server };
}

describe("user agent", { timeout: 120_000 }, () => {
  let dev: DevServer;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  beforeAll(async () => {
    dev = await startDevServer();
    proxy = await recordingProxy(dev.url);
  });
  afterAll(async () => {
    await new Promise((resolve) => proxy?.server.close(resolve));
    await dev?.close();
  });

  it.each([
    ["a Latin-1 name", "codex-acp"],
    ["a name in Cyrillic and Han", "клиент 客户"],
    ["an emoji (outside the BMP)", "app 🙂"],
  ])("%s: Codex's user agent plus our version, and a backend read that works, with those bytes in User-Agent", async (_, name) => {
    const server = new RawAppServer({ env: dev.env(), config: [`chatgpt_base_url=${proxy.url}/backend-api/`] });
    const home = mkdtempSync(path.join(tmpdir(), "codex-auth-ua-"));
    try {
      const init = { id: 1, method: "initialize", params: { clientInfo: { name, version: "1.0" }, capabilities: { experimentalApi: true } } };
      const ours = (await server.call(init)).result as { userAgent: string };
      expect(ours.userAgent.startsWith(`${name}/${PACKAGE.config.codexVersion}+codex-auth.${PACKAGE.version} (`)).toBe(true);
      expect(ours.userAgent.endsWith(` (${name}; 1.0)`)).toBe(true);

      // Codex's, for the same client: identical once our build metadata is taken out.
      const codex = new NdjsonPeer(referenceCodexBinary(CODEX_VERSION), ["app-server"], serverEnv(home, { RUST_LOG: "error", TERM: process.env.TERM }));
      codex.send(init);
      const theirs = ((await codex.response(1, 60_000)).result as { userAgent: string }).userAgent;
      await codex.close();
      // The terminal token depends on the environment each was started from (the same here).
      expect(ours.userAgent.replace(`+codex-auth.${PACKAGE.version}`, "")).toBe(theirs);

      const { accessToken } = dev.issueTokens({ accountId: "acct-ua" });
      server.send({ id: 2, method: "account/login/start", params: { type: "chatgptAuthTokens", accessToken, chatgptAccountId: "acct-ua" } });
      expect(await server.next()).toEqual({ id: 2, result: { type: "chatgptAuthTokens" } });
      await server.next(); // account/login/completed
      await server.next(); // account/updated
      const before = proxy.userAgents.length;
      const limits = await server.call({ id: 3, method: "account/rateLimits/read" });
      expect(limits).toHaveProperty("result.rateLimits");
      expect(proxy.userAgents.slice(before)).toEqual([ours.userAgent]);
    } finally {
      await server.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("control characters in the client's version become `_`; in the name they are refused, as Codex does", async () => {
    const server = new RawAppServer();
    try {
      const refused = await server.call({ id: 1, method: "initialize", params: { clientInfo: { name: "bad\u0007name", version: "1" } } });
      // Codex 0.169.0's answers to these two frames, verbatim.
      expect(refused).toEqual({ id: 1, error: { code: -32600, message: "Invalid clientInfo.name: 'bad\u0007name'. Must be a valid HTTP header value." } });
      const ok = (await server.call({ ...initializeMessage(2), params: { clientInfo: { name: "ok", version: "1\r\n2" } } })).result as { userAgent: string };
      expect(ok.userAgent.endsWith("(ok; 1__2)")).toBe(true);
    } finally {
      await server.close();
    }
  });
});
