import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import type { NetworkFault } from "../../src/dev-server/index.js";
import { DIST, waitForBuild } from "../support/build.js";

/**
 * Shared knobs and checks of the fault and fuzz suite (`test/faults/`).
 *
 * Counts: `FAULTS_RUNS` (default 50, what `npm test` runs; `npm run test:faults` sets 500) is the
 * number of fast-check runs per property, and scales the loops (kills, concurrent rounds) through
 * `scaled()`. Seeds: fixed by default so a run is reproducible; `FAULTS_SEED` overrides it, and
 * fast-check prints the seed and counterexample path of a failure.
 */

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

function integer(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return value;
}

export const FAULTS_RUNS = positiveInteger("FAULTS_RUNS", 50);
export const FAULTS_SEED = integer("FAULTS_SEED", 20_260_601);

/** `base` at the default 50 runs, growing linearly with FAULTS_RUNS (at least `base`). */
export function scaled(base: number): number {
  return Math.max(base, Math.round((base * FAULTS_RUNS) / 50));
}

/** A test timeout for work that grows with `scaled()`. */
export function scaledTimeout(baseMs: number): number {
  // Never below the suite's per-test knob (CODEX_AUTH_TEST_TIMEOUT_MS, 120 s): a loaded machine
  // may take longer, and a test must not fail for that.
  const perTestKnob = Number(process.env.CODEX_AUTH_TEST_TIMEOUT_MS) || 120_000;
  return Math.max(baseMs, perTestKnob, Math.round((baseMs * FAULTS_RUNS) / 50));
}

/** fast-check parameters: the fixed (or overridden) seed and the run count. */
export function propertyParameters(numRuns = FAULTS_RUNS): { seed: number; numRuns: number; verbose: 1 } {
  return { seed: FAULTS_SEED, numRuns, verbose: 1 };
}

/** A small deterministic PRNG (mulberry32) for the loops that are not fast-check properties. */
export function seededRandom(salt: number): () => number {
  let state = (FAULTS_SEED ^ Math.imul(salt, 0x9e3779b9)) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Waits while dist/ is incomplete (the shared helper, under its old name). */
export const waitForDist = waitForBuild;
export { DIST };

/** Every entry of a CODEX_HOME: name → mode and content (files), or the kind (anything else). */
export type HomeSnapshot = Record<string, { mode: number; content: string } | { kind: string }>;

export function snapshotHome(dir: string): HomeSnapshot {
  const snapshot: HomeSnapshot = {};
  if (!existsSync(dir)) return snapshot;
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    const stat = lstatSync(file);
    // Codex's lock files (auth.lock, auth.json.lock): empty, left in place by every writer, Codex or us. Not state.
    if (isEmptyLockFile(name, stat)) continue;
    snapshot[name] = stat.isFile() ? { mode: stat.mode & 0o777, content: readFileSync(file, "latin1") } : { kind: stat.isDirectory() ? "dir" : "other" };
  }
  return snapshot;
}

/** An empty auth.lock or auth.json.lock (what any write, Codex's or ours, leaves behind). */
export function isEmptyLockFile(name: string, stat: { isFile(): boolean; size: number }): boolean {
  return (name === "auth.lock" || name === "auth.json.lock") && stat.isFile() && stat.size === 0;
}

/** The stored credentials are untouched: same files, same bytes, same modes, nothing added (no temp or lock file). */
export function expectHomeUnchanged(dir: string, before: HomeSnapshot, what: string): void {
  expect(snapshotHome(dir), `${what}: CODEX_HOME must be unchanged`).toEqual(before);
}

/** The faults every network caller is put through, with a label for test names. */
export const QUICK_FAULTS: ReadonlyArray<readonly [string, NetworkFault]> = [
  ["503 with a JSON error body", { kind: "status", status: 503 }],
  ["502 with no body", { kind: "status", status: 502, body: "empty" }],
  ["504 with a proxy's HTML page", { kind: "status", status: 504, body: "html" }],
  ["malformed JSON", { kind: "malformed" }],
  ["JSON violating the contract", { kind: "contract" }],
  ["a connection reset before answering", { kind: "reset" }],
  ["a connection reset mid-body", { kind: "reset", afterBytes: 5 }],
];

/** Faults that only end at the client's deadline. */
export const DEADLINE_FAULTS: ReadonlyArray<readonly [string, NetworkFault]> = [
  ["a hang", { kind: "hang" }],
  ["a slow drip", { kind: "drip", intervalMs: 50 }],
];

export const REASONS: Readonly<Record<number, string>> = { 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout" };

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
