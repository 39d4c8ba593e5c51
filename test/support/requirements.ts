import { appendFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Suites that need something from outside npm (a Debian package, root, the reference Codex). When
 * it is missing the suite is skipped and recorded here; the summary reporter ends the run with a
 * "skipped suites" block naming each one and the one command that enables it
 * (test/support/plain-summary-reporter.ts). The record is a JSON-lines file the reporter names in
 * CODEX_AUTH_SKIP_LOG (set by vitest.config.ts; without it nothing is recorded).
 */
export interface Requirement {
  /** What is missing, e.g. "keyctl (Debian keyutils)". */
  what: string;
  available: boolean;
  /** The one command that makes it available, e.g. "sudo apt-get install -y keyutils". */
  enable: string;
}

export interface SkipRecord {
  file: string;
  suite: string;
  what: string;
  enable: string;
}

export function recordSkip(suite: string, requirement: Requirement): void {
  const log = process.env.CODEX_AUTH_SKIP_LOG;
  if (!log) return;
  const file = path.relative(path.resolve(import.meta.dirname, "../.."), expect.getState().testPath ?? "");
  const record: SkipRecord = { file, suite, what: requirement.what, enable: requirement.enable };
  appendFileSync(log, `${JSON.stringify(record)}\n`);
}

/** `describe` when the requirement is met; else `describe.skip`, recorded for the summary. */
export function describeIf(requirement: Requirement, name: string, body: () => void): void {
  if (requirement.available) {
    describe(name, body);
    return;
  }
  recordSkip(name, requirement);
  describe.skip(name, body);
}

/** `it` when the requirement is met; else `it.skip`, recorded for the summary. */
export function itIf(requirement: Requirement, name: string, body: () => Promise<void> | void): void {
  if (requirement.available) {
    it(name, body);
    return;
  }
  recordSkip(name, requirement);
  it.skip(name, body);
}

/** util-linux `script`: a real terminal on a child's stdin. */
export function scriptCommand(available: boolean): Requirement {
  return { what: "script (Debian util-linux)", available, enable: "sudo apt-get install -y util-linux" };
}
