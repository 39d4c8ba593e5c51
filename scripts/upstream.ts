/**
 * npm run upstream:install [-- VERSION]   install the reference Codex (default: the pinned one) into
 *                                          the cache and print its binary's path
 * npm run upstream:pull -- VERSION         install VERSION, run its `app-server generate-json-schema`,
 *                                          store the bundles under test/fixtures/codex/upstream-codex/VERSION/
 *                                          (byte-identical to what the binary wrote), then print the gap
 * npm run upstream:gap -- VERSION|BUNDLE [--json]
 *                                          our schemas/ against an upstream bundle (a pulled version, or a
 *                                          bundle file), restricted to the methods of our method table
 *                                          (schemas/app-server/methods.json) and the types they reach
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import {
  REPO_ROOT,
  UPSTREAM_BUNDLES,
  ensureCodexBinary,
  generateUpstreamSchemas,
  pinnedCodexVersion,
  upstreamBundleDir,
} from "./upstream/reference.js";

function usage(): never {
  process.stderr.write("usage: upstream.ts install [VERSION] | pull VERSION | gap VERSION|BUNDLE [--json]\n");
  process.exit(2);
}

const VERSION = /^\d+\.\d+\.\d+$/;

/** The upstream bundle the gap is measured against: the main one of a pulled version, or a file. */
function upstreamBundleFile(target: string): { file: string; label: string } {
  if (VERSION.test(target)) {
    const file = path.join(upstreamBundleDir(target), UPSTREAM_BUNDLES[0]);
    if (!existsSync(file)) throw new Error(`Codex ${target} is not pulled: run \`npm run upstream:pull -- ${target}\``);
    return { file, label: `Codex ${target}` };
  }
  if (!existsSync(target)) throw new Error(`${target}: no such bundle file (or give a version such as ${pinnedCodexVersion()})`);
  return { file: target, label: target };
}

async function gap(target: string, json: boolean): Promise<void> {
  const { diffBundles, restrictToMethods } = await import("../src/compat/index.js");
  const { buildReport, renderJson, renderText } = await import("../src/compat/report.js");
  const { bundleProtocolSchemas } = await import("./codegen/bundle.js");
  const { file, label } = upstreamBundleFile(target);
  const schemas = path.join(REPO_ROOT, "schemas");
  const ours = await bundleProtocolSchemas(schemas);
  const table = JSON.parse(readFileSync(path.join(schemas, "app-server", "methods.json"), "utf8")) as { methods: Array<{ method: string }> };
  const methods = new Set(table.methods.map((m) => m.method));
  const full = diffBundles(ours, JSON.parse(readFileSync(file, "utf8")), { oldLabel: "schemas/", newLabel: label });
  const result = restrictToMethods(full, methods);
  const notes = [
    `restricted to the ${methods.size} methods of schemas/app-server/methods.json and the types they reach ` +
      `(${full.findings.length - result.findings.length} findings elsewhere in the bundle left out)`,
    "read \"old\" as our schemas and \"new\" as upstream: each finding is what adopting upstream would change",
  ];
  if (result.missing.length > 0) notes.push(`in our table, not in the upstream bundle: ${result.missing.join(", ")}`);
  const report = buildReport({ oldLabel: "schemas/ (ours)", newLabel: label, notes, result });
  process.stdout.write(json ? renderJson({ ...report, methods: [...methods].sort() } as typeof report) : renderText(report, { color: process.stdout.isTTY === true && !process.env.NO_COLOR, verdict: false }));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const [command, target] = args.filter((a) => a !== "--json");
  if (command === "install") {
    process.stdout.write(`${ensureCodexBinary(target ?? pinnedCodexVersion())}\n`);
  } else if (command === "pull") {
    if (!target || !VERSION.test(target)) usage();
    const generated = generateUpstreamSchemas(target);
    const dir = upstreamBundleDir(target);
    mkdirSync(dir, { recursive: true });
    for (const name of UPSTREAM_BUNDLES) copyFileSync(path.join(generated, name), path.join(dir, name));
    rmSync(generated, { recursive: true, force: true });
    process.stderr.write(`Codex ${target}: bundles stored in ${path.relative(process.cwd(), dir)}/\n`);
    await gap(target, json);
  } else if (command === "gap") {
    if (!target) usage();
    await gap(target, json);
  } else {
    usage();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`upstream: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
