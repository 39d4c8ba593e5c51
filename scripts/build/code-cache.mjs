// node scripts/build/code-cache.mjs <bundle.cjs> <command>: writes <bundle.cjs>.v8cache, the V8
// code cache that scripts/build/bundle-loader.cjs compiles the bundle from (run by scripts/build.mjs).
//
// The bundle is compiled by the loader itself (without a cache), its modules are initialised, and the
// command's everyday path is run once against a scratch CODEX_HOME, so the cache holds the
// functions a real run compiles, not only the top level.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";

const { loadBundle, CODE_CACHE_SUFFIX } = createRequire(import.meta.url)("./bundle-loader.cjs");

const [bundle, command] = process.argv.slice(2);
const file = path.resolve(bundle);
const { exports, script } = loadBundle(file, undefined);

/** Runs that exercise what users run most, in-process, against a scratch API-key login, writing nowhere. */
const TRAINING = {
  "login-status": (exports) =>
    withApiKeyHome(async (home) => {
      const sink = { write: () => true };
      for (const args of [[], ["--json"]]) {
        await exports.runLoginStatusCommand(args, { env: { CODEX_HOME: home }, stdin: undefined, stdout: sink, stderr: sink, configOverrides: [] });
      }
    }),
  // A client's first exchange: initialize, then the account it shows; stdin's end stops the server.
  "app-server": (exports) =>
    withApiKeyHome(async (home) => {
      const requests = [
        { id: 1, method: "initialize", params: { clientInfo: { name: "codex-auth-build", version: "0.0.0" } } },
        { method: "initialized" },
        { id: 2, method: "account/read", params: { refreshToken: false } },
      ];
      const stdin = Readable.from(requests.map((request) => `${JSON.stringify(request)}\n`));
      const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
      await exports.runAppServerCommand([], { env: { CODEX_HOME: home }, stdin, stdout: sink, stderr: sink, configOverrides: [] });
    }),
};

async function withApiKeyHome(run) {
  const home = mkdtempSync(path.join(tmpdir(), "codex-auth-code-cache-"));
  try {
    writeFileSync(path.join(home, "auth.json"), JSON.stringify({ auth_mode: "apikey", OPENAI_API_KEY: "sk-code-cache-training-0000" }));
    await run(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

await TRAINING[command]?.(exports);
writeFileSync(file + CODE_CACHE_SUFFIX, script.createCachedData());
