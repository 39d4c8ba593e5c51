// npm's `prepare` (runs on `npm install` in a checkout, and when npm installs this package from
// git) and `prepack` (`--always`: before `npm pack` / `npm publish`): build dist/ (ESM, then the
// CommonJS twins) so the package works from a git install or a fresh clone.
//
// `npm ci` skips it: CI and `npm test` build explicitly (`npm run build`), and a second full
// build on every `npm ci` would cost ~10-20 s for nothing. A build whose inputs have not changed
// since the last one here is skipped too (npm runs `prepare` twice for a git dependency).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const always = process.argv.includes("--always");
const STAMP = path.join(root, "dist", ".prepare-inputs");

if (!always && process.env.npm_command === "ci") {
  console.error("prepare: skipped under `npm ci` (run `npm run build`)");
  process.exit(0);
}

function fingerprint() {
  const hash = createHash("sha256");
  const visit = (entry) => {
    const full = path.join(root, entry);
    if (!existsSync(full)) return;
    if (statSync(full).isDirectory()) {
      for (const name of readdirSync(full).sort()) visit(path.join(entry, name));
    } else {
      hash.update(`${entry}\0`).update(readFileSync(full)).update("\0");
    }
  };
  for (const entry of ["package.json", "tsconfig.json", "tsconfig.build.json", "src", "generated", "scripts/build.mjs", "scripts/build", "scripts/package"]) visit(entry);
  return hash.digest("hex");
}

const inputs = fingerprint();
if (existsSync(STAMP) && readFileSync(STAMP, "utf8") === inputs && existsSync(path.join(root, "dist/cjs"))) {
  console.error("prepare: dist/ is up to date");
  process.exit(0);
}
execFileSync(process.execPath, [path.join(root, "scripts/build.mjs")], { cwd: root, stdio: "inherit" });
const { buildCjs } = await import("./build-cjs.mjs");
buildCjs();
writeFileSync(STAMP, inputs);
console.error("prepare: built dist/ (ESM and CommonJS)");
