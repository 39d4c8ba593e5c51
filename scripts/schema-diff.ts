/**
 * Schema compatibility gate.
 *
 *   schema-diff diff OLD NEW [--json]
 *   schema-diff check [--base <git-ref> | --base-dir <folder>] [--schemas <folder>] [--allowlist <file>] [--json]
 *
 * OLD/NEW: a bundle file (ours or Codex's), or a folder: Codex's `generate-json-schema` output
 * (its `codex_app_server_protocol.schemas.json` is used) or our `schemas/` (bundled with the
 * codegen bundler). `check` compares `schemas/` in the working tree with a baseline (see
 * src/compat/baseline.ts for the default) and applies `schemas/compat-allowlist.json`.
 * Exit codes: 0 compatible, 1 breaking change not allowlisted or stale allowlist entry, 2 usage or input error.
 */

import { runSchemaDiff } from "./schema-diff/run.js";

process.exitCode = await runSchemaDiff(process.argv.slice(2), {
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  color: process.stdout.isTTY === true && !process.env.NO_COLOR,
});
