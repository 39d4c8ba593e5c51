// npm run build, the one build:
// 1. tsc compiles src/ and generated/ to dist/ (the library entry points, with their types), and
//    the generated standalone validators (plain .js with hand-written .d.ts) are copied beside them;
// 2. esbuild bundles the CLI so that `login status` starts as close to bare Node as it can:
//    CommonJS (no ES-module loader), the dispatcher in one small file (`bin`:
//    dist/bin/codex-auth.cjs), and each command in one self-contained file in dist/bin/commands/,
//    required when run (no module resolution beyond that one file). A process runs one command,
//    so the copies of the auth core in those files never meet; the app-server does not parse
//    `login status`, nor the reverse.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import * as esbuild from "esbuild";

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
chmodSync("dist/src/cli/main.js", 0o755);

/** Commands bundled on their own (src/cli/commands/<name>.ts → dist/bin/commands/<name>.cjs). */
const SEPARATE_COMMANDS = ["login-status", "login", "logout", "app-server", "dev-server"];

/**
 * Node built-ins that are not already loaded when Node starts. A bundle `require`s its imports
 * when a module initialises; these are required on first use instead (each named export is a
 * getter), so `login status` never loads the stream stack, `fs/promises`, `http` or `crypto`.
 */
const DEFERRED_BUILTINS = [
  "assert", "child_process", "crypto", "dns", "fs/promises", "http", "https", "net", "os", "perf_hooks",
  "readline", "readline/promises", "stream", "stream/promises", "string_decoder", "tls", "tty", "v8", "vm",
  "worker_threads", "zlib",
];

const deferredBuiltins = {
  name: "deferred-builtins",
  setup(build) {
    const filter = new RegExp(`^(node:)?(${DEFERRED_BUILTINS.map((name) => name.replace("/", "\\/")).join("|")})$`);
    build.onResolve({ filter }, (args) => {
      const builtin = args.path.replace(/^node:/, "");
      const names = importedNames(args.importer, builtin) ?? Object.keys(process.getBuiltinModule(`node:${builtin}`));
      // One shim per set of names: a getter costs a property definition here and another in
      // esbuild's interop copy, so a module that imports two functions of `crypto` gets two, not 67.
      return { path: `${builtin}?${names.sort().join(",")}`, namespace: "deferred-builtin" };
    });
    build.onLoad({ filter: /.*/, namespace: "deferred-builtin" }, (args) => {
      const [builtin, list] = args.path.split("?");
      const id = `node:${builtin}`;
      const names = list ? list.split(",") : [];
      return {
        loader: "js",
        contents: [
          `let loaded;`,
          `const load = () => (loaded ??= process.getBuiltinModule(${JSON.stringify(id)}));`,
          `for (const name of ${JSON.stringify(names)}) Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });`,
        ].join("\n"),
      };
    });
  },
};

/**
 * The names a module imports from a built-in, read from its `import { a, b as c } from "node:x"`
 * statements; undefined (every name) when it imports otherwise (a namespace, a default, require()).
 */
function importedNames(importer, builtin) {
  if (!/\.[cm]?[jt]s$/.test(importer)) return undefined;
  const source = readFileSync(importer, "utf8");
  const specifier = `["'](?:node:)?${builtin.replace("/", "\\/")}["']`;
  const mentions = source.match(new RegExp(`${specifier}`, "g"))?.length ?? 0;
  const named = [...source.matchAll(new RegExp(`^import\\s+(type\\s+)?\\{([^}]*)\\}\\s*from\\s*${specifier}\\s*;?\\s*$`, "gm"))];
  if (named.length === 0 || named.length !== mentions) return undefined;
  const names = new Set();
  for (const [, typeOnly, clause] of named) {
    if (typeOnly) continue;
    for (const part of clause.split(",")) {
      const name = part.trim().split(/\s+as\s+/)[0];
      if (name && !name.startsWith("type ")) names.add(name);
    }
  }
  return [...names];
}

/**
 * In the dispatcher, `import("./commands/<name>.js")` becomes a load of that command's own file
 * through scripts/build/bundle-loader.cjs, which compiles it from the V8 code cache written below.
 */
const separateCommands = {
  name: "separate-commands",
  setup(build) {
    const filter = new RegExp(`^\\./commands/(${SEPARATE_COMMANDS.join("|")})\\.js$`);
    build.onResolve({ filter }, (args) => {
      if (!args.importer.endsWith(path.join("src", "cli", "run.ts"))) return undefined;
      return { path: filter.exec(args.path)[1], namespace: "command-bundle" };
    });
    build.onLoad({ filter: /.*/, namespace: "command-bundle" }, (args) => ({
      loader: "js",
      resolveDir: path.resolve("scripts/build"),
      contents: `const { requireBundle } = require("./bundle-loader.cjs");\nmodule.exports = requireBundle(require("node:path").join(__dirname, "commands", ${JSON.stringify(`${args.path}.cjs`)}));`,
    }));
  },
};

/**
 * src/cli/version.ts finds package.json by walking up from its own file, at run time. A bundle is
 * built from one package.json, so its versions (ours and the pinned Codex's) are written in: no file reads before the app-server's
 * first answer.
 */
const packageVersion = {
  name: "package-version",
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]cli[\\/]version\.ts$/ }, () => {
      const { version, config } = JSON.parse(readFileSync("package.json", "utf8"));
      const versions = JSON.stringify({ version, codexVersion: config?.codexVersion ?? "0.0.0" });
      return {
        loader: "ts",
        contents: [
          `export async function packageVersions(): Promise<{ version: string; codexVersion: string }> {\n  return ${versions};\n}`,
          `export async function packageVersion(): Promise<string> {\n  return ${JSON.stringify(version)};\n}\n`,
        ].join("\n"),
      };
    });
  },
};

const common = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  // import() becomes a require(): an ES-module loader costs more than the module it loads.
  supported: { "dynamic-import": false },
  external: ["@napi-rs/keyring"],
  // No module of ours reads import.meta once src/cli/version.ts is replaced; anything that does gets the bundle's own URL.
  // Computed on first read: Node's first pathToFileURL costs half a millisecond, and `login status` reads none.
  define: { "import.meta.url": "__codex_auth_import_meta.url" },
  banner: { js: '"use strict";\nconst __codex_auth_import_meta = { get url() { return require("node:url").pathToFileURL(__filename).href; } };' },
  plugins: [deferredBuiltins, packageVersion],
  // Fewer bytes to read and scan at start-up; names are kept (messages and stacks stay readable).
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  logLevel: "warning",
};

await esbuild.build({
  ...common,
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/bin/codex-auth.cjs",
  plugins: [deferredBuiltins, packageVersion, separateCommands],
});
await esbuild.build({
  ...common,
  entryPoints: Object.fromEntries(SEPARATE_COMMANDS.map((name) => [name, `src/cli/commands/${name}.ts`])),
  outdir: "dist/bin/commands",
  outExtension: { ".js": ".cjs" },
});
chmodSync("dist/bin/codex-auth.cjs", 0o755);

// The V8 code cache of each command bundle, from a training run in a child process (the same Node
// that builds; another Node rejects the cache and compiles the source as require would).
for (const name of SEPARATE_COMMANDS) {
  execFileSync(process.execPath, ["scripts/build/code-cache.mjs", `dist/bin/commands/${name}.cjs`, name], { stdio: "inherit" });
}
