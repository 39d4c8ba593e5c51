import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { validateGetAccountResponse, validateGetAuthStatusResponse, validateInitializeResponse } from "../../src/protocol/index.js";
import { appServerArgv } from "../support/app-server-process.js";
import { CODEX_VERSION, referenceCodexBinary } from "../support/codex-reference.js";
import { NdjsonPeer, serverEnv } from "../support/ndjson-peer.js";

/**
 * The frames real clients of `codex app-server` send (../shared/reference/real-clients.md §6),
 * replayed byte for byte against the compiled codex-auth, with the answers asserted on the wire.
 * Where a scenario needs no network, the same frames also go to the real Codex (the pinned
 * version) and the answers must be the same (Codex's own extra notifications, such as
 * `configWarning`, are not part of the account surface and are left out of the comparison).
 */

const homes: string[] = [];
const peers: NdjsonPeer[] = [];
afterEach(async () => {
  for (const peer of peers.splice(0)) await peer.close();
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function newHome(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "codex-auth-real-frames-"));
  homes.push(dir);
  return dir;
}

function ours(codexHome: string, env: Record<string, string | undefined> = {}, overrides: string[] = []): NdjsonPeer {
  const { command, args } = appServerArgv();
  const flags = overrides.flatMap((pair) => ["-c", pair]);
  const peer = new NdjsonPeer(command, [args[0]!, ...flags, ...args.slice(1)], serverEnv(codexHome, env));
  peers.push(peer);
  return peer;
}

function reference(codexHome: string): NdjsonPeer {
  const peer = new NdjsonPeer(referenceCodexBinary(CODEX_VERSION), ["app-server"], serverEnv(codexHome, { RUST_LOG: "error" }));
  peers.push(peer);
  return peer;
}

/**
 * Answers to the given ids, in the order of `ids` (Codex answers the rate limits outside its
 * account queue, so it may answer them first), user agent masked (ours names codex-auth too).
 */
async function answers(peer: NdjsonPeer, ids: Array<number | string>): Promise<Array<Record<string, unknown>>> {
  const found: Array<Record<string, unknown>> = [];
  for (const id of ids) found.push(await peer.response(id, 60_000));
  return found.map((m) => {
      const result = m.result as Record<string, unknown> | undefined;
      return result && typeof result.userAgent === "string" ? { ...m, result: { ...result, userAgent: "<ua>" } } : m;
    });
}

describe("replayed frames of real app-server clients", { timeout: 120_000 }, () => {
  it('CodexMonitor: account/read and account/rateLimits/read with "params": null, as Codex answers them', async () => {
    const frames = [
      '{"id":1,"method":"initialize","params":{"clientInfo":{"name":"codex_monitor","title":"Codex Monitor","version":"0.7.0"},"capabilities":{"experimentalApi":true}}}',
      '{"method":"initialized"}',
      '{"id":2,"method":"account/read","params":null}',
      '{"id":3,"method":"account/rateLimits/read","params":null}',
    ];
    const home = newHome();
    const mine = ours(home);
    mine.send(frames[0]);
    await mine.response(1);
    mine.send(...frames.slice(1));
    const got = await answers(mine, [1, 2, 3]);
    // account/read's params are required (CodexMonitor then reads auth.json itself); rateLimits' are optional.
    expect(got[1]).toEqual({ id: 2, error: { code: -32600, message: "Invalid request: missing field `params`" } });
    expect(got[2]).toEqual({ id: 3, error: { code: -32600, message: "codex account authentication required to read rate limits" } });

    const codex = reference(home);
    codex.send(frames[0]);
    await codex.response(1, 60_000);
    codex.send(...frames.slice(1));
    expect(got).toEqual(await answers(codex, [1, 2, 3]));
  });

  it("CodexBar: initialize, initialized, account/read {} and account/rateLimits/read {} in one write, as Codex answers them", async () => {
    const burst = [
      '{"id":1,"method":"initialize","params":{"clientInfo":{"name":"codexbar","version":"0.5.4"}}}',
      '{"method":"initialized","params":{}}',
      '{"id":2,"method":"account/read","params":{}}',
      '{"id":3,"method":"account/rateLimits/read","params":{}}',
    ];
    const home = newHome();
    const mine = ours(home);
    mine.send(...burst);
    const got = await answers(mine, [1, 2, 3]);
    // Every request answered, in arrival order.
    expect(mine.messages().filter((m) => !("method" in m)).map((m) => m.id)).toEqual([1, 2, 3]);
    expect(validateInitializeResponse(got[0]!.result)).toBe(true);
    expect(validateGetAccountResponse(got[1]!.result)).toBe(true);
    expect(got[1]!.result).toMatchObject({ account: null, requiresOpenaiAuth: true });

    const codex = reference(home);
    codex.send(...burst);
    expect(got).toEqual(await answers(codex, [1, 2, 3]));
  });

  it("T3 Code's probe: initialize, then initialized, skills/list, account/read {}, account/rateLimits/read {} back to back", async () => {
    const home = newHome();
    const mine = ours(home);
    mine.send('{"id":1,"method":"initialize","params":{"clientInfo":{"name":"t3code_desktop","title":"T3 Code Desktop","version":"0.1.0"},"capabilities":{"experimentalApi":true}}}');
    await mine.response(1);
    mine.send(
      '{"method":"initialized"}',
      '{"id":2,"method":"skills/list","params":{}}',
      '{"id":3,"method":"account/read","params":{}}',
      '{"id":4,"method":"account/rateLimits/read","params":{}}',
    );
    const [, skills, account, limits] = await answers(mine, [1, 2, 3, 4]);
    // An error is tolerated for skills/list and the rate limits, not for account/read.
    expect((skills!.error as { code: number; message: string }).message).toMatch(/^Invalid request: unknown variant `skills\/list`, expected one of /);
    expect(account).toMatchObject({ id: 3, result: { account: null, requiresOpenaiAuth: true } });
    expect(limits).toHaveProperty("error.code", -32600);
    // Frames t3code's router can classify: responses without method, notifications without id.
    for (const frame of mine.messages()) {
      if ("method" in frame) expect(["result", "error"].some((key) => key in frame)).toBe(false);
      else expect(["id" in frame, "result" in frame !== "error" in frame]).toEqual([true, true]);
    }
  });

  describe("with external ChatGPT tokens and a backend that answers 401", () => {
    let dev: DevServer;
    beforeAll(async () => {
      dev = await startDevServer();
    });
    afterAll(async () => {
      await dev?.close();
    });

    /** Signs in with chatgptAuthTokens (string ids, as the Python SDK), then makes the backend refuse the token. */
    async function externalLogin(ids: () => string | number): Promise<{ peer: NdjsonPeer; accessToken: string }> {
      const peer = ours(newHome(), dev.env(), [`chatgpt_base_url=${dev.chatgptBaseUrl}`]);
      const init = ids();
      peer.send({ id: init, method: "initialize", params: { clientInfo: { name: "codex_python_sdk", title: "Codex Python SDK", version: "0.163.0" }, capabilities: { experimentalApi: true } } });
      expect(await peer.response(init)).toHaveProperty("result");
      const { accessToken } = dev.issueTokens({ accountId: "acct-python" });
      const login = ids();
      peer.send({ id: login, method: "account/login/start", params: { type: "chatgptAuthTokens", accessToken, chatgptAccountId: "acct-python", chatgptPlanType: "plus" } });
      expect(await peer.response(login)).toEqual({ id: login, result: { type: "chatgptAuthTokens" } });
      dev.backend.revokeBearer(accessToken);
      return { peer, accessToken };
    }

    /** Reads the rate limits, answers the refresh request with `reply`, returns the read's answer. */
    async function readLimitsAnswering(peer: NdjsonPeer, id: number | string, reply: (refreshId: unknown) => unknown) {
      const before = peer.messages().filter((m) => m.method === "account/chatgptAuthTokens/refresh").length;
      peer.send({ id, method: "account/rateLimits/read", params: {} });
      await peer.waitFor(() => peer.messages().filter((m) => m.method === "account/chatgptAuthTokens/refresh").length > before, "a refresh request");
      const refresh = peer.messages().filter((m) => m.method === "account/chatgptAuthTokens/refresh")[before]!;
      expect(refresh).toEqual({ id: refresh.id, method: "account/chatgptAuthTokens/refresh", params: { reason: "unauthorized", previousAccountId: "acct-python" } });
      expect(typeof refresh.id).toBe("number");
      peer.send(reply(refresh.id));
      return peer.response(id);
    }

    it('Python SDK: UUID string ids echoed as sent, and its `{"result":{}}` to the refresh request fails only that read', async () => {
      const { peer, accessToken } = await externalLogin(randomUUID);
      const read = randomUUID();
      expect(await readLimitsAnswering(peer, read, (id) => ({ id, result: {} }))).toEqual({
        id: read,
        error: { code: -32603, message: "failed to fetch codex rate limits: auth refresh request returned an invalid response: missing field `accessToken`" },
      });
      // Still serving, the old tokens in place, string ids still echoed.
      const status = randomUUID();
      peer.send({ id: status, method: "getAuthStatus", params: { includeToken: true, refreshToken: false } });
      expect(await peer.response(status)).toEqual({ id: status, result: { authMethod: "chatgptAuthTokens", authToken: accessToken, requiresOpenaiAuth: true } });
      const account = randomUUID();
      peer.send({ id: account, method: "account/read", params: {} });
      expect(await peer.response(account)).toMatchObject({ id: account, result: { account: { type: "chatgpt", planType: "plus" } } });
    });

    it("Go SDK (-32602) and a Neovim client (-32601) refuse the refresh request: the read fails naming their answer", async () => {
      let next = 1;
      const { peer } = await externalLogin(() => next++);
      expect(
        await readLimitsAnswering(peer, 10, (id) => ({ id, error: { code: -32602, message: 'unsupported server request "account/chatgptAuthTokens/refresh"' } })),
      ).toEqual({
        id: 10,
        error: { code: -32603, message: 'failed to fetch codex rate limits: auth refresh request failed: code=-32602 message=unsupported server request "account/chatgptAuthTokens/refresh"' },
      });
      expect(
        await readLimitsAnswering(peer, 11, (id) => ({ id, error: { code: -32601, message: "Externally managed ChatGPT tokens are not configured by codex.nvim" } })),
      ).toEqual({
        id: 11,
        error: { code: -32603, message: "failed to fetch codex rate limits: auth refresh request failed: code=-32601 message=Externally managed ChatGPT tokens are not configured by codex.nvim" },
      });
      // codex-acp's vscode-jsonrpc default answer.
      expect(
        await readLimitsAnswering(peer, 12, (id) => ({ jsonrpc: "2.0", id, error: { code: -32601, message: "Unhandled method account/chatgptAuthTokens/refresh" } })),
      ).toEqual({
        id: 12,
        error: { code: -32603, message: "failed to fetch codex rate limits: auth refresh request failed: code=-32601 message=Unhandled method account/chatgptAuthTokens/refresh" },
      });
      peer.send({ id: 13, method: "account/read", params: { refreshToken: false } });
      expect(await peer.response(13)).toMatchObject({ id: 13, result: { account: { type: "chatgpt" } } });
    });

    it('hosts that take the bearer from getAuthStatus {"includeToken":true,"refreshToken":false} get a JWT they can decode, as from Codex', async () => {
      const home = newHome();
      const tokens = dev.issueTokens({ email: "host@example.com", accountId: "acct-host", planType: "pro" });
      writeFileSync(
        path.join(home, "auth.json"),
        `${JSON.stringify(
          {
            auth_mode: "chatgpt",
            OPENAI_API_KEY: null,
            tokens: { id_token: tokens.idToken, access_token: tokens.accessToken, refresh_token: tokens.refreshToken, account_id: "acct-host" },
            last_refresh: new Date().toISOString(),
          },
          null,
          2,
        )}\n`,
        { mode: 0o600 },
      );
      const frames = [
        '{"id":1,"method":"initialize","params":{"clientInfo":{"name":"bearer_host","version":"1.0.0"},"capabilities":null}}',
        '{"id":2,"method":"getAuthStatus","params":{"includeToken":true,"refreshToken":false}}',
      ];
      const mine = ours(home, dev.env());
      mine.send(...frames);
      const [, status] = await answers(mine, [1, 2]);
      const result = status!.result as { authMethod: string; authToken: string; requiresOpenaiAuth: boolean };
      expect(validateGetAuthStatusResponse(result)).toBe(true);
      expect(result.authMethod).toBe("chatgpt");
      expect(result.authToken).toBe(tokens.accessToken);
      // What such a host does with it.
      const [header, payload, signature] = result.authToken.split(".");
      expect(signature).toBeTruthy();
      expect(JSON.parse(Buffer.from(header!, "base64url").toString("utf8"))).toHaveProperty("alg");
      const claims = JSON.parse(Buffer.from(payload!, "base64url").toString("utf8")) as Record<string, Record<string, unknown>>;
      expect(claims["https://api.openai.com/auth"]).toMatchObject({ chatgpt_account_id: "acct-host" });

      const codex = reference(home);
      codex.send(...frames);
      expect(await answers(codex, [1, 2])).toEqual(await answers(mine, [1, 2]));
    });
  });
});
