import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { AppServerClient, type SpawnAppServerOptions } from "../../src/client/index.js";
import { LineSplitter, parseMessage } from "../../src/protocol/index.js";

const utf8 = new TextDecoder();
import { CLI, waitForBuild } from "./build.js";
import { TEST_WAIT_MS, tempDir, type TempDir } from "./helpers.js";
import { PATIENT_DEADLINES } from "./deadlines.js";

/**
 * Spawning the real, shipped server (`node dist/bin/codex-auth.cjs app-server`) for e2e tests.
 * `npm test` builds first; run `npm run build` before running these files alone.
 */

/** The argv that starts `codex-auth app-server` from dist/, before the server's own args. */
export function appServerArgv(): { command: string; args: string[] } {
  waitForBuild();
  return { command: process.execPath, args: [CLI, "app-server"] };
}

export type TempCodexHome = TempDir;

export function tempCodexHome(): TempCodexHome {
  return tempDir("codex-auth-app-server-");
}

export interface ServerLaunch {
  /** Extra environment (CODEX_HOME is set to a fresh temp dir unless given). */
  env?: Record<string, string | undefined>;
  /** `-c key=value` pairs (without the `-c`). */
  config?: string[];
  /** Extra args after `app-server`. */
  args?: string[];
}

function launchEnv(launch: ServerLaunch, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...PATIENT_DEADLINES, CODEX_HOME: home };
  // The test runner's own credentials must not leak into the server under test.
  for (const name of ["CODEX_API_KEY", "OPENAI_API_KEY", "CODEX_ACCESS_TOKEN", "CODEX_AUTHAPI_BASE_URL"]) delete env[name];
  // Servers under test talk only to 127.0.0.1 over plain HTTP: no machine CA bundle to parse at start.
  delete env.NODE_EXTRA_CA_CERTS;
  for (const [key, value] of Object.entries(launch.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

function launchArgs(launch: ServerLaunch): { command: string; args: string[] } {
  const { command, args } = appServerArgv();
  return { command, args: [...args, ...(launch.config ?? []).flatMap((pair) => ["-c", pair]), ...(launch.args ?? [])] };
}

/** A spawned server behind the typed client, with its raw stdout and stderr recorded. */
export interface SpawnedAppServer {
  client: AppServerClient;
  home: TempCodexHome;
  /** Everything the server wrote to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Closes stdin, waits for exit, removes the temp home; returns the exit status. */
  close(): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null>;
}

export function spawnAppServer(launch: ServerLaunch = {}, clientOptions: SpawnAppServerOptions = {}): SpawnedAppServer {
  const home = tempCodexHome();
  let stderr = "";
  let stdout = "";
  const { command, args } = launchArgs(launch);
  const client = AppServerClient.spawn(command, args, {
    env: launchEnv(launch, launch.env?.CODEX_HOME ?? home.dir),
    stderr: (text) => (stderr += text),
    // The client's 5 s before killing a server that has not exited is a real deadline: patient here.
    exitGraceMs: TEST_WAIT_MS,
    ...clientOptions,
  });
  client.child!.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  return {
    client,
    home,
    stdout: () => stdout,
    stderr: () => stderr,
    async close() {
      try {
        return await client.close();
      } finally {
        home.remove();
      }
    },
  };
}

/**
 * A spawned server driven line by line, for what a typed client would never send (garbage,
 * oversized lines, wrong types) and for transcripts.
 */
export class RawAppServer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly home: TempCodexHome;
  readonly lines: string[] = [];
  #stdout = "";
  #stderr = "";
  #consumed = 0;
  /** Lines read out of order by call(); next() skips them. */
  #taken = new Set<number>();
  #waiters: Array<() => void> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(launch: ServerLaunch = {}) {
    this.home = tempCodexHome();
    const { command, args } = launchArgs(launch);
    this.child = spawn(command, args, { env: launchEnv(launch, launch.env?.CODEX_HOME ?? this.home.dir), stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdin.on("error", () => {});
    // The protocol's own codec splits the output (no cap: a test must see whatever the server wrote).
    const splitter = new LineSplitter(Number.POSITIVE_INFINITY, (line) => this.lines.push(utf8.decode(line)), () => {});
    const stdoutText = new TextDecoder();
    this.child.stdout.on("data", (chunk: Buffer) => {
      this.#stdout += stdoutText.decode(chunk, { stream: true });
      splitter.push(chunk);
      this.#wake();
    });
    this.child.stderr.setEncoding("utf8").on("data", (text: string) => (this.#stderr += text));
    this.exited = new Promise((resolve) => this.child.on("close", (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.#wake());
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Writes a message (serialized) or a raw string, followed by a newline. */
  send(message: unknown): void {
    this.child.stdin.write(`${typeof message === "string" ? message : JSON.stringify(message)}\n`);
  }

  writeRaw(text: string | Buffer): void {
    this.child.stdin.write(text);
  }

  /** The next unread output line, parsed. Fails if the server exits first. */
  async next(timeoutMs = TEST_WAIT_MS): Promise<Record<string, unknown>> {
    const line = await this.nextLine(timeoutMs);
    const parsed = parseMessage(line);
    if (parsed === null || "ignored" in parsed) throw new Error(`the server wrote a line that is not a JSON object: ${line.slice(0, 200)}`);
    return parsed.message;
  }

  async nextLine(timeoutMs = TEST_WAIT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.#consumed >= this.lines.length) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        await new Promise((resolve) => setImmediate(resolve));
        if (this.#consumed >= this.lines.length) throw new Error(`server exited (${this.child.exitCode}); stderr:\n${this.#stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no output line within ${timeoutMs} ms; stderr:\n${this.#stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const line = this.lines[this.#consumed++]!;
    return this.#taken.has(this.#consumed - 1) ? this.nextLine(Math.max(1, deadline - Date.now())) : line;
  }

  /**
   * Sends a request and returns its response. Notifications the server sends meanwhile (e.g. the
   * workspace-routing `account/updated` after `initialize`) stay unread, in order, for `next()`.
   */
  async call(message: Record<string, unknown>, timeoutMs = TEST_WAIT_MS): Promise<Record<string, unknown>> {
    this.send(message);
    const id = JSON.stringify(message.id);
    const deadline = Date.now() + timeoutMs;
    for (let scanned = this.#consumed; ; ) {
      for (; scanned < this.lines.length; scanned++) {
        if (this.#taken.has(scanned)) continue;
        const parsed = parseMessage(this.lines[scanned]!);
        const found = parsed !== null && !("ignored" in parsed) ? parsed.message : null;
        if (found === null || found.method !== undefined || JSON.stringify(found.id) !== id) continue;
        // The response is read; whatever came before it stays unread for next().
        this.#taken.add(scanned);
        return found;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response to id ${id} within ${timeoutMs} ms; stderr:\n${this.#stderr}`);
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`server exited (${this.child.exitCode}) before answering id ${id}; stderr:\n${this.#stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Closes stdin and waits for the exit. */
  async close(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), TEST_WAIT_MS);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
      this.home.remove();
    }
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

export const initializeMessage = (id: number | string = 1, capabilities?: Record<string, unknown>) => ({
  id,
  method: "initialize",
  params: { clientInfo: { name: "e2e", version: "0.0.1" }, ...(capabilities ? { capabilities } : {}) },
});
