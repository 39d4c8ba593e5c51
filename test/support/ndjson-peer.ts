import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

/**
 * Any app-server process (ours from dist/, or the reference Codex binary) driven line by line, as
 * a real client drives it: frames are written as given, every stdout line is kept in order.
 */
export class NdjsonPeer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderr = "";
  #waiters: Array<() => void> = [];

  constructor(command: string, args: readonly string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdin.on("error", () => {});
    let partial = "";
    this.child.stdout.setEncoding("utf8").on("data", (text: string) => {
      partial += text;
      let newline: number;
      while ((newline = partial.indexOf("\n")) >= 0) {
        this.lines.push(partial.slice(0, newline));
        partial = partial.slice(newline + 1);
      }
      this.#wake();
    });
    this.child.stderr.setEncoding("utf8").on("data", (text: string) => (this.#stderr += text));
    this.exited = new Promise((resolve) => this.child.on("close", (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.#wake());
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Every stdout line so far, parsed. */
  messages(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Writes frames (objects are serialized, strings sent as they are), each followed by a newline, in one write. */
  send(...frames: unknown[]): void {
    this.child.stdin.write(frames.map((frame) => `${typeof frame === "string" ? frame : JSON.stringify(frame)}\n`).join(""));
  }

  /** Waits for the first message (from the start of the output) that matches. */
  async waitFor(match: (message: Record<string, unknown>) => boolean, what: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages().find(match);
      if (found) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`exited before ${what}; stderr:\n${this.#stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; stderr:\n${this.#stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The response to request `id`. */
  response(id: number | string, timeoutMs?: number): Promise<Record<string, unknown>> {
    return this.waitFor((m) => m.id === id && !("method" in m), `response to ${JSON.stringify(id)}`, timeoutMs);
  }

  /** Closes stdin and waits for the exit (killed after 15 s). */
  async close(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

/** The environment for a server under test: the runner's own credentials removed, CODEX_HOME set. */
export function serverEnv(codexHome: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CODEX_HOME: codexHome };
  for (const name of ["CODEX_API_KEY", "OPENAI_API_KEY", "CODEX_ACCESS_TOKEN", "CODEX_AUTHAPI_BASE_URL"]) delete env[name];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}
