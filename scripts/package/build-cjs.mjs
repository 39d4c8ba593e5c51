// CommonJS twins of the public entries, for `require()` and for TypeScript's node16 CJS
// resolution: every module reachable from an entry in dist/ (the ESM build) is transpiled to
// dist/cjs/<same path>.cjs by esbuild (no bundling, so each class exists once per format), and its
// .d.ts is copied to .d.cts; relative specifiers `.js` become `.cjs` in both. Takes well under a
// second; needs `npm run build` first. Run by `prepack` / `prepare` and by the consumer matrix.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { transformSync } from "esbuild";

const root = path.resolve(import.meta.dirname, "../..");
const dist = path.join(root, "dist");
const out = path.join(dist, "cjs");
/** The public entries (package.json exports), as paths inside dist/. */
export const ENTRIES = ["src/index.js", "src/protocol/index.js", "src/client/index.js", "src/client/connection-entry.js", "src/dev-server/index.js"];

const RELATIVE_SPECIFIER = /((?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)["'])(\.\.?\/[^"']+?)\.js(["'])/g;
const toCjsSpecifiers = (code) => code.replace(RELATIVE_SPECIFIER, "$1$2.cjs$3");

function reachable() {
  const seen = new Set();
  const queue = [...ENTRIES];
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    const full = path.join(dist, file);
    if (!existsSync(full)) throw new Error(`dist/${file} is missing: run \`npm run build\` first`);
    seen.add(file);
    for (const source of [full, full.replace(/\.js$/, ".d.ts")]) {
      if (!existsSync(source)) continue;
      for (const match of readFileSync(source, "utf8").matchAll(RELATIVE_SPECIFIER)) {
        queue.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), `${match[2]}.js`)));
      }
    }
  }
  return [...seen].sort();
}

const IMPORT_META_URL = "__codexAuthImportMetaUrl";

export function buildCjs() {
  rmSync(out, { recursive: true, force: true });
  const files = reachable();
  for (const file of files) {
    const source = readFileSync(path.join(dist, file), "utf8");
    const usesImportMeta = source.includes("import.meta.url");
    const { code } = transformSync(toCjsSpecifiers(source), {
      format: "cjs",
      platform: "node",
      target: "node20",
      ...(usesImportMeta
        ? { define: { "import.meta.url": IMPORT_META_URL }, banner: `const ${IMPORT_META_URL} = require("node:url").pathToFileURL(__filename).href;` }
        : {}),
    });
    const target = path.join(out, file.replace(/\.js$/, ".cjs"));
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, code);
    const declaration = path.join(dist, file.replace(/\.js$/, ".d.ts"));
    if (existsSync(declaration)) writeFileSync(target.replace(/\.cjs$/, ".d.cts"), toCjsSpecifiers(readFileSync(declaration, "utf8")));
  }
  return files.length;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const count = buildCjs();
  console.error(`build-cjs: ${count} modules → dist/cjs/`);
}
