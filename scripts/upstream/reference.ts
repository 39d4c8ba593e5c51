/**
 * The one way the project gets the reference Codex: the published `@openai/codex` npm package,
 * installed into a cache outside the repository (never a dependency: it is ~400 MB). Tests,
 * benchmarks, transcript recording and `npm run upstream:pull` all call `ensureCodexBinary()`.
 *
 * The pinned version lives in package.json (`config.codexVersion`) and nowhere else.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The Codex version the project is pinned to (package.json `config.codexVersion`). */
export function pinnedCodexVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { config?: { codexVersion?: unknown } };
  const version = pkg.config?.codexVersion;
  if (typeof version !== "string" || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error("package.json config.codexVersion must be a version like 0.171.0");
  }
  return version;
}

/** Where reference binaries are cached: $CODEX_AUTH_REFERENCE_CACHE, else ~/.cache/codex-auth/codex. */
export function referenceCacheDir(): string {
  return process.env.CODEX_AUTH_REFERENCE_CACHE || path.join(os.homedir(), ".cache", "codex-auth", "codex");
}

/** The npm dist-tag suffix Codex publishes its native build under (`0.171.0-linux-x64`). */
function platformTag(): string {
  const platform = { linux: "linux", darwin: "darwin", win32: "win32" }[process.platform as string];
  const arch = { x64: "x64", arm64: "arm64" }[process.arch as string];
  if (!platform || !arch) throw new Error(`no published Codex build for ${process.platform}-${process.arch}`);
  return `${platform}-${arch}`;
}

function binaryIn(packageDir: string): string | undefined {
  const vendor = path.join(packageDir, "vendor");
  if (!existsSync(vendor)) return undefined;
  for (const triple of readdirSync(vendor)) {
    const candidate = path.join(vendor, triple, "bin", process.platform === "win32" ? "codex.exe" : "codex");
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The cached binary's path if `version` is installed, else undefined. Never installs. */
export function cachedCodexBinary(version: string = pinnedCodexVersion()): string | undefined {
  return binaryIn(path.join(referenceCacheDir(), version, "package"));
}

/**
 * The reference binary for `version` (default: the pinned one), installing it from npm into the
 * cache on first use. Concurrent installers race safely: each unpacks into its own temporary
 * folder and renames it into place; the loser drops its copy.
 */
export function ensureCodexBinary(version: string = pinnedCodexVersion()): string {
  const cached = cachedCodexBinary(version);
  if (cached) return cached;
  const cache = referenceCacheDir();
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(path.join(cache, `.install-${version}-`));
  try {
    const spec = `@openai/codex@${version}-${platformTag()}`;
    const tarball = execFileSync("npm", ["pack", spec, "--silent", "--pack-destination", work], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      timeout: 600_000,
    }).trim().split("\n").pop()!;
    execFileSync("tar", ["xzf", path.join(work, tarball), "-C", work], { stdio: "inherit", timeout: 600_000 });
    rmSync(path.join(work, tarball));
    if (!binaryIn(path.join(work, "package"))) throw new Error(`${spec} has no codex binary under vendor/`);
    try {
      renameSync(work, path.join(cache, version));
    } catch (error) {
      if (!cachedCodexBinary(version)) throw error;
    }
  } finally {
    if (existsSync(work)) rmSync(work, { recursive: true, force: true });
  }
  const binary = cachedCodexBinary(version);
  if (!binary) throw new Error(`installing Codex ${version} left no binary in ${cache}`);
  return binary;
}

/** Where `upstream:pull` stores a version's schema bundles, byte-identical to what the binary wrote. */
export function upstreamBundleDir(version: string): string {
  return path.join(REPO_ROOT, "test", "fixtures", "codex", "upstream-codex", version);
}

export const UPSTREAM_BUNDLES = ["codex_app_server_protocol.schemas.json", "codex_app_server_protocol.v2.schemas.json"] as const;

/** Runs `codex app-server generate-json-schema` of `version` and returns the folder it wrote. */
export function generateUpstreamSchemas(version: string): string {
  const binary = ensureCodexBinary(version);
  const out = mkdtempSync(path.join(os.tmpdir(), `codex-schemas-${version}-`));
  const home = mkdtempSync(path.join(os.tmpdir(), "codex-home-"));
  try {
    execFileSync(binary, ["app-server", "generate-json-schema", "--out", out], {
      env: { ...process.env, CODEX_HOME: home },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 120_000,
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  for (const name of UPSTREAM_BUNDLES) {
    if (!statSync(path.join(out, name), { throwIfNoEntry: false })?.isFile()) {
      throw new Error(`codex ${version} generate-json-schema wrote no ${name}`);
    }
  }
  return out;
}
