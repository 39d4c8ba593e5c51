/**
 * `npm run codegen` runs scripts/codegen.ts through this launcher instead of tsx. Under tsx, Node 20
 * starts a loader thread and sends every module it loads through it (~0.3-0.5 s of a 2 s run on
 * Codex's bundle, and several times that for our schemas/, whose tools load the TypeScript compiler
 * through tsx's CommonJS hook). Here esbuild bundles scripts/codegen.ts with its local imports into
 * plain ES modules and Node runs them directly. Packages stay imports, resolved by Node as usual,
 * except Ajv (and ajv-formats, and their dependencies): bundled in, its ~100 CommonJS files load
 * as one (~50 ms less), and every part of the codegen uses that one copy (standaloneCode must get
 * the same Ajv as the instance it reads).
 * Code splitting keeps the lazy `import()`s lazy: the --input mode never loads json-schema-to-
 * typescript, Prettier or the bundler.
 *
 * The bundle is kept in node_modules/.cache/, named after the sha256 of everything it was built
 * from: the source of each module esbuild read (its metafile: ours and Ajv's), the file names in
 * our source folders (a new file could change what an import resolves to), tsconfig.json and
 * esbuild's version. Every run hashes all that again (~10 ms) and rebuilds on any difference, so
 * it cannot go stale; it caches the compiled script, as tsx caches its transforms, never generated
 * output. Concurrent runs are safe: files are written under unique names and renamed into place.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import v8 from "node:v8";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ENTRY = "scripts/codegen.ts";
const ENTRY_OUT = "codegen.mjs";
/**
 * CODEX_AUTH_CODEGEN_CACHE moves the cache (the bench times a cold start with an empty one). It
 * must be inside the repository: the bundle imports packages, which Node finds from its location.
 */
const cacheDir = process.env.CODEX_AUTH_CODEGEN_CACHE
  ? path.resolve(process.env.CODEX_AUTH_CODEGEN_CACHE)
  : path.join(repo, "node_modules", ".cache", "codex-auth-codegen");
const indexFile = path.join(cacheDir, "index.json");
/** Packages bundled into the codegen; every other bare import stays external. */
const BUNDLED_PACKAGE = /^(ajv|ajv-formats)(\/|$)/;
const INSIDE_BUNDLED_PACKAGE = /[\\/]node_modules[\\/](ajv|ajv-formats)[\\/]/;
const externals = {
  name: "externals",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      BUNDLED_PACKAGE.test(args.path) || INSIDE_BUNDLED_PACKAGE.test(args.importer) ? undefined : { path: args.path, external: true },
    );
  },
};
/** Bundles of earlier sources are removed once this old (a run in progress may still be reading one). */
const PRUNE_AFTER_MS = 60 * 60 * 1000;

function esbuildVersion() {
  return JSON.parse(readFileSync(path.join(repo, "node_modules", "esbuild", "package.json"), "utf8")).version;
}

/**
 * sha256 over the esbuild version, the name and bytes of each input, and the names of the files
 * beside our own inputs (undefined if an input is gone).
 */
function keyOf(inputs, version) {
  const hash = createHash("sha256").update(`esbuild ${version}\0`);
  const folders = new Set();
  for (const input of inputs) {
    let bytes;
    try {
      bytes = readFileSync(path.join(repo, input));
    } catch {
      return undefined;
    }
    hash.update(`${input}\0${bytes.length}\0`).update(bytes);
    if (/\.[cm]?[jt]s$/.test(input) && !input.startsWith("node_modules/")) folders.add(path.dirname(input));
  }
  for (const folder of [...folders].sort()) hash.update(`${folder}/\0${readdirSync(path.join(repo, folder)).sort().join("\0")}\0`);
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
  const bundle = path.join(cacheDir, `codegen-${index.key}`, ENTRY_OUT);
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
    plugins: [externals],
    platform: "node",
    format: "esm",
    splitting: true,
    // Not written there: the files go to codegen-<key>/ beside it, at the same depth, so the
    // relative source paths of the source maps hold.
    outdir: path.join(cacheDir, "codegen-pending"),
    entryNames: "[name]",
    chunkNames: "[name]-[hash]",
    outExtension: { ".js": ".mjs" },
    target: "node20",
    write: false,
    metafile: true,
    // Stack traces of an unexpected failure name scripts/codegen/*.ts lines, as under tsx.
    sourcemap: "linked",
    sourcesContent: false,
    logLevel: "error",
  });
  // esbuild's service process is not needed while the codegen runs.
  await esbuild.stop();
  const inputs = [...Object.keys(result.metafile.inputs), "tsconfig.json"].sort();
  const key = keyOf(inputs, version);
  if (key === undefined) throw new Error("codegen: a source file vanished while it was being bundled");
  mkdirSync(cacheDir, { recursive: true });
  // The entry and its chunks go into a fresh folder renamed into place, so no run ever sees a
  // partial set (a concurrent run that built the same key first wins; the contents are equal).
  const folder = path.join(cacheDir, `codegen-${key}`);
  const temporary = `${folder}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  mkdirSync(temporary);
  for (const file of result.outputFiles) writeFileSync(path.join(temporary, path.relative(path.join(cacheDir, "codegen-pending"), file.path)), file.contents);
  try {
    renameSync(temporary, folder);
  } catch {
    rmSync(temporary, { recursive: true, force: true });
  }
  // Recorded only if the sources did not change while esbuild read them (else the next run rebuilds).
  if (keyOf(inputs, version) === key) writeAtomically(indexFile, JSON.stringify({ key, inputs }, null, 2) + "\n");
  prune(folder);
  return path.join(folder, ENTRY_OUT);
}

function prune(keep) {
  const now = Date.now();
  for (const name of readdirSync(cacheDir)) {
    const file = path.join(cacheDir, name);
    if (file === keep || !/^codegen-[0-9a-f]{64}(\.\d+\.\w+\.tmp)?$/.test(name)) continue;
    try {
      if (now - statSync(file).mtimeMs > PRUNE_AFTER_MS) rmSync(file, { recursive: true, force: true });
    } catch {
      // Removed by a concurrent run.
    }
  }
}

// A codegen run is a short batch job: TurboFan spent ~0.7 s of CPU on background threads compiling
// Ajv's code generator for Codex's bundle, to save at most ~0.15 s on the main thread. On a busy
// 2-core machine that CPU is taken from the run itself (measured: 35% less CPU, wall time down by a
// third under load; on a quiet machine the wall time is the same). Output does not depend on it.
v8.setFlagsFromString("--no-turbofan");

const version = esbuildVersion();
const bundle = cachedBundle(version) ?? (await build(version));
process.setSourceMapsEnabled(true);
// The bundle is scripts/codegen.ts: it reads process.argv and exits with the command's status.
await import(pathToFileURL(bundle).href);
