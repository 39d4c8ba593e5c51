/**
 * The real codex-acp (`@agentclientprotocol/codex-acp`, the ACP adapter Zed and JetBrains-style
 * editors run) for end-to-end tests, installed into a cache outside the repository from the
 * manifest and lockfile in test/fixtures/codex-acp/ with `npm ci --omit=optional`.
 *
 * Why not a devDependency: codex-acp depends on `@openai/codex`, whose optional dependency is the
 * ~400 MB native Codex binary. The tests never run it (CODEX_PATH points codex-acp at codex-auth),
 * and `npm ci --omit=optional` for the whole project would also drop optional parts of our own
 * dependencies. The lockfile pins every package of the install; the cache is keyed by its hash.
 * Installed on first use, so a test never skips for want of it (`.ci/run` has the network anyway).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const FIXTURE = path.resolve(import.meta.dirname, "../fixtures/codex-acp");

function cacheDir(): string {
  const base = process.env.CODEX_AUTH_REFERENCE_CACHE
    ? path.join(process.env.CODEX_AUTH_REFERENCE_CACHE, "..", "codex-acp")
    : path.join(os.homedir(), ".cache", "codex-auth", "codex-acp");
  const lock = readFileSync(path.join(FIXTURE, "package-lock.json"));
  return path.join(base, createHash("sha256").update(lock).digest("hex").slice(0, 16));
}

const entryIn = (dir: string) => path.join(dir, "node_modules", "@agentclientprotocol", "codex-acp", "dist", "index.js");

/** The pinned codex-acp version (test/fixtures/codex-acp/package.json). */
export const CODEX_ACP_VERSION = (JSON.parse(readFileSync(path.join(FIXTURE, "package.json"), "utf8")) as { dependencies: Record<string, string> })
  .dependencies["@agentclientprotocol/codex-acp"]!;

/** Path of codex-acp's entry script (run it with `node`), installing it on first use. */
export function ensureCodexAcp(): string {
  const dir = cacheDir();
  if (existsSync(entryIn(dir))) return entryIn(dir);
  mkdirSync(path.dirname(dir), { recursive: true });
  const work = mkdtempSync(`${dir}.install-`);
  try {
    for (const file of ["package.json", "package-lock.json"]) copyFileSync(path.join(FIXTURE, file), path.join(work, file));
    execFileSync("npm", ["ci", "--omit=optional", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: work,
      stdio: ["ignore", "ignore", "inherit"],
      timeout: 300_000,
    });
    if (!existsSync(entryIn(work))) throw new Error(`npm ci left no codex-acp in ${work}`);
    try {
      renameSync(work, dir);
    } catch (error) {
      // Another installer won the race; its copy is as good as ours.
      if (!existsSync(entryIn(dir))) throw error;
    }
  } finally {
    if (existsSync(work)) rmSync(work, { recursive: true, force: true });
  }
  return entryIn(dir);
}
