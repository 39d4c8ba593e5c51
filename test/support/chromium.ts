import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { describe, it } from "vitest";
import { recordSkip, type Requirement } from "./requirements.js";

/**
 * A real browser for the login e2e tests: Debian's `chromium` (installed by `.ci/run`), driven by
 * playwright-core, headless, with a fresh profile per launch and every background service off
 * (this machine refuses Chromium's connections to Google). Override the binary with
 * `CODEX_AUTH_CHROMIUM`.
 *
 * Without the binary the browser suites FAIL under CI (`CI` set): CI installs it, so its absence
 * is a broken setup, not a reason to skip. Locally they are skipped with a message saying so.
 */
export const CHROMIUM_PATH = process.env.CODEX_AUTH_CHROMIUM?.trim() || "/usr/bin/chromium";

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
  return existsSync(CHROMIUM_PATH);
}

const CHROMIUM_REQUIREMENT: Requirement = { what: `Chromium at ${CHROMIUM_PATH}`, available: false, enable: "sudo apt-get install -y chromium" };

/** `describe` when Chromium is there; else a failing test under CI, or a skip (with a message) locally. */
export function describeWithChromium(name: string, body: () => void): void {
  if (chromiumAvailable()) {
    describe(name, body);
    return;
  }
  const reason = `${CHROMIUM_PATH} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does`;
  if (process.env.CI) {
    describe(name, () => {
      it("needs Chromium", () => {
        throw new Error(reason);
      });
    });
  } else {
    process.stderr.write(`skipping "${name}": ${reason}\n`);
    recordSkip(name, CHROMIUM_REQUIREMENT);
    describe.skip(name, body);
  }
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
