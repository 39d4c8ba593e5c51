import { PassThrough, Readable } from "node:stream";
import { runCli } from "../../src/cli/run.js";
import { cleanEnv, type CliResult } from "./cli-process.js";
import type { CapturedStreams } from "./secrets.js";

/**
 * `codex-auth <args>` in this process: `runCli`, the function the shipped bin calls with
 * process.argv, its environment and its streams (src/cli/main.ts), here with real files and real
 * HTTP but no Node start-up. For matrices of one command over many inputs (faults, stored files),
 * where a process per case only repeats the start-up; each such file keeps real-process runs of
 * the same command for the wiring (argv, exit code, streams of the bundled bin).
 *
 * The environment is the child's (`cleanEnv`); deadlines read from process.env keep their
 * defaults. Both streams go into `captured` (when given) for the file's secret scan.
 */
export async function runCliInProcess(
  args: readonly string[],
  run: { env?: Record<string, string | undefined>; stdin?: string; captured?: CapturedStreams } = {},
): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const out = new PassThrough().setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  const err = new PassThrough().setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const code = await runCli(args, {
    env: cleanEnv(run.env),
    stdin: Readable.from(run.stdin === undefined ? [] : [Buffer.from(run.stdin, "utf8")]),
    stdout: out,
    stderr: err,
  });
  // Everything written has arrived once each stream has ended.
  await Promise.all([out, err].map((stream) => new Promise((resolve) => stream.on("end", resolve).end())));
  const label = `codex-auth ${args.join(" ")} (in process)`;
  run.captured?.add(`${label} stdout`, stdout);
  run.captured?.add(`${label} stderr`, stderr);
  return { code, stdout, stderr };
}
