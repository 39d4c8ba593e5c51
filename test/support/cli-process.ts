import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

import { CLI, ROOT, waitForBuild } from "./build.js";
import { tempDir as makeTempDir } from "./helpers.js";
import { PATIENT_DEADLINES } from "./deadlines.js";

/**
 * Runs the shipped CLI (`node dist/bin/codex-auth.cjs`, package.json `bin`) as a real child
 * process. `npm test` builds first; run `npm run build` before running these files alone.
 */
export { CLI, ROOT };

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  /** Piped to stdin then closed; "tty" runs the CLI under `script` so stdin is a terminal; undefined: empty stdin. */
  stdin?: string | "tty";
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/**
 * The environment a CLI test starts from: no credentials or endpoints of the machine running the
 * tests, and patient deadlines (a test about a deadline passes its own in `extra`).
 */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...PATIENT_DEADLINES };
  for (const name of ["CODEX_HOME", "CODEX_API_KEY", "OPENAI_API_KEY", "CODEX_ACCESS_TOKEN", "CODEX_AUTHAPI_BASE_URL"]) delete env[name];
  // The CLI under test talks only to servers on 127.0.0.1 over plain HTTP; a CA bundle set for the
  // machine (NODE_EXTRA_CA_CERTS) would be parsed at each child's start for nothing (half its CPU).
  delete env.NODE_EXTRA_CA_CERTS;
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

export function runCodexAuth(args: readonly string[], run: CliRun = {}): Promise<CliResult> {
  waitForBuild();
  const env = cleanEnv(run.env);
  if (run.stdin === "tty") {
    // util-linux `script` gives the child a pseudo-terminal; its own stdin is /dev/null here.
    const command = [process.execPath, CLI, ...args].map(shellQuote).join(" ");
    return collect(spawn("script", ["-qec", command, "/dev/null"], { env, cwd: run.cwd ?? ROOT, stdio: ["ignore", "pipe", "pipe"] }), undefined);
  }
  const child = spawn(process.execPath, [CLI, ...args], { env, cwd: run.cwd ?? ROOT, stdio: ["pipe", "pipe", "pipe"] });
  return collect(child, run.stdin ?? "");
}

function collect(child: ReturnType<typeof spawn>, input: string | undefined): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) child.stdin?.end(input);
  });
}

export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Moved to ./helpers.ts; re-exported here for the files that import it from this module. */
export type { TempDir } from "./helpers.js";
export const tempDir = (prefix = "codex-auth-cli-") => makeTempDir(prefix);

/** Whether a command exists on PATH (for `script` and `keyctl`). */
export function hasCommand(name: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, name)));
}
