import { spawn, type ChildProcess } from "node:child_process";
import { appServerArgv } from "./app-server-process.js";
import { CLI, cleanEnv, ROOT } from "./cli-process.js";
import { TEST_WAIT_MS } from "./helpers.js";

/**
 * A long-running `codex-auth` child (browser or device-code login) whose output is read while it
 * runs: wait for a line, act (open the URL, approve the code), then wait for the exit.
 */
export interface CliSession {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in the stream; rejects if the process exits first or after `timeoutMs`. */
  waitFor(stream: "stdout" | "stderr", pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The exit code, once the process is gone (killed after `timeoutMs`). */
  exit(timeoutMs?: number): Promise<number | null>;
}

export function startCodexAuth(args: readonly string[], env: Record<string, string | undefined>): CliSession {
  // Waits while a concurrent `npm run build` recreates dist/ (shared checkouts).
  appServerArgv();
  const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(env), cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const text = { stdout: "", stderr: "" };
  const listeners = new Set<() => void>();
  const wake = () => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    text.stdout += chunk;
    wake();
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    text.stderr += chunk;
    wake();
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
    wake();
  });

  return {
    child,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    waitFor(stream, pattern, timeoutMs = TEST_WAIT_MS) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = text[stream].match(pattern);
          if (match) return finish(() => resolve(match));
          if (done) return finish(() => reject(new Error(`exited before ${pattern} appeared on ${stream}; stderr:\n${text.stderr}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`${pattern} did not appear on ${stream} within ${timeoutMs} ms; stderr:\n${text.stderr}`))), timeoutMs);
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async exit(timeoutMs = TEST_WAIT_MS) {
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
