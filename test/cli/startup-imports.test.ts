import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Script } from "node:vm";
import { describe, expect, it } from "vitest";
import { startDevServer } from "../../src/dev-server/index.js";
import { CLI, DIST, ROOT } from "../support/build.js";
import { cleanEnv, tempDir } from "../support/cli-process.js";
import { useCliHarness } from "../support/cli-harness.js";
import { run } from "../support/run.js";

/**
 * Start-up discipline, checked deterministically (speed itself lives in `npm run bench`).
 *
 * The shipped bin is CommonJS bundles (scripts/build.mjs): `login status` must read the dispatcher
 * and its own command file, no other command's, no package from node_modules, and none of Node's
 * built-ins beyond what Node itself loads to start (no stream stack, `fs/promises`, `http`,
 * `crypto`). Inside the bundle, modules initialise when first imported, exactly as the compiled
 * modules load, so which of our modules `login status` touches is checked on the compiled tree
 * (dist/src/cli/main.js) with a module hook.
 */
const cli = useCliHarness();
const { wrap, CODE_CACHE_SUFFIX } = createRequire(import.meta.url)("../../scripts/build/bundle-loader.cjs") as {
  wrap(source: string): string;
  CODE_CACHE_SUFFIX: string;
};
const COMPILED_CLI = DIST("src/cli/main.js");

const HOOKS = `
import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.CODEX_AUTH_IMPORT_LOG, result.url + "\\n");
  return result;
}`;

async function loadedModules(args: string[], env: Record<string, string> = {}): Promise<string[]> {
  const scratch = tempDir("codex-auth-imports-");
  try {
    return await recordImports(scratch.dir, args, env);
  } finally {
    scratch.remove();
  }
}

async function recordImports(dir: string, args: string[], env: Record<string, string>): Promise<string[]> {
  const hooks = path.join(dir, "hooks.mjs");
  const register = path.join(dir, "register.mjs");
  const log = path.join(dir, "imports.log");
  writeFileSync(hooks, HOOKS);
  writeFileSync(register, `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(hooks).href)});`);
  writeFileSync(log, "");
  const { code } = await run(process.execPath, ["--import", pathToFileURL(register).href, COMPILED_CLI, ...args], {
    cwd: ROOT,
    env: cleanEnv({ CODEX_HOME: cli.home, CODEX_AUTH_IMPORT_LOG: log, ...env }),
  });
  expect(code).toBe(0);
  return [...new Set(readFileSync(log, "utf8").split("\n").filter(Boolean))].map((url) => url.replace(pathToFileURL(ROOT).href + "/", ""));
}

const HEAVY = [/openapi-fetch/, /\/jose\//, /smol-toml/, /@napi-rs\/keyring/, /generated\/protocol\/validators/, /src\/http\//, /src\/auth\/chatgpt\//, /src\/app-server\//, /src\/dev-server\//, /cli\/help\.js/];

describe("login status start-up", () => {
  it("with an API-key auth.json loads no HTTP client, TOML parser, JWT library, keyring binding or protocol validators", async () => {
    writeFileSync(path.join(cli.home, "auth.json"), `{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "${cli.secret("sk-startup-check-0000000000")}"\n}`);
    const modules = await loadedModules(["login", "status"]);
    expect(modules).toContain("dist/generated/storage/auth-json.validators.js");
    for (const heavy of HEAVY) expect(modules.filter((m) => heavy.test(m)), String(heavy)).toEqual([]);
  });

  it("with ChatGPT tokens 4 minutes from expiry loads no OAuth client or ChatGPT module (status never refreshes)", async () => {
    const dev = await startDevServer({ port: 0 });
    try {
      const tokens = dev.issueTokens(undefined, { ttlSeconds: 240 });
      const auth = {
        auth_mode: "chatgpt",
        OPENAI_API_KEY: null,
        tokens: { id_token: cli.secret(tokens.idToken), access_token: cli.secret(tokens.accessToken), refresh_token: cli.secret(tokens.refreshToken), account_id: "acct-demo" },
        last_refresh: new Date().toISOString(),
      };
      writeFileSync(path.join(cli.home, "auth.json"), JSON.stringify(auth, null, 2));
      const modules = await loadedModules(["login", "status"], dev.env());
      for (const heavy of HEAVY) expect(modules.filter((m) => heavy.test(m)), String(heavy)).toEqual([]);
      expect(dev.count("POST", "/oauth/token")).toBe(0);
    } finally {
      await dev.close();
    }
  });

  it("loads the AuthAPI client only when a PAT is stored, and smol-toml only when there is TOML", async () => {
    const dev = await startDevServer({ port: 0 });
    try {
      writeFileSync(path.join(cli.home, "auth.json"), `{\n  "OPENAI_API_KEY": null,\n  "personal_access_token": "at-demo-valid"\n}`);
      const modules = await loadedModules(["login", "status"], dev.env());
      expect(modules.some((m) => /openapi-fetch/.test(m))).toBe(true);
      expect(modules.some((m) => /smol-toml/.test(m))).toBe(false);
      const withConfig = await loadedModules(["-c", "forced_login_method=api", "logout"], dev.env());
      expect(withConfig.some((m) => /smol-toml/.test(m))).toBe(true);
    } finally {
      await dev.close();
    }
  });
});

/** Records, at exit, the files `require` loaded and the Node built-ins loaded after start-up. */
const RECORDER = `
const { writeFileSync } = require("node:fs");
const atStart = new Set(process.moduleLoadList);
process.on("exit", () => {
  const builtins = process.moduleLoadList.filter((entry) => !atStart.has(entry) && entry.startsWith("NativeModule ")).map((entry) => entry.slice(13));
  writeFileSync(process.env.CODEX_AUTH_LOAD_LOG, JSON.stringify({ files: Object.keys(require.cache), builtins }));
});`;

async function bundleLoads(args: string[], env: Record<string, string> = {}): Promise<{ files: string[]; builtins: string[] }> {
  const scratch = tempDir("codex-auth-bundle-loads-");
  try {
    const recorder = path.join(scratch.dir, "recorder.cjs");
    const log = path.join(scratch.dir, "loads.json");
    writeFileSync(recorder, RECORDER);
    const { code } = await run(process.execPath, ["--require", recorder, CLI, ...args], {
      cwd: ROOT,
      env: cleanEnv({ CODEX_HOME: cli.home, CODEX_AUTH_LOAD_LOG: log, ...env }),
    });
    expect(code).toBe(0);
    const loads = JSON.parse(readFileSync(log, "utf8")) as { files: string[]; builtins: string[] };
    return { files: loads.files.filter((file) => file !== recorder).map((file) => path.relative(ROOT, file)), builtins: loads.builtins };
  } finally {
    scratch.remove();
  }
}

/**
 * Built-ins `login status` may need on top of Node's start-up set: argv parsing (util.parseArgs)
 * and `vm`, whose Script compiles a command bundle from its V8 code cache.
 */
const STATUS_BUILTINS = /^(internal\/util\/parse_args\/|vm$)/;

describe("the shipped bin (one bundle per command)", () => {
  it("`login status` with an API-key auth.json reads two files of ours and loads no stream, fs/promises, HTTP or crypto module", async () => {
    writeFileSync(path.join(cli.home, "auth.json"), `{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "${cli.secret("sk-startup-check-0000000000")}"\n}`);
    const loads = await bundleLoads(["login", "status"]);
    expect(loads.files).toEqual(["dist/bin/codex-auth.cjs", "dist/bin/commands/login-status.cjs"]);
    expect(loads.builtins.filter((name) => !STATUS_BUILTINS.test(name))).toEqual([]);
  });

  it("each command bundle has a V8 code cache this Node accepts, made from the same source", () => {
    for (const name of ["login-status", "login", "logout", "app-server", "dev-server"]) {
      const file = DIST(`bin/commands/${name}.cjs`);
      const script = new Script(wrap(readFileSync(file, "utf8")), { filename: file, cachedData: readFileSync(file + CODE_CACHE_SUFFIX) });
      expect(script.cachedDataRejected, name).toBe(false);
      // The same cache against a source of another length is refused, and the loader then compiles the source.
      const edited = new Script(wrap(`${readFileSync(file, "utf8")};`), { filename: file, cachedData: readFileSync(file + CODE_CACHE_SUFFIX) });
      expect(edited.cachedDataRejected, name).toBe(true);
    }
  });

  it("a corrupt or missing code cache costs speed only: the bundle compiles from its source", async () => {
    writeFileSync(path.join(cli.home, "auth.json"), `{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "${cli.secret("sk-startup-check-0000000000")}"\n}`);
    const copy = tempDir("codex-auth-bin-copy-");
    try {
      cpSync(DIST("bin"), path.join(copy.dir, "bin"), { recursive: true });
      const cache = path.join(copy.dir, "bin/commands/login-status.cjs") + CODE_CACHE_SUFFIX;
      for (const damage of [() => writeFileSync(cache, "not a V8 code cache"), () => rmSync(cache)]) {
        damage();
        const { code, stdout, stderr } = await run(process.execPath, [path.join(copy.dir, "bin/codex-auth.cjs"), "login", "status"], { env: cleanEnv({ CODEX_HOME: cli.home }) });
        cli.captured.add("login status with a damaged code cache", stdout + stderr);
        expect(stderr).toContain("API key configured");
        expect(code).toBe(0);
      }
    } finally {
      copy.remove();
    }
  });

  it("each command loads its own bundle only", async () => {
    const loads = await bundleLoads(["logout"]);
    // logout writes, so it takes Codex's flock on auth.lock through koffi's native binding; our
    // own code is still just the two bundles.
    const ours = loads.files.filter((file) => !/^node_modules\/(@koromix\/)?koffi/.test(file));
    expect(ours).toEqual(["dist/bin/codex-auth.cjs", "dist/bin/commands/logout.cjs"]);
    expect(loads.files.some((file) => file.endsWith("koffi.node"))).toBe(true);
  });
});
