#!/usr/bin/env node
// The `codex-auth` bin. Everything else is imported lazily by the command that needs it. No
// top-level await: the shipped bin is this file bundled as CommonJS (scripts/build.mjs).
import { describeLibraryError, terminalSafe } from "../protocol/safe-text.js";
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
    // A bug, not a user error: one line, no stack. Our typed errors keep their (secret-free)
    // message; anything else is a library's, which may quote its input.
    const ours = error instanceof Error && ["AuthError", "HttpError", "ChatgptLoginError"].includes(error.name);
    process.stderr.write(`Error: ${terminalSafe(ours ? (error as Error).message : describeLibraryError(error))}\n`);
    process.exitCode = 1;
  },
);
