#!/usr/bin/env node
// The `codex-auth` bin. Everything else is imported lazily by the command that needs it.
import { runCli } from "./run.js";

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
