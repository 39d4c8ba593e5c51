#!/usr/bin/env node
// The `codex-auth` bin. Everything else is imported lazily by the command that needs it. No
// top-level await: the shipped bin is this file bundled as CommonJS (scripts/build.mjs).
import { runCli } from "./run.js";
import { lazyStdio } from "./stdio.js";

runCli(process.argv.slice(2), {
  env: process.env,
  // A getter: touching process.stdin builds a stream, which `login status` never needs.
  get stdin() {
    return process.stdin;
  },
  stdout: lazyStdio(1, () => process.stdout),
  stderr: lazyStdio(2, () => process.stderr),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // A bug, not a user error: one line, no stack (messages are secret-free by construction).
    process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
