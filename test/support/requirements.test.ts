import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "./run.js";

/**
 * The mechanism a fresh machine relies on (test/support/requirements.ts and the summary reporter),
 * through a real vitest run of a fixture file with keyutils hidden (CODEX_AUTH_TEST_HIDE): locally
 * the suite needing it is skipped and named, with the command that enables it, just above the
 * summary line; under CI the same run fails, saying what is missing.
 */
const ROOT = path.resolve(import.meta.dirname, "../..");
const VITEST = path.join(ROOT, "node_modules/vitest/vitest.mjs");
const CONFIG = path.join(ROOT, "test/support/fixtures/requirements/vitest.config.ts");
const FIXTURE = "test/support/fixtures/requirements/needs-keyutils.fixture.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "codex-auth-requirements-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A child vitest on the fixture, with none of this run's own vitest state in its environment. */
function fixtureRun(name: string, extra: Record<string, string>) {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(VITEST|TEST$|NODE_ENV$|CI$|CODEX_AUTH_SKIP_LOG$|CODEX_AUTH_TEST_HIDE$)/.test(key)) env[key] = value;
  }
  Object.assign(env, { NO_COLOR: "1", CODEX_AUTH_SKIP_LOG: path.join(scratch, `${name}.jsonl`), CODEX_AUTH_TEST_HIDE: "keyutils", ...extra });
  return run(process.execPath, [VITEST, "run", "--config", CONFIG], { cwd: ROOT, env });
}

describe.concurrent("a missing requirement (keyutils hidden by CODEX_AUTH_TEST_HIDE)", () => {
  it("locally: skipped, and the run ends with the suites and the command that enables them", async () => {
    const result = await fixtureRun("local", {});
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout.trimEnd().split("\n").slice(-6)).toEqual([
      "Skipped suites (not tested on this machine; CODEX_AUTH_TEST_HIDE=keyutils hid what is installed):",
      `  - ${FIXTURE} › a suite that needs keyutils (needs a kernel keyring: keyctl (Debian keyutils))`,
      `  - ${FIXTURE} › one test that needs keyutils (needs a kernel keyring: keyctl (Debian keyutils))`,
      "    enable with: sudo apt-get install -y keyutils",
      "",
      "1 passed, 0 failed, 2 skipped",
    ]);
  });

  it("under CI: the same suites fail, naming what is missing and the command; a failing end-of-suite hook counts too", async () => {
    const result = await fixtureRun("ci", { CI: "true", FIXTURE_AFTER_ALL_FAILS: "1" });
    expect(result.code).toBe(1);
    // Two missing-requirement failures, and the afterAll that failed although its tests passed.
    expect(result.stdout.trimEnd().split("\n").at(-1)).toBe("1 passed, 3 failed");
    expect(result.stdout).not.toContain("Skipped suites");
    expect(result.stdout + result.stderr).toContain(
      "missing: a kernel keyring: keyctl (Debian keyutils) (CODEX_AUTH_TEST_HIDE=keyutils). CI installs everything the tests need (.ci/run), so this is a broken setup; enable with: sudo apt-get install -y keyutils",
    );
  });
});
