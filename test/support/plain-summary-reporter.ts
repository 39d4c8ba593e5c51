import { existsSync, readFileSync, rmSync } from "node:fs";
import type { Reporter, TestModule } from "vitest/node";
import type { SkipRecord } from "./requirements.js";

/**
 * Ends every run with the plain `N passed, N failed` line that CI reads (", N skipped" may follow),
 * always the last line. Before it, when suites were skipped for want of something outside npm
 * (test/support/requirements.ts), a "skipped suites" block names each one and the one command that
 * enables it, so a fresh machine's `npm ci && npm test` says what it did not test.
 */
export default class PlainSummaryReporter implements Reporter {
  onInit(): void {
    const log = process.env.CODEX_AUTH_SKIP_LOG;
    if (log) rmSync(log, { force: true });
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of modules) {
      let failedTests = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failedTests++;
        else skipped++;
      }
      // Errors outside any test (a file that fails to load, a failing beforeAll/afterAll) count too:
      // a suite whose end-of-suite check fails is a failed run even when every test passed.
      let suiteErrors = module.errors().length;
      for (const suite of module.children.allSuites()) suiteErrors += suite.errors().length;
      failed += failedTests + suiteErrors;
      if (module.state() === "failed" && failedTests === 0 && suiteErrors === 0) failed++;
    }
    failed += errors.length;
    const block = skippedSuites();
    if (block) process.stdout.write(`\n${block}`);
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
  }
}

function skippedSuites(): string {
  const log = process.env.CODEX_AUTH_SKIP_LOG;
  if (!log || !existsSync(log)) return "";
  const records = readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as SkipRecord);
  rmSync(log, { force: true });
  if (records.length === 0) return "";
  // One entry per suite, grouped under the command that enables them.
  const byCommand = new Map<string, Set<string>>();
  for (const record of records) {
    const suites = byCommand.get(record.enable) ?? new Set<string>();
    suites.add(`${record.file} › ${record.suite} (needs ${record.what})`);
    byCommand.set(record.enable, suites);
  }
  const hide = process.env.CODEX_AUTH_TEST_HIDE?.trim();
  const lines = [`Skipped suites (not tested on this machine${hide ? `; CODEX_AUTH_TEST_HIDE=${hide} hid what is installed` : ""}):`];
  for (const [command, suites] of byCommand) {
    for (const suite of suites) lines.push(`  - ${suite}`);
    lines.push(`    enable with: ${command}`);
  }
  return `${lines.join("\n")}\n`;
}
