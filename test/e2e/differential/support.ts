import { afterAll, beforeAll, describe, expect } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { AuthDotJson } from "../../../generated/storage/auth-json.js";
import { startDevServer, type DevServer } from "../../../src/dev-server/index.js";
import { appServerArgv } from "../../support/app-server-process.js";
import { CLI, cleanEnv, ROOT, tempDir, type TempDir } from "../../support/cli-process.js";
import { referenceCodexBinary } from "../../support/codex-reference.js";
import { describeIf, secretService } from "../../support/requirements.js";
import { startSecretService, withoutSecretService, type SecretService } from "../../support/secret-service.js";

/**
 * The differential harness: the same commands run by codex-auth (the compiled CLI) and by the
 * real, pinned Codex binary, both pointed at one in-process dev-server and sharing a CODEX_HOME
 * and (where the cell says so) a private Secret Service.
 */

export type Tool = "codex-auth" | "codex";
export const TOOLS: readonly Tool[] = ["codex-auth", "codex"];
export const other = (tool: Tool): Tool => (tool === "codex" ? "codex-auth" : "codex");

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * How long one cell (a test) may take (`CODEX_AUTH_TEST_CELL_MS`, default 180 s): a cell runs up to
 * eight processes, several cells at once, on a machine that may be busy.
 */
export const CELL_MS = Number(process.env.CODEX_AUTH_TEST_CELL_MS ?? 180_000);

/** Each process gets this long (`CODEX_AUTH_TEST_PROCESS_MS`, default 30 s) before it is killed. */
const PROCESS_MS = Number(process.env.CODEX_AUTH_TEST_PROCESS_MS ?? 30_000);

// Codex warns about its helper binaries whenever CODEX_HOME is under the temp folder; that line
// has nothing to do with logins, so it is left out of every comparison.
const CODEX_TEMP_HOME_WARNING = /^WARNING: proceeding, even though we could not create PATH aliases:.*\n?/gm;

function argv(tool: Tool, args: readonly string[]): { command: string; args: string[] } {
  if (tool === "codex") return { command: referenceCodexBinary(), args: [...args] };
  appServerArgv(); // waits while a concurrent build recreates dist/
  return { command: process.execPath, args: [CLI, ...args] };
}

/** Runs one command of `tool` to completion. */
export function runTool(tool: Tool, args: readonly string[], options: { stdin?: string; env: Record<string, string | undefined> }): Promise<Result> {
  const { command, args: fullArgs } = argv(tool, args);
  const child = spawn(command, fullArgs, { env: cleanEnv(options.env), cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), PROCESS_MS);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: stderr.replace(CODEX_TEMP_HOME_WARNING, "") });
    });
    child.stdin.end(options.stdin ?? "");
  });
}

/** Where the credential lives in a cell: the config value, and whether a Secret Service runs. */
export interface StoreCase {
  readonly name: string;
  readonly config: "file" | "keyring" | "auto";
  readonly secretService: boolean;
}

export const STORES: readonly StoreCase[] = [
  { name: "file", config: "file", secretService: false },
  { name: "keyring, Secret Service", config: "keyring", secretService: true },
  { name: "keyring, no Secret Service", config: "keyring", secretService: false },
  { name: "auto, Secret Service", config: "auto", secretService: true },
  { name: "auto, no Secret Service", config: "auto", secretService: false },
];

/**
 * One concurrent suite per store, `store: <name>`. The stores with a Secret Service need Debian's
 * dbus-daemon, dbus-bin and gnome-keyring: without them those suites are skipped and named at the
 * end of the run (under CI they fail), and the others still run (test/support/requirements.ts).
 */
export function describeEachStore(body: (store: StoreCase) => void): void {
  for (const store of STORES) {
    const name = `store: ${store.name}`;
    if (store.secretService) describeIf(secretService(), name, () => body(store), { concurrent: true });
    else describe.concurrent(name, () => body(store));
  }
}

/**
 * Routes Codex's app-server calls that are not part of the login system; the dev-server answers 404.
 * Its plugin calls vary with the version and with how long the server lives (0.171.0 also asks for
 * `ps/plugins/tooling-state/…` and `ps/plugins/suggested/…` in the background), so the whole
 * plugins prefix is left out.
 */
const outsideLogin = (route: string) => route.startsWith("/backend-api/ps/plugins/") || route === "/backend-api/wham/rate-limit-reset-credits";

/** Codex's text (and ours) when there is no Secret Service. */
export const NO_SECRET_SERVICE = "Platform secure storage failure: no secret service provider or dbus session found";

/**
 * The shared world of one test file: the dev-server, a Secret Service, and a fresh CODEX_HOME per
 * cell. `env(store, home)` and `config(store)` give what both tools are run with.
 */
export class Bench {
  private homes: TempDir[] = [];

  private constructor(
    readonly dev: DevServer,
    private readonly secretService: SecretService | null,
  ) {}

  /** `secretService`: start one when the machine has it (the suites needing it are skipped otherwise). */
  static async start(options: { secretService: boolean }): Promise<Bench> {
    const dev = await startDevServer();
    // Device codes are approved at the first poll, which comes at once.
    dev.setDeviceCodeSettings({ interval: "0", autoApproveAfterPolls: 0 });
    dev.setAuthorizeMode("approve");
    let service: SecretService | null = null;
    try {
      if (options.secretService && secretService().available) service = await startSecretService();
    } catch (error) {
      await dev.close();
      throw error;
    }
    return new Bench(dev, service);
  }

  async close(): Promise<void> {
    for (const home of this.homes.splice(0)) home.remove();
    await this.secretService?.close();
    await this.dev.close();
  }

  /**
   * Requests of either tool the dev-server does not know (404), leaving out the two routes Codex's
   * app-server calls outside the login system (src/dev-server/README.md). Empty means both tools
   * ran their logins, refreshes and status checks fully offline against it.
   */
  unknownRequests(): string[] {
    return this.dev.requests
      .filter((request) => request.status === 404 && !outsideLogin(request.path))
      .map((request) => `${request.method} ${request.path}`);
  }

  /** A fresh CODEX_HOME (so a fresh keyring entry too: its account is the hash of the path). */
  home(): string {
    const home = tempDir("codex-auth-differential-");
    this.homes.push(home);
    return home.dir;
  }

  env(store: StoreCase, home: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    // Both tools only talk to the dev-server (plain HTTP on 127.0.0.1); NODE_EXTRA_CA_CERTS, where a
    // machine sets it, makes every Node start parse a CA bundle (twice the CPU of `login status`).
    const base: Record<string, string | undefined> = { ...this.dev.env(), CODEX_HOME: home, CODEX_AUTH_NO_BROWSER: "1", NO_COLOR: "1", NODE_EXTRA_CA_CERTS: undefined, ...extra };
    if (!store.secretService) return withoutSecretService(base);
    if (this.secretService === null) throw new Error("this bench was started without a Secret Service");
    return { ...base, ...this.secretService.env };
  }

  /** `-c` overrides both tools get: the store and the dev-server's backend. */
  config(store: StoreCase, more: readonly string[] = []): string[] {
    return [...this.dev.configOverrides(), "-c", `cli_auth_credentials_store=${store.config}`, ...more.flatMap((pair) => ["-c", pair])];
  }
}

export function readAuthFile(home: string): AuthDotJson | null {
  const file = path.join(home, "auth.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as AuthDotJson) : null;
}

/** The line a tool printed last (its verdict), for comparing failures of the same kind. */
export function lastLine(text: string): string {
  return text.trimEnd().split("\n").at(-1) ?? "";
}

/** A failure line cut after Codex's keyring text (Codex repeats its cause chain after it). */
export function keyringFailure(text: string): string | null {
  const line = lastLine(text);
  const at = line.indexOf(NO_SECRET_SERVICE);
  return at < 0 ? null : line.slice(0, at + NO_SECRET_SERVICE.length);
}

export type Credential = "apiKey" | "personalAccessToken" | "deviceCode" | "browser";

/** A made-up API key (never sent anywhere: API-key logins are not checked at login). */
export const API_KEY = "sk-proj-differential-0123456789-ABCDE";
/** The dev-server's public demo PAT (src/dev-server/README.md), whoami: demo@example.com, acct-demo. */
export const DEMO_PAT = "at-demo-valid";

/** What `login status` prints (stderr, exit 0) for each credential, in both tools. */
export const STATUS_LINES: Record<Credential, string> = {
  apiKey: "API key configured - sk-proj-***ABCDE\nAuthentication is checked when you send a request.\n",
  personalAccessToken: "Logged in using personal access token\n",
  deviceCode: "Logged in using ChatGPT\n",
  browser: "Logged in using ChatGPT\n",
};

/** Logs `tool` in with `credential`; a browser login is driven to the end by following its URL. */
export async function login(bench: Bench, tool: Tool, credential: Credential, store: StoreCase, home: string, more: readonly string[] = []): Promise<Result> {
  const env = bench.env(store, home);
  const config = bench.config(store, more);
  switch (credential) {
    case "apiKey":
      return runTool(tool, [...config, "login", "--with-api-key"], { stdin: API_KEY, env });
    case "personalAccessToken":
      return runTool(tool, [...config, "login", "--with-access-token"], { stdin: DEMO_PAT, env });
    case "deviceCode":
      return runTool(tool, [...config, "login", "--device-auth", "--experimental_issuer", bench.dev.issuerUrl], { env });
    case "browser":
      return tool === "codex" ? codexBrowserLogin(bench, config, env) : codexAuthBrowserLogin(bench, config, env);
  }
}

export const status = (bench: Bench, tool: Tool, store: StoreCase, home: string, more: readonly string[] = []) =>
  runTool(tool, [...bench.config(store, more), "login", "status"], { env: bench.env(store, home) });

export const logout = (bench: Bench, tool: Tool, store: StoreCase, home: string) =>
  runTool(tool, [...bench.config(store), "logout"], { env: bench.env(store, home) });

/**
 * codex-auth's browser login: the CLI prints the authorize URL; a stand-in browser follows it
 * with fetch (the dev issuer approves at once and redirects to the callback server, which
 * redirects to its success page).
 */
async function codexAuthBrowserLogin(bench: Bench, config: string[], env: Record<string, string | undefined>): Promise<Result> {
  const { command, args } = argv("codex-auth", [...config, "login", "--experimental_issuer", bench.dev.issuerUrl]);
  const child = spawn(command, args, { env: cleanEnv({ ...env, CODEX_AUTH_LOGIN_PORT: "0" }), cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const result = collectChild(child);
  const url = await firstMatch(child.stderr!, /(http:\/\/\S+\/oauth\/authorize\?\S+)/);
  if (url !== null) await followAuthorizeUrl(url);
  return result;
}

/**
 * Codex's browser login, offline: its CLI always sends the browser to auth.openai.com, so it runs
 * through Codex's app-server, which honours `CODEX_APP_SERVER_LOGIN_ISSUER` (and listens on 1455).
 * The result is shaped like a CLI run: exit 0 on `account/login/completed {success: true}`.
 */
let codexLoginPort: Promise<unknown> = Promise.resolve();

/** Codex's login server always takes port 1455: its browser logins in this process run one at a time. */
function codexBrowserLogin(bench: Bench, config: string[], env: Record<string, string | undefined>): Promise<Result> {
  const turn = codexLoginPort.then(() => codexBrowserLoginAlone(bench, config, env));
  codexLoginPort = turn.catch(() => undefined);
  return turn;
}

async function codexBrowserLoginAlone(bench: Bench, config: string[], env: Record<string, string | undefined>): Promise<Result> {
  const server = startAppServer("codex", config, { ...env, CODEX_APP_SERVER_LOGIN_ISSUER: bench.dev.issuerUrl });
  try {
    const started = await server.request("account/login/start", { type: "chatgpt" });
    const authUrl = (started.result as { authUrl?: string } | undefined)?.authUrl;
    if (!authUrl) return { code: 1, stdout: "", stderr: `account/login/start failed: ${JSON.stringify(started.error)}\n` };
    await followAuthorizeUrl(authUrl);
    const completed = await server.notification("account/login/completed");
    const params = completed.params as { success: boolean; error: string | null };
    // The login's account/updated follows; after it the credential is on disk or in the keyring.
    if (params.success) await server.notification("account/updated");
    return { code: params.success ? 0 : 1, stdout: "", stderr: params.success ? "" : `${params.error}\n` };
  } finally {
    await server.close();
  }
}

export interface AppServerSession {
  /** Sends a request (after `initialize`) and waits for its response. */
  request(method: string, params?: unknown): Promise<Message>;
  notification(method: string): Promise<Message>;
  /** Closes stdin and waits for the exit. */
  close(): Promise<Result>;
}

/** `<tool> app-server`, initialized, driven one request at a time. */
export function startAppServer(tool: Tool, config: readonly string[], env: Record<string, string | undefined>): AppServerSession {
  const { command, args } = argv(tool, [...config, "app-server"]);
  const child = spawn(command, args, { env: cleanEnv(env), cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  const exited = collectChild(child);
  const messages = jsonLines(child.stdout!);
  let nextId = 1;
  const call = async (method: string, params: unknown): Promise<Message> => {
    const id = nextId++;
    child.stdin!.write(`${JSON.stringify({ id, method, params })}\n`);
    return messages.next((message) => message.id === id);
  };
  const initialized = call("initialize", { clientInfo: { name: "codex-auth-differential", version: "1.0.0" } }).then(() => {
    child.stdin!.write(`${JSON.stringify({ method: "initialized" })}\n`);
  });
  return {
    async request(method, params = {}) {
      await initialized;
      return call(method, params);
    },
    notification: (method) => messages.next((message) => message.method === method),
    async close() {
      child.stdin!.end();
      return exited;
    },
  };
}

/** The stand-in browser: follows every redirect (issuer → callback → success page). */
async function followAuthorizeUrl(url: string): Promise<void> {
  const response = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(PROCESS_MS) });
  await response.text();
}

function collectChild(child: ReturnType<typeof spawn>): Promise<Result> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), PROCESS_MS);
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: stderr.replace(CODEX_TEMP_HOME_WARNING, "") });
    });
  });
}

function firstMatch(stream: NodeJS.ReadableStream, pattern: RegExp): Promise<string | null> {
  return new Promise((resolve) => {
    let text = "";
    const timer = setTimeout(() => finish(null), PROCESS_MS);
    const onData = (chunk: Buffer) => {
      text += chunk.toString("utf8");
      const match = pattern.exec(text);
      if (match) finish(match[1]!);
    };
    const finish = (value: string | null) => {
      clearTimeout(timer);
      stream.off("data", onData);
      stream.off("end", onEnd);
      resolve(value);
    };
    const onEnd = () => finish(null);
    stream.on("data", onData);
    stream.on("end", onEnd);
  });
}

type Message = { id?: unknown; method?: string; params?: unknown; result?: unknown; error?: unknown };

/** Newline-delimited JSON messages from a stream, awaited by predicate (each with a deadline). */
function jsonLines(stream: NodeJS.ReadableStream): { next(match: (message: Message) => boolean): Promise<Message> } {
  const seen: Message[] = [];
  const waiters = new Set<() => void>();
  let buffer = "";
  let ended = false;
  stream.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      try {
        seen.push(JSON.parse(line) as Message);
      } catch {
        // Not a message.
      }
    }
    for (const waiter of [...waiters]) waiter();
  });
  stream.on("end", () => {
    ended = true;
    for (const waiter of [...waiters]) waiter();
  });
  return {
    next(match) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(() => reject(new Error("the app-server did not answer in time"))), PROCESS_MS);
        const check = () => {
          const index = seen.findIndex(match);
          if (index >= 0) return done(() => resolve(seen.splice(index, 1)[0]!));
          if (ended) done(() => reject(new Error("the app-server exited before answering")));
        };
        const done = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/**
 * One Bench for the enclosing describe, handed to `assign` once started. At the end it checks what
 * `checks` asks: that every dev-server answer kept the contract, and (`offline`) that neither tool
 * asked for a route the dev-server does not know.
 */
export function useBench(options: { secretService: boolean; checks: "none" | "contract" | "offline" }, assign: (bench: Bench) => void): void {
  let started: Bench | undefined;
  beforeAll(async () => {
    started = await Bench.start({ secretService: options.secretService });
    assign(started);
  }, CELL_MS);
  afterAll(async () => {
    await started?.close();
    if (options.checks === "none") return;
    expect(started!.dev.contractViolations).toEqual([]);
    // Both tools ran fully offline: nothing they asked for was unknown to the dev-server.
    if (options.checks === "offline") expect(started!.unknownRequests()).toEqual([]);
  });
}
