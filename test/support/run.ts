import { spawn, type SpawnOptions } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a real child process to completion, capturing both streams. */
export function run(command: string, args: string[], options: SpawnOptions & { input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (options.input !== undefined) child.stdin!.end(options.input);
    else child.stdin!.end();
  });
}

/** The tsx loader by absolute URL, so scripts can run with any working directory. */
export const TSX_LOADER = pathToFileURL(path.resolve("node_modules/tsx/dist/loader.mjs")).href;

/** `tsx` script runner without npx's start-up cost. */
export function runTsx(script: string, args: string[], options: SpawnOptions = {}): Promise<RunResult> {
  return run(process.execPath, ["--import", TSX_LOADER, script, ...args], options);
}
