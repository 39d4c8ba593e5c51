import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "vitest";

/**
 * The small helpers every kind of test uses, in one place: waiting for a state change, taking a
 * promise's rejection, a temporary folder (a CODEX_HOME), waiting for the build.
 */
export { CLI, DIST, ROOT, waitForBuild } from "./build.js";

/**
 * How long `until` waits by default: CODEX_AUTH_TEST_WAIT_MS, else 60 s. A deadline only ends a
 * test that would otherwise hang; it is far above what a loaded machine needs.
 */
export const TEST_WAIT_MS = Number(process.env.CODEX_AUTH_TEST_WAIT_MS) || 60_000;

/** Polls until `condition` holds (a state change made elsewhere; no timing assertion). */
export async function until(condition: () => boolean, what = "a condition", timeoutMs = TEST_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 5; !condition(); pause = Math.min(pause * 2, 50)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/** The reason `promise` rejects with (failing if it resolves), checked to be a `type` when given. */
export async function rejection<E = Error>(promise: Promise<unknown>, type?: abstract new (...args: never[]) => E): Promise<E> {
  const outcome = await promise.then(
    () => ({ rejected: false as const }),
    (reason: unknown) => ({ rejected: true as const, reason }),
  );
  if (!outcome.rejected) throw new Error(`expected a rejection${type ? ` with ${type.name}` : ""}`);
  if (type) expect(outcome.reason).toBeInstanceOf(type);
  return outcome.reason as E;
}

export interface TempDir {
  dir: string;
  remove(): void;
}

/** A fresh folder under the OS temp dir (a CODEX_HOME, a scratch dir); `remove()` deletes it. */
export function tempDir(prefix = "codex-auth-"): TempDir {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
