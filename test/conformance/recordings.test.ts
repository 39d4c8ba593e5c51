import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSessions, recordSession, renderTranscript, transcriptDir } from "../../scripts/record-transcripts.js";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { CODEX_VERSION, referenceCodexBinary } from "../support/codex-reference.js";

/**
 * The committed recordings of the pinned Codex are what `npm run record-transcripts` writes: each
 * session is played again against the real binary, and every line each way must come out byte for
 * byte the same, in the same order. (Where a client line falls between server lines depends on
 * timing, so the two directions are compared as two sequences.) A hand-edited transcript fails here.
 */
describe(`recordings of Codex ${CODEX_VERSION}`, () => {
  let dev: DevServer;
  beforeAll(async () => {
    dev = await startDevServer();
  });
  afterAll(async () => {
    await dev?.close();
  });

  for (const session of loadSessions()) {
    it(`${session.name}: recorded again from the binary, byte for byte`, async () => {
      const recorded = renderTranscript(await recordSession(referenceCodexBinary(), session, dev)).split("\n");
      const committed = readFileSync(path.join(transcriptDir(CODEX_VERSION), `${session.name}.jsonl`), "utf8").split("\n");
      const way = (lines: string[], dir: string) => lines.filter((line) => line.startsWith(`{"dir":"${dir}"`));
      expect(way(recorded, "c2s")).toEqual(way(committed, "c2s"));
      expect(way(recorded, "s2c")).toEqual(way(committed, "s2c"));
      expect(recorded.length).toBe(committed.length);
    }, 120_000);
  }
});
