/**
 * npm run upstream:install [-- VERSION]   install the reference Codex (default: the pinned one) into
 *                                          the cache and print its binary's path
 * npm run upstream:pull -- VERSION         install VERSION, run its `app-server generate-json-schema`,
 *                                          and store the bundles under test/fixtures/codex/upstream-codex/VERSION/
 */
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import {
  UPSTREAM_BUNDLES,
  ensureCodexBinary,
  generateUpstreamSchemas,
  pinnedCodexVersion,
  upstreamBundleDir,
} from "./upstream/reference.js";

function usage(): never {
  process.stderr.write("usage: upstream.ts install [VERSION] | pull VERSION\n");
  process.exit(2);
}

const [command, version] = process.argv.slice(2);
try {
  if (command === "install") {
    process.stdout.write(`${ensureCodexBinary(version ?? pinnedCodexVersion())}\n`);
  } else if (command === "pull") {
    if (!version || !/^\d+\.\d+\.\d+$/.test(version)) usage();
    const generated = generateUpstreamSchemas(version);
    const target = upstreamBundleDir(version);
    mkdirSync(target, { recursive: true });
    for (const name of UPSTREAM_BUNDLES) copyFileSync(path.join(generated, name), path.join(target, name));
    rmSync(generated, { recursive: true, force: true });
    process.stderr.write(`Codex ${version}: bundles stored in ${path.relative(process.cwd(), target)}/\n`);
  } else {
    usage();
  }
} catch (error) {
  process.stderr.write(`upstream: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
