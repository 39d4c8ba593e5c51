import { existsSync } from "node:fs";
import path from "node:path";

/**
 * What the tests run from `npm run build`. `npm test` builds first; run `npm run build` before
 * running a file alone.
 */
export const ROOT = path.resolve(import.meta.dirname, "../..");

/** The shipped bin (package.json `bin`): the CLI's dispatcher, bundled; each command is one file in dist/bin/commands/. */
export const CLI = path.join(ROOT, "dist/bin/codex-auth.cjs");

/** A file under dist/. */
export const DIST = (relative: string): string => path.join(ROOT, "dist", relative);

/** What a complete build has: tsc output, the copied standalone validators, then the bundles. */
const BUILD_OUTPUTS = [
  "src/cli/main.js",
  "src/cli/commands/app-server.js",
  "src/auth/store/file-store.js",
  "src/auth/store/lock.js",
  "generated/protocol/validators.js",
  "generated/storage/auth-json.validators.js",
  "generated/http/authapi.validators.js",
  "generated/http/backend.validators.js",
  "bin/codex-auth.cjs",
  "bin/commands/login-status.cjs",
  "bin/commands/login.cjs",
  "bin/commands/logout.cjs",
  "bin/commands/app-server.cjs",
  "bin/commands/dev-server.cjs",
].map(DIST);

/** How long to wait for a build in progress: CODEX_AUTH_TEST_BUILD_WAIT_MS, default 120 s. */
const BUILD_WAIT_MS = Number(process.env.CODEX_AUTH_TEST_BUILD_WAIT_MS) || 120_000;

/**
 * Waits (synchronously) while dist/ is incomplete: in a shared checkout another `npm run build`
 * may be recreating it.
 */
export function waitForBuild(): void {
  const deadline = Date.now() + BUILD_WAIT_MS;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const missing = BUILD_OUTPUTS.filter((file) => !existsSync(file));
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`dist/ is incomplete (${missing.map((file) => path.relative(ROOT, file)).join(", ")}): run \`npm run build\` first`);
    Atomics.wait(sleeper, 0, 0, 250);
  }
}
