import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSessions, sessionEnv } from "../../scripts/record-transcripts.js";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { RawAppServer } from "../support/app-server-process.js";
import { OutboundValidator } from "../support/app-server-validation.js";
import { CODEX_VERSION } from "../support/codex-reference.js";
import { readTranscript, transcriptNames, type TranscriptLine } from "../support/transcripts.js";

/**
 * Replays every session recorded from the pinned Codex (`npm run record-transcripts`) against
 * `codex-auth app-server` (spawned from dist/): the same results, the same error codes and leading
 * messages, the same notifications, in the same order. Host-dependent fields (`userAgent`,
 * `codexHome`) are compared by shape, and every line the server writes is checked against the
 * generated validators. Each session runs in the environment test/fixtures/codex/sessions.json
 * gives it, as it did when it was recorded.
 */

type Entry = TranscriptLine;

const transcripts = transcriptNames(CODEX_VERSION);
const environments = new Map(loadSessions().map((session) => [session.name, session.environment]));

/** `probe/<codex version> (Debian 12.0.0; x86_64) xterm (probe; 0.0.1)`: name/version (os; arch) terminal (name; client version). */
const USER_AGENT_SHAPE = /^[^\s/]+\/\S+ \([^;()]+; [^;()]+\) \S+ \([^;()]+; [^;()]+\)$/;

function load(name: string): Entry[] {
  return readTranscript(CODEX_VERSION, name);
}

/** The part of an error message every implementation must share (Codex's method/variant lists are its own). */
function leadingText(message: string): string {
  const at = message.indexOf(", expected");
  return at < 0 ? message : message.slice(0, at);
}

function expectSameMessage(actual: Record<string, unknown>, expected: Record<string, unknown>, home: string, where: string): void {
  if ("error" in expected) {
    const want = expected.error as { code: number; message: string };
    expect(actual, where).toHaveProperty("error");
    const got = actual.error as { code: number; message: string };
    expect({ id: actual.id, code: got.code, message: leadingText(got.message) }, where).toEqual({
      id: expected.id,
      code: want.code,
      message: leadingText(want.message),
    });
    return;
  }
  const result = (expected as { result?: Record<string, unknown> }).result;
  if (result && "userAgent" in result && "codexHome" in result) {
    const got = actual.result as Record<string, unknown>;
    expect(got.userAgent, `${where}: userAgent shape`).toMatch(USER_AGENT_SHAPE);
    expect(String(got.userAgent).startsWith(`${String(result.userAgent).split("/")[0]}/`), `${where}: userAgent starts with the client name`).toBe(true);
    expect(path.isAbsolute(String(got.codexHome)), `${where}: codexHome is absolute`).toBe(true);
    expect(got.codexHome, `${where}: codexHome`).toBe(home);
    expect({ ...actual, result: { ...got, userAgent: "<ua>", codexHome: "<home>" } }, where).toEqual({
      ...expected,
      result: { ...result, userAgent: "<ua>", codexHome: "<home>" },
    });
    return;
  }
  expect(actual, where).toEqual(expected);
}

describe(`Codex ${CODEX_VERSION} transcripts replayed against codex-auth app-server`, () => {
  let dev: DevServer;
  beforeAll(async () => {
    dev = await startDevServer();
  });
  afterAll(async () => {
    await dev?.close();
  });

  it("has a recording of every scripted session", () => {
    expect(transcripts).toEqual([...environments.keys()].sort());
  });

  for (const file of transcripts) {
    it(file, async () => {
      const entries = load(file);
      // The recorder starts Codex with `-c chatgpt_base_url=<dev-server>`: start-up backend calls
      // (workspace routing discovery) reach the same dev-server here.
      const server = new RawAppServer({ env: sessionEnv(environments.get(file) ?? "none", dev), config: [`chatgpt_base_url=${dev.chatgptBaseUrl}`] });
      const validator = new OutboundValidator();
      const realHome = (await import("node:fs")).realpathSync(server.home.dir);
      try {
        for (const [index, entry] of entries.entries()) {
          const where = `${file}:${index + 1}`;
          if (entry.dir === "c2s") {
            if (entry.raw !== undefined) server.send(entry.raw);
            else {
              validator.noteClientRequest(entry.msg);
              server.send(entry.msg);
            }
            continue;
          }
          const line = await server.nextLine();
          validator.checkLine(line);
          expectSameMessage(JSON.parse(line) as Record<string, unknown>, entry.msg!, realHome, where);
        }
      } finally {
        const exit = await server.close();
        expect(exit, "exit at stdin EOF").toEqual({ code: 0, signal: null });
      }
      // Nothing beyond the recording: the server answered exactly what Codex answered.
      const extra = server.lines.slice(entries.filter((entry) => entry.dir === "s2c").length);
      expect(extra, "unexpected extra output").toEqual([]);
      expect(validator.problems).toEqual([]);
    });
  }
});
