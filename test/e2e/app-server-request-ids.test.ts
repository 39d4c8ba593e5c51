import { spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { LineSplitter } from "../../src/protocol/index.js";
import { referenceCodexBinary } from "../support/codex-reference.js";
import { appServerArgv, tempCodexHome } from "../support/app-server-process.js";

/**
 * Request ids are echoed byte for byte, 64-bit integers included (issue #10, item 8). The same
 * lines go to our server and to Codex 0.171.0 (whose ids are i64): both answer the same ids with
 * the same digits, and both leave unanswered what is no i64 (beyond its range, or written as a float).
 */
const ID_TEXTS = [
  "9223372036854775807", // i64 max
  "9007199254740993", // 2^53 + 1: JSON.parse alone would round it
  "-9223372036854775808", // i64 min
  "9223372036854775808", // beyond i64: no answer
  "18446744073709551615", // u64 max: no answer
  "1e3", // a float's syntax: no answer
  "1.0",
  "7",
  '"s-1"',
];

const homes: Array<() => void> = [];
afterAll(() => homes.forEach((remove) => remove()));

/** Sends initialize (with i64 max as its id) and one getAuthStatus per id, then a sentinel; returns the raw id of every response. */
async function answeredIds(command: string, args: string[]): Promise<string[]> {
  const home = tempCodexHome();
  homes.push(home.remove);
  const child = spawn(command, args, { env: { ...process.env, CODEX_HOME: home.dir }, stdio: ["pipe", "pipe", "ignore"] });
  const ids: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no sentinel answer from ${command}`)), Number(process.env.CODEX_AUTH_TEST_DEADLINE_MS ?? 30_000));
    const splitter = new LineSplitter(
      1 << 20,
      (line) => {
        const match = /^\{"id":("[^"]*"|[^,}]+)[,}]/.exec(new TextDecoder().decode(line));
        if (!match) return;
        if (match[1] === '"sentinel"') {
          clearTimeout(timer);
          resolve();
        } else ids.push(match[1]!);
      },
      () => {},
    );
    child.stdout.on("data", (chunk: Buffer) => splitter.push(chunk));
  });
  const lines = [
    `{"id":9223372036854775807,"method":"initialize","params":{"clientInfo":{"name":"ids","version":"1"}}}`,
    ...ID_TEXTS.map((id) => `{"method":"getAuthStatus","id":${id},"params":{}}`),
    `{"id":"sentinel","method":"getAuthStatus","params":{}}`,
  ];
  child.stdin.write(`${lines.join("\n")}\n`);
  try {
    await done;
  } finally {
    child.stdin.end();
    await new Promise((resolve) => child.once("close", resolve));
  }
  return ids;
}

describe("request ids", () => {
  it("are echoed exactly as sent, 64-bit integers included, as Codex 0.171.0 does", async () => {
    const ours = appServerArgv();
    const [codexAuth, codex] = await Promise.all([answeredIds(ours.command, ours.args), answeredIds(referenceCodexBinary("0.171.0"), ["app-server"])]);
    expect(codexAuth).toEqual(["9223372036854775807", "9223372036854775807", "9007199254740993", "-9223372036854775808", "7", '"s-1"']);
    expect(codex).toEqual(["9223372036854775807", "9223372036854775807", "9007199254740993", "-9223372036854775808", "7", '"s-1"']);
  });
});
