import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { codexFixture } from "../support/fixtures.js";
import { RawAppServer, type ServerLaunch } from "../support/app-server-process.js";
import { OutboundValidator } from "../support/app-server-validation.js";

/**
 * Replays every session recorded from Codex 0.169.0 against `codex-auth app-server` (spawned from
 * dist/): the same results, the same error codes and leading messages, the same notifications, in
 * the same order. Host-dependent fields (`userAgent`, `codexHome`) are compared by shape, and
 * every line the server writes is checked against the generated validators.
 */

type Entry = { dir: "c2s" | "s2c"; msg?: Record<string, unknown>; raw?: string };

const transcriptsDir = codexFixture("transcripts");
const transcripts = readdirSync(transcriptsDir).filter((file) => file.endsWith(".jsonl")).sort();

/** What a recording implies about the server's environment (the default: no credentials). */
const setups: Record<string, (dev: DevServer) => ServerLaunch> = {
  // getAuthStatus reports personalAccessToken: the session ran with CODEX_ACCESS_TOKEN set to a
  // PAT whose whoami succeeded; the dev server's public demo PAT plays that part.
  "v1-getauthstatus-pat-omits-token.jsonl": (dev) => ({ env: { ...dev.env(), CODEX_ACCESS_TOKEN: "at-demo-valid" } }),
};

/** `probe/0.169.0 (Debian 12.0.0; x86_64) xterm (probe; 0.0.1)`: name/version (os; arch) terminal (name; client version). */
const USER_AGENT_SHAPE = /^[^\s/]+\/\S+ \([^;()]+; [^;()]+\) \S+ \([^;()]+; [^;()]+\)$/;

function load(file: string): Entry[] {
  return readFileSync(path.join(transcriptsDir, file), "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Entry);
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

describe("Codex 0.169.0 transcripts replayed against codex-auth app-server", () => {
  let dev: DevServer;
  beforeAll(async () => {
    dev = await startDevServer();
  });
  afterAll(async () => {
    await dev?.close();
  });

  it("has recordings to replay", () => {
    expect(transcripts.length).toBeGreaterThan(0);
  });

  for (const file of transcripts) {
    it(file, async () => {
      const entries = load(file);
      const server = new RawAppServer({ ...(setups[file]?.(dev) ?? {}) });
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
