import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { CHROMIUM_PATH, chromium as chromiumRequirement, describeIf } from "./requirements.js";

/**
 * A real browser for the login e2e tests: Debian's `chromium` (installed by `.ci/run`), driven by
 * playwright-core, headless, with a fresh profile per launch and every background service off
 * (this machine refuses Chromium's connections to Google). Override the binary with
 * `CODEX_AUTH_CHROMIUM`.
 *
 * Without the binary the browser suites FAIL under CI (`CI` set): CI installs it, so its absence
 * is a broken setup, not a reason to skip. Locally they are skipped and named in the run's
 * "skipped suites" block (test/support/requirements.ts, where `CODEX_AUTH_TEST_HIDE=chromium`
 * also hides an installed one).
 */
export { CHROMIUM_PATH };

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function chromiumAvailable(): boolean {
  return chromiumRequirement().available;
}

/** `describe` when Chromium is there; else a failing test under CI, or a recorded skip locally. */
export function describeWithChromium(name: string, body: () => void): void {
  describeIf(chromiumRequirement(), name, body);
}

export interface Browser {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), "codex-auth-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: ARGS });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  return {
    newPage: () => context.newPage(),
    async close() {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}
