import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * Helpers for the package tests: the packed tarball as a downstream app installs it, with the
 * tools from this repository's node_modules (tsc, esbuild, attw, publint), npm offline (from the
 * cache `npm ci` filled) and no network.
 */
export const ROOT = path.resolve(import.meta.dirname, "../..");
export const BIN = path.join(ROOT, "node_modules/.bin");
/** One knob for every wait in these tests (npm installs, compilers, the app sessions). */
export const DEADLINE_MS = Number(process.env.CODEX_AUTH_PACKAGE_TEST_DEADLINE_MS ?? 600_000);

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command (no shell) and resolves with its output; rejects only on the deadline. */
export function run(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv } = { cwd: ROOT }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      [...args],
      { cwd: options.cwd, env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", ...options.env }, timeout: DEADLINE_MS, killSignal: "SIGKILL", maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && (error as { killed?: boolean }).killed) reject(new Error(`${command} ${args.join(" ")} passed the ${DEADLINE_MS} ms deadline\n${stderr}`));
        else resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

/** Like `run`, but a non-zero exit fails with the whole output. */
export async function ok(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv } = { cwd: ROOT }): Promise<Run> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${path.basename(command)} ${args.join(" ")} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  return result;
}

export const npm = (args: readonly string[], cwd: string) => ok("npm", args, { cwd });

export function scratchDir(name: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `codex-auth-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes files (relative path → text) under `dir`. */
export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
}

/** The repository's @types/node, for consumer projects that run on Node (installing it would need the registry). */
export function linkNodeTypes(consumer: string): void {
  mkdirSync(path.join(consumer, "node_modules/@types"), { recursive: true });
  symlinkSync(path.join(ROOT, "node_modules/@types/node"), path.join(consumer, "node_modules/@types/node"), "dir");
}

export function onlyFile(dir: string, suffix: string): string {
  const found = readdirSync(dir).filter((name) => name.endsWith(suffix));
  if (found.length !== 1) throw new Error(`expected one *${suffix} in ${dir}, found ${found.join(", ") || "none"}`);
  return path.join(dir, found[0]!);
}
