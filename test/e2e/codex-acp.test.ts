import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { client, ndJsonStream } from "@agentclientprotocol/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { methods } from "../../src/protocol/index.js";
import { appServerArgv } from "../support/app-server-process.js";
import { CODEX_VERSION, referenceCodexBinary } from "../support/codex-reference.js";
import { CODEX_ACP_VERSION, ensureCodexAcp } from "../support/codex-acp.js";
import { tempDir, type TempDir } from "../support/cli-process.js";
import { until } from "../support/helpers.js";
import { NdjsonPeer, serverEnv } from "../support/ndjson-peer.js";

/**
 * The real codex-acp (the ACP adapter editors run) with codex-auth as its app-server, driven as an
 * editor drives it through the ACP SDK: initialize, the `authentication/status` query, `authenticate`
 * with each method, `logout`. codex-acp spawns `$CODEX_PATH app-server`; CODEX_PATH is a shim that
 * runs the compiled codex-auth and records both directions of the wire. The ChatGPT logins go to the
 * dev-server issuer; codex-acp opens the browser with the `open` package, i.e. `xdg-open` on Linux,
 * so a stand-in `xdg-open` first on PATH plays the browser: it follows the authorize URL (the issuer
 * approves at once) to codex-auth's callback. The device code is typed in by a stand-in user who
 * takes the code from codex-acp's URL elicitation.
 */

const API_KEY = "sk-codex-acp-e2e-0123456789";

type AuthStatus = { type: string; email?: string };
/** What codex-acp pushes to the editor (`_auth/status_update`) whenever the sign-in changes. */
type PushedStatus = { kind: string; label: string; account?: { email?: string; plan?: string } };

describe(`codex-acp ${CODEX_ACP_VERSION} against codex-auth app-server`, { timeout: 120_000 }, () => {
  let dev: DevServer;
  let dir: TempDir;
  let home: string;
  let bin: string;
  let acp: ChildProcessWithoutNullStreams;
  let acpEntry: string;
  let acpEnv: NodeJS.ProcessEnv;
  let acpStderr = "";
  const pushes: PushedStatus[] = [];
  let pushWaiters: Array<() => void> = [];
  /** Waits (20 s at most) for a push after the first `seen` pushes; returns it. */
  const nextPush = async (seen: number): Promise<PushedStatus> => {
    const deadline = Date.now() + 20_000;
    while (pushes.length <= seen) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no _auth/status_update after push ${seen}; codex-acp stderr:\n${acpStderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        pushWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return pushes[seen]!;
  };
  /** The pushes that arrive until the status settles on `expected` (codex-acp may repeat or refine). */
  const pushedUntil = async (seen: number, expected: (status: PushedStatus) => boolean): Promise<PushedStatus> => {
    for (let index = seen; ; index++) {
      const status = await nextPush(index);
      if (expected(status)) return status;
    }
  };
  const elicitations: Array<{ url: string | undefined; message: string | undefined; elicitationId: string | undefined }> = [];
  /** The editor's connection, open for the whole file (one codex-acp process, as in an editor). */
  let request: <R>(method: string, params: unknown) => Promise<R>;
  let closeEditor: () => void;
  let editorDone: Promise<unknown>;

  /** The app-servers codex-acp started, in order (pids; each records its own wire). */
  const servers = (): string[] => {
    const file = path.join(dir.dir, "wire-pids");
    return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
  };
  /** One direction of one app-server's wire (default: the first, the editor's codex-acp's). */
  const wire = (direction: "in" | "out", pid = servers()[0]): Array<Record<string, unknown>> => {
    const file = path.join(dir.dir, `wire-${pid}-${direction}.ndjson`);
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  const authJson = () => path.join(home, "auth.json");
  const status = () => request<AuthStatus>("authentication/status", {});

  beforeAll(async () => {
    const entry = ensureCodexAcp();
    dev = await startDevServer();
    dev.setAuthorizeMode("approve");
    dev.setDeviceCodeSettings({ enabled: true, interval: "1", autoApproveAfterPolls: null });
    dir = tempDir("codex-auth-codex-acp-");
    home = path.join(dir.dir, "home");
    bin = path.join(dir.dir, "bin");
    mkdirSync(home);
    mkdirSync(bin);
    writeFileSync(path.join(home, "config.toml"), 'cli_auth_credentials_store = "file"\n');
    writeShims(dir.dir, bin);

    const env = serverEnv(home, {
      ...dev.env(),
      CODEX_APP_SERVER_LOGIN_ISSUER: dev.issuerUrl,
      CODEX_AUTH_LOGIN_PORT: "0",
      CODEX_PATH: path.join(bin, "codex"),
      PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
      NO_BROWSER: undefined,
      APP_SERVER_LOGS: undefined,
    });
    acpEntry = entry;
    acpEnv = env;
    acp = spawn(process.execPath, [entry], { env, stdio: ["pipe", "pipe", "pipe"] });
    acp.stderr.setEncoding("utf8").on("data", (text: string) => (acpStderr += text));

    const editor = client()
      .onNotification(
        "_auth/status_update",
        (params: unknown) => (params as { authStatus: PushedStatus }).authStatus,
        (ctx) => {
          pushes.push(ctx.params);
          for (const wake of pushWaiters.splice(0)) wake();
        },
      )
      .onRequest("elicitation/create", async (ctx) => {
      const params = ctx.params as { mode?: string; url?: string; message?: string; elicitationId?: string };
      elicitations.push({ url: params.url, message: params.message, elicitationId: params.elicitationId });
      // The person opens the page and types the code shown in the message.
      const userCode = /enter this code: (\S+)/.exec(params.message ?? "")?.[1];
      if (!userCode) return { action: "decline" };
      dev.approveDeviceCode(userCode);
      return { action: "accept" };
    });
    const stream = ndJsonStream(Writable.toWeb(acp.stdin) as WritableStream<Uint8Array>, Readable.toWeb(acp.stdout) as ReadableStream<Uint8Array>);
    let ready!: () => void;
    const connected = new Promise<void>((resolve) => (ready = resolve));
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    editorDone = editor.connectWith(stream, async (ctx) => {
      request = (method, params) => ctx.request(method, params) as never;
      ready();
      await finished;
    });
    closeEditor = finish;
    await connected;
  }, 300_000);

  afterAll(async () => {
    closeEditor?.();
    await editorDone?.catch(() => {});
    if (acp && acp.exitCode === null) {
      acp.stdin.end();
      acp.kill("SIGTERM");
      await new Promise((resolve) => acp.once("close", resolve));
    }
    await dev?.close();
    dir?.remove();
  });

  it("initialize: the three auth methods, and no auth yet", async () => {
    const result = await request<{ authMethods: Array<{ id: string }> }>("initialize", {
      protocolVersion: 1,
      clientCapabilities: { elicitation: { url: {} } },
      clientInfo: { name: "codex-auth-e2e-editor", version: "1.0.0" },
    });
    expect(result.authMethods.map((method) => method.id)).toEqual(["api-key", "chat-gpt", "chat-gpt-device-code"]);
    // The first push after initialize (it never came while config/read was refused).
    expect(await nextPush(0)).toEqual({ kind: "none", label: "Not logged in" });
    expect(await status()).toEqual({ type: "unauthenticated" });
    // codex-acp learned it from config/read (model_provider null: OpenAI auth) and account/read.
    const sent = wire("in").map((m) => m.method);
    expect(sent).toContain("config/read");
    expect(sent).toContain("account/read");
    const configRead = wire("in").find((m) => m.method === "config/read")!;
    const answer = wire("out").find((m) => m.id === configRead.id && !("method" in m))!;
    expect((answer.result as { config: Record<string, unknown> }).config.model_provider).toBeNull();
  });

  it("authenticate api-key, then logout", async () => {
    let seen = pushes.length;
    expect(await request("authenticate", { methodId: "api-key", _meta: { "api-key": { apiKey: API_KEY } } })).toEqual({});
    expect(await status()).toEqual({ type: "api-key" });
    expect(await pushedUntil(seen, (p) => p.kind !== "none")).toEqual({ kind: "api_key", label: "OpenAI API key" });
    seen = pushes.length;
    const stored = JSON.parse(readFileSync(authJson(), "utf8")) as Record<string, unknown>;
    expect(stored.OPENAI_API_KEY).toBe(API_KEY);

    expect(await request("logout", {})).toEqual({});
    expect(await status()).toEqual({ type: "unauthenticated" });
    expect(await pushedUntil(seen, (p) => p.kind === "none")).toEqual({ kind: "none", label: "Not logged in" });
    expect(existsSync(authJson())).toBe(false);
  });

  it("authenticate chat-gpt: the browser follows the authorize URL to codex-auth's callback; then logout revokes", async () => {
    dev.setNextAccount({ email: "browser@example.com", accountId: "acct-browser", planType: "plus" });
    let seen = pushes.length;
    expect(await request("authenticate", { methodId: "chat-gpt" })).toEqual({});
    expect(await status()).toEqual({ type: "chat-gpt", email: "browser@example.com" });
    expect(await pushedUntil(seen, (p) => p.kind === "account")).toMatchObject({ kind: "account", label: "ChatGPT Plus", account: { plan: "plus" } });
    seen = pushes.length;
    // The stand-in browser logs where it landed after the login has already completed: wait for it.
    const visits = await browserVisits(dir.dir, (lines) => lines.length >= 2);
    expect(visits[0]).toBe(`${dev.issuerUrl}/oauth/authorize`);
    // codex-auth's callback took the code and sent the browser to its success page.
    expect(visits[1]).toMatch(/^followed to http:\/\/(localhost|127\.0\.0\.1):\d+\/success status 200$/);
    const stored = JSON.parse(readFileSync(authJson(), "utf8")) as { auth_mode?: string; tokens?: { account_id?: string } };
    expect(stored.auth_mode).toBe("chatgpt");
    expect(stored.tokens?.account_id).toBe("acct-browser");

    const revokesBefore = dev.revocations.length;
    expect(await request("logout", {})).toEqual({});
    expect(await status()).toEqual({ type: "unauthenticated" });
    expect(await pushedUntil(seen, (p) => p.kind === "none")).toEqual({ kind: "none", label: "Not logged in" });
    expect(existsSync(authJson())).toBe(false);
    expect(dev.revocations.length).toBeGreaterThan(revokesBefore);
  });

  it("authenticate chat-gpt-device-code: the code shown through URL elicitation is approved; then logout", async () => {
    dev.setNextAccount({ email: "device@example.com", accountId: "acct-device", planType: "pro" });
    const seen = pushes.length;
    expect(await request("authenticate", { methodId: "chat-gpt-device-code" })).toEqual({});
    expect(await pushedUntil(seen, (p) => p.kind === "account")).toMatchObject({ kind: "account", label: "ChatGPT Pro", account: { plan: "pro" } });
    expect(elicitations).toHaveLength(1);
    expect(elicitations[0]!.url).toBe(`${dev.issuerUrl}/codex/device`);
    expect(await status()).toEqual({ type: "chat-gpt", email: "device@example.com" });
    const start = wire("in").find((m) => m.method === "account/login/start" && (m.params as { type: string }).type === "chatgptDeviceCode")!;
    const started = wire("out").find((m) => m.id === start.id && !("method" in m))!.result as { loginId: string; userCode: string };
    expect(elicitations[0]!.elicitationId).toBe(started.loginId);
    expect(elicitations[0]!.message).toContain(started.userCode);

    expect(await request("logout", {})).toEqual({});
    expect(await status()).toEqual({ type: "unauthenticated" });
    expect(existsSync(authJson())).toBe(false);
  });

  it("past the account surface (session/new) codex-auth answers as Codex answers an unknown method", async () => {
    expect(await request("authenticate", { methodId: "api-key", _meta: { "api-key": { apiKey: API_KEY } } })).toEqual({});
    await expect(request("session/new", { cwd: dir.dir, mcpServers: [] })).rejects.toBeTruthy();
    const served = new Set(Object.values(methods).filter((d) => d.direction === "clientToServer").map((d) => d.method as string));
    const beyond = wire("in").filter((m) => typeof m.method === "string" && "id" in m && !served.has(m.method));
    expect(beyond.length).toBeGreaterThan(0);

    // Codex's answer to a method it does not know: the shape every one of ours must have.
    const reference = new NdjsonPeer(referenceCodexBinary(CODEX_VERSION), ["app-server"], serverEnv(path.join(dir.dir, "reference-home"), { RUST_LOG: "error" }));
    mkdirSync(path.join(dir.dir, "reference-home"), { recursive: true });
    reference.send({ id: 0, method: "initialize", params: { clientInfo: { name: "codex-acp", version: CODEX_ACP_VERSION } } }, { id: 1, method: "codex-auth/unknown" });
    const unknown = (await reference.response(1, 60_000)).error as { code: number; message: string };
    await reference.close();
    expect(unknown.message).toMatch(/^Invalid request: unknown variant `codex-auth\/unknown`, expected one of `/);

    for (const frame of beyond) {
      const answer = wire("out").find((m) => m.id === frame.id && !("method" in m))!;
      expect(answer.result).toBeUndefined();
      const error = answer.error as { code: number; message: string };
      expect(error.code).toBe(unknown.code);
      expect(error.message).toMatch(new RegExp(`^Invalid request: unknown variant \`${escape(frame.method as string)}\`, expected one of (\`[^\`]+\`, )*\`[^\`]+\`$`));
    }
    expect(await request("logout", {})).toEqual({});
    expect(await status()).toEqual({ type: "unauthenticated" });
  });

  it("`codex-acp login` (its CLI): ChatGPT in the stand-in browser, exit 0; then, already signed in, exit 0 at once", async () => {
    dev.setNextAccount({ email: "cli@example.com", accountId: "acct-cli", planType: "team" });
    const run = async () => {
      const child = spawn(process.execPath, [acpEntry, "login"], { env: acpEnv, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.setEncoding("utf8").on("data", (text: string) => (output += text));
      child.stderr.setEncoding("utf8").on("data", (text: string) => (output += text));
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      clearTimeout(timer);
      return { code, output };
    };
    const first = await run();
    expect(first.code, first.output).toBe(0);
    const stored = JSON.parse(readFileSync(authJson(), "utf8")) as { auth_mode?: string; tokens?: { account_id?: string } };
    expect(stored.tokens?.account_id).toBe("acct-cli");
    const visits = await browserVisits(dir.dir, (lines) => lines.at(-1)?.startsWith("followed to ") === true);
    expect(visits.at(-1)).toMatch(/^followed to http:\/\/(localhost|127\.0\.0\.1):\d+\/success status 200$/);
    const again = await run();
    expect(again.code, again.output).toBe(0);
    expect(readFileSync(path.join(dir.dir, "browser.log"), "utf8").trim().split("\n")).toHaveLength(visits.length);
    // The editor's codex-acp sees the sign-in made by another process.
    expect(await status()).toEqual({ type: "chat-gpt", email: "cli@example.com" });
    expect(await request("logout", {})).toEqual({});
    expect(await status()).toEqual({ type: "unauthenticated" });
  });

  it("kept the wire clean: one answer per request, no jsonrpc field, nothing ambiguous", () => {
    // The editor's codex-acp and the two `codex-acp login` runs each started one app-server.
    expect(servers()).toHaveLength(3);
    for (const pid of servers()) {
      const requests = wire("in", pid).filter((m) => "id" in m && "method" in m);
      const answers = wire("out", pid).filter((m) => "id" in m && !("method" in m));
      expect(requests.length).toBeGreaterThan(0);
      for (const sent of requests) expect([sent.method, answers.filter((a) => a.id === sent.id).length]).toEqual([sent.method, 1]);
      expect(answers).toHaveLength(requests.length);
      for (const frame of wire("out", pid)) {
        expect(frame).not.toHaveProperty("jsonrpc");
        expect("result" in frame && "error" in frame).toBe(false);
      }
    }
    expect(acpStderr).not.toContain(API_KEY);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** The stand-in browser's log (URLs it opened, where it landed), once `ready` says it is complete. */
async function browserVisits(root: string, ready: (lines: string[]) => boolean): Promise<string[]> {
  const log = path.join(root, "browser.log");
  const read = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);
  await until(() => ready(read()), "the stand-in browser's log");
  return read();
}

/** `bin/codex` (codex-auth, recording the wire) and `bin/xdg-open` (the stand-in browser). */
function writeShims(root: string, bin: string): void {
  const { command, args } = appServerArgv();
  const main = args[0]!;
  writeFileSync(
    path.join(root, "codex-shim.mjs"),
    `import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
const child = spawn(${JSON.stringify(command)}, [${JSON.stringify(main)}, ...process.argv.slice(2)], { stdio: ["pipe", "pipe", "inherit"] });
appendFileSync(${JSON.stringify(path.join(root, "wire-pids"))}, process.pid + "\\n");
const wire = (direction) => ${JSON.stringify(root)} + "/wire-" + process.pid + "-" + direction + ".ndjson";
process.stdin.on("data", (chunk) => { appendFileSync(wire("in"), chunk); child.stdin.write(chunk); });
process.stdin.on("end", () => child.stdin.end());
child.stdout.on("data", (chunk) => { appendFileSync(wire("out"), chunk); process.stdout.write(chunk); });
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const name of ["SIGTERM", "SIGINT"]) process.on(name, () => child.kill(name));
`,
  );
  writeFileSync(
    path.join(root, "browser.mjs"),
    `import { appendFileSync } from "node:fs";
const log = ${JSON.stringify(path.join(root, "browser.log"))};
const url = new URL(process.argv[2]);
appendFileSync(log, url.origin + url.pathname + "\\n");
const response = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(30000) });
await response.text();
const landed = new URL(response.url);
appendFileSync(log, "followed to " + landed.origin + landed.pathname + " status " + response.status + "\\n");
`,
  );
  const launcher = (script: string) => `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(root, script))} "$@"\n`;
  writeFileSync(path.join(bin, "codex"), launcher("codex-shim.mjs"));
  writeFileSync(path.join(bin, "xdg-open"), launcher("browser.mjs"));
  chmodSync(path.join(bin, "codex"), 0o755);
  chmodSync(path.join(bin, "xdg-open"), 0o755);
}
