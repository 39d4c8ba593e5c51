/**
 * `npm run codegen` runs scripts/codegen.ts through this launcher instead of tsx. Under tsx, Node 20
 * starts a loader thread and sends every module it loads through it (~0.3-0.5 s of a 2 s run on
 * Codex's bundle, and several times that for our schemas/, whose tools load the TypeScript compiler
 * through tsx's CommonJS hook). Here esbuild bundles scripts/codegen.ts with its local imports into
 * one plain ES module (packages stay imports, resolved by Node as usual) and Node runs it directly.
 *
 * The bundle is kept in node_modules/.cache/, named after the sha256 of everything it was built
 * from: the source of each module esbuild read (its metafile), tsconfig.json and esbuild's
 * version. Every run hashes those files again (~1 ms) and rebuilds on any difference, so it cannot
 * go stale; it caches the compiled script, as tsx caches its transforms, never generated output.
 * Concurrent runs are safe: files are written under unique names and renamed into place.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ENTRY = "scripts/codegen.ts";
const cacheDir = path.join(repo, "node_modules", ".cache", "codex-auth-codegen");
const indexFile = path.join(cacheDir, "index.json");
/** Bundles of earlier sources are removed once this old (a run in progress may still be reading one). */
const PRUNE_AFTER_MS = 60 * 60 * 1000;

function esbuildVersion() {
  return JSON.parse(readFileSync(path.join(repo, "node_modules", "esbuild", "package.json"), "utf8")).version;
}

/** sha256 over the esbuild version and the name and bytes of each input (undefined if one is gone). */
function keyOf(inputs, version) {
  const hash = createHash("sha256").update(`esbuild ${version}\0`);
  for (const input of inputs) {
    let bytes;
    try {
      bytes = readFileSync(path.join(repo, input));
    } catch {
      return undefined;
    }
    hash.update(`${input}\0${bytes.length}\0`).update(bytes);
  }
  return hash.digest("hex");
}

function cachedBundle(version) {
  let index;
  try {
    index = JSON.parse(readFileSync(indexFile, "utf8"));
  } catch {
    return undefined;
  }
  if (!Array.isArray(index.inputs) || typeof index.key !== "string") return undefined;
  if (keyOf(index.inputs, version) !== index.key) return undefined;
  const bundle = path.join(cacheDir, `codegen-${index.key}.mjs`);
  try {
    statSync(bundle);
  } catch {
    return undefined;
  }
  return bundle;
}

function writeAtomically(file, content) {
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

async function build(version) {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    absWorkingDir: repo,
    entryPoints: [ENTRY],
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    metafile: true,
    logLevel: "error",
  });
  const inputs = [...Object.keys(result.metafile.inputs), "tsconfig.json"].sort();
  const key = keyOf(inputs, version);
  if (key === undefined) throw new Error("codegen: a source file vanished while it was being bundled");
  mkdirSync(cacheDir, { recursive: true });
  const bundle = path.join(cacheDir, `codegen-${key}.mjs`);
  // Built from the sources as they were when hashed above only if they did not change meanwhile;
  // otherwise run it, but do not record it (the next run rebuilds).
  writeAtomically(bundle, result.outputFiles[0].contents);
  if (keyOf(inputs, version) === key) writeAtomically(indexFile, JSON.stringify({ key, inputs }, null, 2) + "\n");
  prune(bundle);
  return bundle;
}

function prune(keep) {
  const now = Date.now();
  for (const name of readdirSync(cacheDir)) {
    const file = path.join(cacheDir, name);
    if (file === keep || !/^codegen-[0-9a-f]{64}\.mjs$/.test(name)) continue;
    try {
      if (now - statSync(file).mtimeMs > PRUNE_AFTER_MS) rmSync(file, { force: true });
    } catch {
      // Removed by a concurrent run.
    }
  }
}

const version = esbuildVersion();
const bundle = cachedBundle(version) ?? (await build(version));
// The bundle is scripts/codegen.ts: it reads process.argv and exits with the command's status.
await import(pathToFileURL(bundle).href);
