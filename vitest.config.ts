import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig } from "vitest/config";
import LongFilesFirst from "./test/support/long-files-first.js";

/**
 * `npm test`. Most files wait on child processes and local servers rather than compute, so more
 * files run at once than there are cores (vitest's default on 2 cores is one at a time).
 *
 * Knobs: CODEX_AUTH_TEST_WORKERS (files at once, default 4), CODEX_AUTH_TEST_TIMEOUT_MS (per test
 * and hook, default 120 s: far above what any test takes on a loaded machine; a hung test still
 * ends). Processes under test get patient deadlines (test/support/deadlines.ts).
 *
 * Files start longest first, judged by folder, the same with or without vitest's duration cache
 * (test/support/long-files-first.ts).
 */
export const testWorkers = Number(process.env.CODEX_AUTH_TEST_WORKERS) || 4;
export const testTimeoutMs = Number(process.env.CODEX_AUTH_TEST_TIMEOUT_MS) || 120_000;

// Where suites skipped for want of a Debian package (or root, or the reference Codex) are recorded
// for the summary's "skipped suites" block (test/support/requirements.ts).
process.env.CODEX_AUTH_SKIP_LOG ??= path.join(tmpdir(), `codex-auth-skipped-suites-${process.pid}.jsonl`);

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "./test/support/plain-summary-reporter.ts"],
    maxWorkers: testWorkers,
    // One module graph per worker instead of one per test file: the files share no module state
    // they depend on (each builds its own servers, homes and processes), and importing src/ anew
    // for each of 100 files was a fifth of the suite's CPU time.
    isolate: false,
    testTimeout: testTimeoutMs,
    hookTimeout: testTimeoutMs,
    sequence: { sequencer: LongFilesFirst },
  },
});
