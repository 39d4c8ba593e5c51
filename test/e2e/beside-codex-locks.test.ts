import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync, readlinkSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from "vitest";
import type { AuthDotJson } from "../../generated/storage/auth-json.js";
import { validateAuthDotJson } from "../../generated/storage/auth-json.validators.js";
import { AUTH_JSON_LOCK_FILE, AUTH_LOCK_FILE } from "../../src/auth/store/lock-names.js";
import { startDevServer, type DevServer, type IssuedTokens } from "../../src/dev-server/index.js";
import { holdFlocks, isFlocked } from "../auth/store/fixtures/flock-holder.js";
import { spawnAppServer, type SpawnedAppServer } from "../support/app-server-process.js";
import { cleanEnv, CLI, runCodexAuth, tempDir, type CliResult, type TempDir } from "../support/cli-process.js";
import { CODEX_VERSION, referenceCodexBinary } from "../support/codex-reference.js";
import { CapturedStreams } from "../support/secrets.js";

/**
 * codex-auth beside the real Codex binary (the pinned version), one CODEX_HOME, against the dev
 * issuer (single-use refresh tokens: a reuse is refused and recorded). Both tools take the same
 * flock locks (auth.lock, then auth.json.lock), so:
 * - both refreshing one ChatGPT login at once, round after round, never spend a refresh token twice,
 *   neither reports the user logged out, and auth.json is valid after every round;
 * - a codex-auth login started while Codex holds auth.lock waits for it, then succeeds;
 * - a Codex login started while codex-auth holds the lock (our lock code, in its own process) waits
 *   for it, then succeeds.
 */
const ROUNDS = Math.max(8, Number(process.env.CODEX_AUTH_BESIDE_CODEX_ROUNDS ?? 8));
/** Every wait below has this deadline (a knob, so a loaded machine can be given more). */
const WAIT_MS = Number(process.env.CODEX_AUTH_TEST_WAIT_MS ?? 20_000);

/** Codex's app-server on stdio: newline-delimited JSON, requests matched to answers by id. */
class CodexAppServer {
  readonly child: ChildProcessWithoutNullStreams;
  stderr = "";
  stdout = "";
  #nextId = 1;
  #pending = new Map<number, { resolve: (message: Record<string, unknown>) => void }>();
  readonly exited: Promise<number | null>;

  constructor(binary: string, home: string, dev: DevServer, env: Record<string, string> = {}) {
    this.child = spawn(binary, ["-c", `chatgpt_base_url=${dev.chatgptBaseUrl}`, "app-server"], {
      env: cleanEnv({ CODEX_HOME: home, ...dev.env(), RUST_LOG: "error", ...env }),
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve(code)));
    let partial = "";
    this.child.stdout.setEncoding("utf8").on("data", (text: string) => {
      this.stdout += text;
      partial += text;
      let newline: number;
      while ((newline = partial.indexOf("\n")) >= 0) {
        const line = partial.slice(0, newline);
        partial = partial.slice(newline + 1);
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (typeof message.id === "number" && ("result" in message || "error" in message)) {
          this.#pending.get(message.id)?.resolve(message);
          this.#pending.delete(message.id);
        }
      }
    });
    this.child.stderr.setEncoding("utf8").on("data", (text: string) => (this.stderr += text));
  }

  request(method: string, params: unknown): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Codex did not answer ${method} within ${WAIT_MS} ms; stderr:\n${this.stderr}`)), WAIT_MS);
      this.#pending.set(id, {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      });
    });
    this.child.stdin.write(`${JSON.stringify({ id, method, params })}\n`);
    return answer;
  }

  async initialize(): Promise<void> {
    const answer = await this.request("initialize", { clientInfo: { name: "beside-codex-locks", version: "1.0.0" } });
    expect(answer.error, JSON.stringify(answer.error)).toBeUndefined();
    this.child.stdin.write(`${JSON.stringify({ method: "initialized" })}\n`);
  }

  async close(): Promise<number | null> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), WAIT_MS);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Runs the real Codex CLI to the end. */
function runCodex(args: string[], home: string, dev: DevServer, stdin = ""): { pid: number; done: Promise<CliResult> } {
  const child = spawn(referenceCodexBinary(), args, { env: cleanEnv({ CODEX_HOME: home, ...dev.env(), RUST_LOG: "error" }), stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  child.stdin.end(stdin);
  return { pid: child.pid!, done: new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr }))) };
}

/** Polls `condition` until it holds or the deadline passes (then fails, naming `what`). */
async function waitFor(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Whether process `pid` has `file` open (Linux /proc): it reached the lock and is waiting on it. */
function hasOpen(pid: number, file: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** Whether `pid` is queued in /proc/locks behind another holder of an flock ("-> FLOCK ... WRITE <pid> ..."). */
function isBlockedOnFlock(pid: number, file: string): boolean {
  const inode = statSync(file).ino;
  return readFileSync("/proc/locks", "utf8")
    .split("\n")
    .some((line) => /->\s+FLOCK/.test(line) && line.includes(` ${pid} `) && line.includes(`:${inode} `));
}

/**
 * A pass-through for the refresh endpoint in front of the dev issuer that records the status of
 * each answer: Codex's refresh requests go through it, codex-auth's go straight to the issuer, so a
 * refused request can be told apart by who sent it.
 */
async function startRefreshRecorder(target: string): Promise<{ url: string; statuses: number[]; close(): Promise<void> }> {
  const statuses: number[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      try {
        const answer = await fetch(`${target}${request.url}`, {
          method: request.method ?? "POST",
          headers: { "content-type": request.headers["content-type"] ?? "application/json" },
          body: Buffer.concat(chunks),
        });
        statuses.push(answer.status);
        response.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
        response.end(Buffer.from(await answer.arrayBuffer()));
      } catch {
        response.writeHead(502).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, statuses, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A process holding the auth.json lock with codex-auth's own lock code (dist), until its stdin closes. */
const OUR_LOCK_HOLDER = `
const { withAuthLock } = await import(process.argv[2]);
await withAuthLock(process.argv[1], async () => {
  process.stdout.write("held\\n");
  await new Promise((resolve) => { process.stdin.resume(); process.stdin.on("end", resolve); });
});
`;

describe(`beside the real Codex (${process.env.CODEX_REFERENCE_BIN ? path.basename(process.env.CODEX_REFERENCE_BIN) : CODEX_VERSION}): one CODEX_HOME, one lock`, () => {
  let dev: DevServer;
  let home: TempDir;
  const captured = new CapturedStreams();
  const secrets = new Set<string>();

  beforeAll(async () => {
    dev = await startDevServer();
  });
  afterAll(async () => {
    await dev?.close();
    captured.assertNoSecrets([...secrets]);
  });
  beforeEach(() => {
    home = tempDir("codex-auth-beside-codex-");
  });
  afterEach(() => home.remove());

  const authFile = () => path.join(home.dir, "auth.json");
  const readAuth = () => JSON.parse(readFileSync(authFile(), "utf8")) as AuthDotJson;
  const refreshRequests = () => dev.requests.filter((request) => request.path === "/oauth/token" && request.grantType === "refresh_token");

  function storeChatgpt(tokens: IssuedTokens): void {
    for (const token of [tokens.idToken, tokens.accessToken, tokens.refreshToken]) secrets.add(token);
    const auth: AuthDotJson = {
      auth_mode: "chatgpt",
      OPENAI_API_KEY: null,
      tokens: { id_token: tokens.idToken, access_token: tokens.accessToken, refresh_token: tokens.refreshToken, account_id: tokens.account.accountId },
      last_refresh: new Date().toISOString(),
    };
    writeFileSync(authFile(), JSON.stringify(auth, null, 2), { mode: 0o600 });
  }

  /** auth.json is a valid ChatGPT login whose access token the backend accepts. */
  async function expectValidLogin(round: number): Promise<void> {
    const text = readFileSync(authFile(), "utf8");
    const auth = JSON.parse(text) as AuthDotJson;
    expect(validateAuthDotJson(auth), `round ${round}: auth.json matches its schema`).toBe(true);
    expect(auth.tokens, `round ${round}: tokens present`).toBeDefined();
    for (const token of [auth.tokens!.id_token, auth.tokens!.access_token, auth.tokens!.refresh_token]) secrets.add(token);
    const usage = await fetch(`${dev.chatgptBaseUrl}wham/usage`, { headers: { authorization: `Bearer ${auth.tokens!.access_token}` } });
    expect(usage.status, `round ${round}: the stored access token is accepted`).toBe(200);
  }

  type Round = { ourRequests: number; ourRefused: number; codexRequests: number; codexRefused: number; ours: string; codex: string };

  /** Rounds of both refreshing at once: who sent what, who was refused, what each then reports; auth.json checked after each. */
  async function refreshRounds(refreshOurs: () => Promise<string>, refreshOther: () => Promise<string>, otherStatuses: readonly number[]): Promise<Round[]> {
    const rounds: Round[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const [allStart, otherStart] = [refreshRequests().length, otherStatuses.length];
      const [ours, codex] = await Promise.all([refreshOurs(), refreshOther()]);
      const all = refreshRequests().slice(allStart);
      const otherSent = otherStatuses.slice(otherStart);
      const allRefused = all.filter((request) => request.status !== 200).length;
      const otherRefused = otherSent.filter((status) => status !== 200).length;
      rounds.push({
        ourRequests: all.length - otherSent.length,
        ourRefused: allRefused - otherRefused,
        codexRequests: otherSent.length,
        codexRefused: otherRefused,
        ours,
        codex,
      });
      await expectValidLogin(round);
    }
    return rounds;
  }

  const ourAccount = (server: SpawnedAppServer) => () =>
    server.client.request("account/read", { refreshToken: true }).then(
      (result) => (result.account?.type === "chatgpt" ? "chatgpt" : `logged out: ${JSON.stringify(result.account)}`),
      (error: unknown) => `error: ${(error as Error).message}`,
    );
  /**
   * Codex refreshes on demand with `getAuthStatus {refreshToken: true}` and reports the auth method
   * it then holds (null: logged out). (`account/read` would also run Codex's workspace-routing
   * discovery, which the dev-server does not emulate yet.)
   */
  const codexAuthStatus = (codex: CodexAppServer) => async () => {
    const status = await codex.request("getAuthStatus", { includeToken: false, refreshToken: true });
    return status.error !== undefined ? `error: ${JSON.stringify(status.error)}` : String((status.result as { authMethod: unknown }).authMethod);
  };

  function startOurs(): SpawnedAppServer {
    return spawnAppServer({ env: { ...dev.env(), CODEX_HOME: home.dir }, config: [`chatgpt_base_url=${dev.chatgptBaseUrl}`] });
  }

  it(`codex-auth beside codex-auth, ${ROUNDS} rounds of refreshing at once: no refresh token is ever spent twice (the guarded refresh runs under the flock)`, async () => {
    storeChatgpt(dev.issueTokens());
    const [a, b] = [startOurs(), startOurs()];
    try {
      for (const server of [a, b]) await server.client.initialize({ clientInfo: { name: "beside-codex-locks", version: "1.0.0" } });
      const rounds = await refreshRounds(ourAccount(a), ourAccount(b), []);
      const summary = JSON.stringify(rounds);
      expect(rounds.map((round) => round.ourRefused), summary).toEqual(rounds.map(() => 0));
      expect(rounds.map((round) => [round.ours, round.codex]), summary).toEqual(rounds.map(() => ["chatgpt", "chatgpt"]));
      // Both processes asked every round; at most one request each, and whoever came second under the
      // lock either adopted the first one's tokens or (starting after its write) refreshed those.
      expect(rounds.every((round) => round.ourRequests >= 1 && round.ourRequests <= 2), summary).toBe(true);
    } finally {
      for (const server of [a, b]) {
        captured.add("ours stderr", server.stderr());
        expect(await server.close()).toEqual({ code: 0, signal: null });
      }
    }
  }, 120_000);

  it(`codex-auth beside Codex, ${ROUNDS} rounds of refreshing at once: nobody is logged out, auth.json is valid and working after every round, codex-auth never reports a refusal`, async () => {
    storeChatgpt(dev.issueTokens());
    const recorder = await startRefreshRecorder(dev.url);
    const ours = startOurs();
    const codex = new CodexAppServer(referenceCodexBinary(), home.dir, dev, { CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${recorder.url}/oauth/token` });
    try {
      await ours.client.initialize({ clientInfo: { name: "beside-codex-locks", version: "1.0.0" } });
      await codex.initialize();
      const rounds = await refreshRounds(ourAccount(ours), codexAuthStatus(codex), recorder.statuses);
      const summary = JSON.stringify(rounds);
      // The user stays logged in, in both tools, every round.
      expect(rounds.map((round) => [round.ours, round.codex]), `per round: ${summary}`).toEqual(rounds.map(() => ["chatgpt", "chatgpt"]));
      // Both tools refreshed, and the chain of refresh tokens is intact at the end, for either tool.
      expect(rounds.reduce((sum, round) => sum + round.ourRequests, 0), summary).toBeGreaterThan(0);
      expect(rounds.reduce((sum, round) => sum + round.codexRequests, 0), summary).toBeGreaterThan(0);
      const status = await runCodexAuth(["login", "status"], { env: { CODEX_HOME: home.dir, ...dev.env() } });
      expect(status).toMatchObject({ code: 0, stderr: "Logged in using ChatGPT\n" });
      const fresh = new CodexAppServer(referenceCodexBinary(), home.dir, dev, { CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${recorder.url}/oauth/token` });
      try {
        await fresh.initialize();
        const before = recorder.statuses.length;
        expect(await codexAuthStatus(fresh)()).toBe("chatgpt");
        expect(recorder.statuses.slice(before), "a new Codex process refreshes the stored tokens").toEqual([200]);
      } finally {
        captured.add("codex stderr", fresh.stderr);
        expect(await fresh.close()).toBe(0);
      }
      // Codex sends its refresh request before it takes auth.lock (strace: read auth.json, POST, then
      // flock, re-read, write), so a request it sends while codex-auth holds the lock may carry a
      // token codex-auth has just spent, and when Codex's lands first ours is the one refused. Two
      // Codex processes do the same to each other. codex-auth adopts the winner's tokens once Codex
      // writes them, so it never reports a refusal. The counts go to the log (README: "Beside Codex").
      expect(ours.stderr()).not.toContain("Failed to refresh token");
      const total = (key: keyof Round) => rounds.reduce((sum, round) => sum + Number(round[key]), 0);
      console.log(
        `beside Codex, ${ROUNDS} rounds: codex-auth sent ${total("ourRequests")} refresh requests (${total("ourRefused")} refused as reused), Codex ${total("codexRequests")} (${total("codexRefused")} refused): ${summary}`,
      );
    } finally {
      captured.add("ours stderr", ours.stderr());
      captured.add("ours stdout", ours.stdout());
      captured.add("codex stderr", codex.stderr);
      captured.add("codex stdout", codex.stdout);
      expect(await ours.close()).toEqual({ code: 0, signal: null });
      expect(await codex.close()).toBe(0);
      await recorder.close();
    }
  }, 180_000);

  it("a codex-auth login started while Codex holds auth.lock waits for it, then succeeds (its write lands after Codex's)", async () => {
    // Codex takes auth.lock, then polls auth.json.lock (LOCK_NB, for up to 5 s): while another
    // process holds auth.json.lock, Codex sits holding auth.lock.
    const holder = await holdFlocks([path.join(home.dir, AUTH_JSON_LOCK_FILE)]);
    const codexKey = "sk-codex-wrote-this-key-0001";
    const ourKey = "sk-codex-auth-wrote-this-0002";
    secrets.add(codexKey).add(ourKey);
    let released = false;
    try {
      const codex = runCodex(["login", "--with-api-key"], home.dir, dev, codexKey);
      await waitFor("Codex to hold auth.lock", () => isFlocked(path.join(home.dir, AUTH_LOCK_FILE)));
      const ours = spawn(process.execPath, [CLI, "login", "--with-api-key"], { env: cleanEnv({ CODEX_HOME: home.dir }), stdio: ["pipe", "pipe", "pipe"] });
      let ourStderr = "";
      ours.stderr.setEncoding("utf8").on("data", (text: string) => (ourStderr += text));
      const ourExit = new Promise<number | null>((resolve) => ours.on("close", (code) => resolve(code)));
      ours.stdin.end(ourKey);
      await waitFor("codex-auth to open auth.lock", () => hasOpen(ours.pid!, path.join(home.dir, AUTH_LOCK_FILE)));
      // codex-auth is at the lock while Codex holds it: nothing is written yet.
      expect(() => readFileSync(authFile())).toThrow();
      expect(ours.exitCode).toBeNull();
      await holder.release();
      released = true;
      const codexResult = await codex.done;
      captured.add("codex login", codexResult.stderr);
      expect(codexResult.code, codexResult.stderr).toBe(0);
      expect(await ourExit).toBe(0);
      captured.add("codex-auth login", ourStderr);
      expect(ourStderr).toBe("Reading API key from stdin...\nAPI key saved. Authentication is checked when you send a request.\n");
      expect(readAuth()).toEqual({ auth_mode: "apikey", OPENAI_API_KEY: ourKey });
    } finally {
      if (!released) await holder.release();
    }
  }, 180_000);

  it("a Codex login started while codex-auth holds the lock waits for it (queued in /proc/locks behind us), then succeeds", async () => {
    const ourKey = "sk-codex-auth-stored-0003";
    const codexKey = "sk-codex-after-waiting-0004";
    secrets.add(ourKey).add(codexKey);
    const login = await runCodexAuth(["login", "--with-api-key"], { stdin: ourKey, env: { CODEX_HOME: home.dir } });
    expect(login.code).toBe(0);

    const holder = spawn(process.execPath, ["--input-type=module", "-e", OUR_LOCK_HOLDER, home.dir, path.resolve("dist/src/auth/store/lock.js")], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const holderExit = new Promise<number | null>((resolve) => holder.on("close", (code) => resolve(code)));
    let holderOut = "";
    holder.stdout.setEncoding("utf8").on("data", (text: string) => (holderOut += text));
    try {
      await waitFor("codex-auth to hold the lock", () => holderOut.includes("held\n"));
      const codex = runCodex(["login", "--with-api-key"], home.dir, dev, codexKey);
      await waitFor("Codex to queue on auth.lock behind codex-auth", () => isBlockedOnFlock(codex.pid, path.join(home.dir, AUTH_LOCK_FILE)));
      expect(readAuth()).toEqual({ auth_mode: "apikey", OPENAI_API_KEY: ourKey });
      holder.stdin.end();
      expect(await holderExit).toBe(0);
      const result = await codex.done;
      captured.add("codex login after waiting", result.stderr);
      expect(result.code, result.stderr).toBe(0);
      expect(readAuth()).toEqual({ auth_mode: "apikey", OPENAI_API_KEY: codexKey });
      // And codex-auth reads what Codex wrote.
      const status = await runCodexAuth(["login", "status"], { env: { CODEX_HOME: home.dir } });
      expect(status.code).toBe(0);
      expect(status.stderr).toMatch(/^API key configured - sk-codex\*\*\*-0004\n/);
    } finally {
      holder.stdin.end();
      await holderExit;
    }
  }, 180_000);
});
