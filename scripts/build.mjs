// npm run build: compile src/ and generated/ to dist/, then copy the generated standalone
// validators (plain .js with hand-off .d.ts), which tsc does not emit.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";

rmSync("dist", { recursive: true, force: true });
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });

function copyValidators(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const source = path.join(dir, entry.name);
    if (entry.isDirectory()) copyValidators(source);
    else if (/\.(js|d\.ts)$/.test(entry.name)) {
      const target = path.join("dist", source);
      mkdirSync(path.dirname(target), { recursive: true });
      copyFileSync(source, target);
    }
  }
}
copyValidators("generated");
try {
  chmodSync("dist/src/cli/main.js", 0o755);
} catch {
  // The CLI entry does not exist yet while the project is being bootstrapped.
}
