import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it, type TestOptions } from "vitest";

/**
 * What tests need from outside npm (Debian packages, root), one definition per family, and the
 * `describeIf` / `itIf` that run a suite only where its requirement is met.
 *
 * When a requirement is missing:
 * - locally, the suite is skipped and recorded; the summary reporter ends the run with a "skipped
 *   suites" block naming each one and the one command that enables it
 *   (test/support/plain-summary-reporter.ts). The record is a JSON-lines file named in
 *   CODEX_AUTH_SKIP_LOG (set by vitest.config.ts; without it nothing is recorded);
 * - under CI (`CI` set), the suite FAILS instead: `.ci/run` installs everything, so an absence
 *   there is a broken setup, not a reason to test less.
 *
 * `CODEX_AUTH_TEST_HIDE` (a comma list of family names: chromium, gnome-keyring, keyutils,
 * util-linux, root, git) makes the checks report those families as missing although they are
 * installed: it shows what a machine without them does, without uninstalling anything.
 */
export interface Requirement {
  /** What is missing, e.g. "keyctl (Debian keyutils)". */
  what: string;
  available: boolean;
  /** The one command that makes it available, e.g. "sudo apt-get install -y keyutils". */
  enable: string;
}

export type Family = "chromium" | "gnome-keyring" | "keyutils" | "util-linux" | "root" | "git";

const HIDDEN = new Set(
  (process.env.CODEX_AUTH_TEST_HIDE ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean),
);

/** Whether CODEX_AUTH_TEST_HIDE asks to treat `family` as not installed. */
export function hidden(family: Family): boolean {
  return HIDDEN.has(family);
}

const underCi = () => Boolean(process.env.CI) && process.env.CI !== "false" && process.env.CI !== "0";

/** Whether a command exists on PATH (an executable file in one of its folders). */
export function onPath(name: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, name)));
}

/** A requirement met when `family` is not hidden and every command is on PATH; `what` names the missing ones. */
function commands(family: Family, needed: Record<string, string>, purpose: string, enable: string): Requirement {
  const missing = hidden(family) ? Object.keys(needed) : Object.keys(needed).filter((command) => !onPath(command));
  const packages = [...new Set(missing.map((command) => needed[command]))];
  return {
    what: missing.length === 0 ? purpose : `${purpose}: ${missing.join(", ")} (Debian ${packages.join(", ")})`,
    available: missing.length === 0,
    enable,
  };
}

/** Computed once per test file, on first use (some probes start processes). */
function once<T>(compute: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: compute() }).v;
}

/** util-linux `script`: a real terminal on a child's stdin. (`available`: the caller's own check, kept for old callers.) */
export function scriptCommand(available = onPath("script")): Requirement {
  const requirement = commands("util-linux", { script: "util-linux" }, "a terminal for the child", "sudo apt-get install -y util-linux");
  return { ...requirement, available: requirement.available && available };
}

/** util-linux `prlimit`: a file-size limit on one child. */
export const prlimitCommand = once(() => commands("util-linux", { prlimit: "util-linux" }, "a file-size limit", "sudo apt-get install -y util-linux"));

/**
 * util-linux `unshare` giving one child a private mount table: `-m` as root, else `-rm` (a user
 * namespace, where the kernel allows them). `flags` is what worked; null when nothing did.
 */
export const unshareMounts = once((): Requirement & { flags: string[] | null } => {
  const requirement = commands("util-linux", { unshare: "util-linux" }, "a private mount namespace", "sudo apt-get install -y util-linux && sudo npm test");
  if (!requirement.available) return { ...requirement, flags: null };
  for (const flags of process.getuid?.() === 0 ? [["-m"], ["-rm"]] : [["-rm"]]) {
    if (spawnSync("unshare", [...flags, "true"]).status === 0) return { ...requirement, flags };
  }
  return { what: "a private mount namespace: `unshare -m` needs root, `unshare -rm` user namespaces", available: false, enable: "sudo npm test", flags: null };
});

/** Root, able to mount a tmpfs (to fill it). */
export const rootTmpfs = once((): Requirement => {
  const requirement = { what: "root, to mount a tmpfs", available: false, enable: "sudo npm test" };
  if (hidden("root") || process.getuid?.() !== 0) return requirement;
  const dir = mkdtempSync(path.join(tmpdir(), "codex-auth-tmpfs-probe-"));
  try {
    if (spawnSync("mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", dir]).status !== 0) return requirement;
    return { ...requirement, available: spawnSync("umount", [dir]).status === 0 };
  } finally {
    rmdirSync(dir);
  }
});

/** keyutils `keyctl`: a kernel session keyring for one child. */
export const keyutils = once(() => commands("keyutils", { keyctl: "keyutils" }, "a kernel keyring", "sudo apt-get install -y keyutils"));

/**
 * A Secret Service the tests start themselves (test/support/secret-service.ts): a private D-Bus
 * session (`dbus-run-session`, `dbus-send`) with gnome-keyring, and libsecret's `secret-tool` as an
 * independent client reading what was stored.
 */
export const secretService = once(() =>
  commands(
    "gnome-keyring",
    { "dbus-run-session": "dbus-daemon", "dbus-send": "dbus-bin", "gnome-keyring-daemon": "gnome-keyring", "secret-tool": "libsecret-tools" },
    "a Secret Service (gnome-keyring on a private D-Bus session)",
    "sudo apt-get install -y dbus-daemon dbus-bin gnome-keyring libsecret-tools",
  ),
);

/** Debian's Chromium (or `CODEX_AUTH_CHROMIUM`), driven by playwright-core in the browser-login tests. */
export const CHROMIUM_PATH = process.env.CODEX_AUTH_CHROMIUM?.trim() || "/usr/bin/chromium";
export const chromium = once(
  (): Requirement => ({ what: `Chromium at ${CHROMIUM_PATH}`, available: !hidden("chromium") && existsSync(CHROMIUM_PATH), enable: "sudo apt-get install -y chromium" }),
);

/** git, for tests that build throwaway repositories. */
export const git = once(() => commands("git", { git: "git" }, "throwaway git repositories", "sudo apt-get install -y git"));

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

/** Why a suite cannot run, for the failure under CI. */
function missingUnderCi(requirement: Requirement): Error {
  const hiddenNote = HIDDEN.size ? ` (CODEX_AUTH_TEST_HIDE=${[...HIDDEN].join(",")})` : "";
  return new Error(`missing: ${requirement.what}${hiddenNote}. CI installs everything the tests need (.ci/run), so this is a broken setup; enable with: ${requirement.enable}`);
}

/**
 * `describe` when the requirement is met; else under CI a suite of one failing test, locally
 * `describe.skip`, recorded for the summary. `options` go to `describe` (e.g. `{ concurrent: true }`).
 */
export function describeIf(requirement: Requirement, name: string, body: () => void, options: TestOptions = {}): void {
  if (requirement.available) {
    describe(name, options, body);
  } else if (underCi()) {
    describe(name, () => {
      it(`needs ${requirement.what}`, () => {
        throw missingUnderCi(requirement);
      });
    });
  } else {
    recordSkip(name, requirement);
    describe.skip(name, options, body);
  }
}

/** `it` when the requirement is met; else under CI a failing test, locally `it.skip`, recorded for the summary. */
export function itIf(requirement: Requirement, name: string, body: () => Promise<void> | void, timeout?: number): void {
  if (requirement.available) {
    it(name, body, timeout);
  } else if (underCi()) {
    it(name, () => {
      throw missingUnderCi(requirement);
    });
  } else {
    recordSkip(name, requirement);
    it.skip(name, body);
  }
}
