import { existsSync, readdirSync, readFileSync } from "node:fs";
import { CODEX_VERSION } from "./codex-reference.js";
import { codexFixture } from "./fixtures.js";

/**
 * Sessions recorded from the reference Codex by `npm run record-transcripts` (one folder per
 * version under test/fixtures/codex/transcripts/). Tests take protocol values from here, so that
 * adopting a new Codex release changes recordings, not test code.
 */
export type TranscriptLine = { dir: "c2s" | "s2c"; msg?: Record<string, unknown>; raw?: string };

export function transcriptVersions(): string[] {
  return readdirSync(codexFixture("transcripts")).filter((name) => /^\d+\.\d+\.\d+$/.test(name)).sort();
}

export function transcriptNames(version: string = CODEX_VERSION): string[] {
  const dir = codexFixture("transcripts", version);
  if (!existsSync(dir)) throw new Error(`no transcripts recorded for Codex ${version}: run \`npm run record-transcripts -- ${version}\``);
  return readdirSync(dir).filter((file) => file.endsWith(".jsonl")).map((file) => file.slice(0, -".jsonl".length)).sort();
}

export function readTranscript(version: string, name: string): TranscriptLine[] {
  return readFileSync(codexFixture("transcripts", version, `${name}.jsonl`), "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as TranscriptLine);
}

/** The params of the `nth` (0-based) notification `method` the pinned Codex sent in a recorded session. */
export function recordedNotification(session: string, method: string, nth = 0): Record<string, unknown> {
  const found = readTranscript(CODEX_VERSION, session).filter((line) => line.dir === "s2c" && line.msg?.method === method)[nth];
  if (!found) throw new Error(`Codex ${CODEX_VERSION} recording ${session} has no notification ${method} #${nth}`);
  return found.msg!.params as Record<string, unknown>;
}

/**
 * `account/updated` params as the pinned Codex sends them, with the given fields set: every field
 * the recording carries (e.g. `reason: null` from 0.171.0) comes from the recording of a logout.
 */
export function accountUpdated(fields: { authMode: string | null; planType: string | null }): Record<string, unknown> {
  return { ...recordedNotification("handshake-apikey-logout", "account/updated", 1), ...fields };
}

/** `account/login/completed` params as the pinned Codex sends them (from its API-key login), with the given fields set. */
export function loginCompleted(fields: { loginId: string | null; success: boolean; error: string | null }): Record<string, unknown> {
  return { ...recordedNotification("handshake-apikey-logout", "account/login/completed", 0), ...fields };
}
