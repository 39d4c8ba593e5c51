#!/usr/bin/env node
// The `codex-auth` bin. Everything else is imported lazily by the command that needs it.
import { runCli } from "./run.js";

try {
  process.exitCode = await runCli(process.argv.slice(2), {
    env: process.env,
    // A getter: touching process.stdin builds a stream, which `login status` never needs.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
  });
} catch (error) {
  // A bug, not a user error: one line, no stack (messages are secret-free by construction).
  process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
