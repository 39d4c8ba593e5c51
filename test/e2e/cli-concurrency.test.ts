import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useCliHarness } from "../support/cli-harness.js";

const cli = useCliHarness();

/**
 * A separate process that reads auth.json as fast as it can until a stop file appears, and counts
 * reads that are not a complete, valid API-key file. It never prints what it read.
 */
const READER = `
const fs = require("node:fs");
const [file, stop] = process.argv.slice(1);
let reads = 0, absent = 0, partial = 0;
while (!fs.existsSync(stop)) {
  let text;
  try { text = fs.readFileSync(file, "utf8"); } catch (e) { if (e.code === "ENOENT") { absent++; continue; } throw e; }
  reads++;
  try {
    const auth = JSON.parse(text);
    if (auth.auth_mode !== "apikey" || typeof auth.OPENAI_API_KEY !== "string" || !text.endsWith("}")) partial++;
  } catch { partial++; }
}
process.stdout.write(JSON.stringify({ reads, absent, partial }));
`;

function startReader(file: string, stop: string): Promise<{ reads: number; absent: number; partial: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", READER, file, stop], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`reader exited ${code}: ${err}`))));
  });
}

describe("concurrent logins", () => {
  it("20 concurrent `login --with-api-key` leave one complete, valid 0600 file whose key is one of the 20; a reader never sees a partial file", async () => {
    const authFile = path.join(cli.home, "auth.json");
    const stopFile = path.join(cli.home, "..", `${path.basename(cli.home)}.stop`);
    const keys = Array.from({ length: 20 }, (_, i) => cli.secret(`sk-concurrent-${String(i).padStart(2, "0")}-${"x".repeat(24)}`));
    const reader = startReader(authFile, stopFile);

    // Meanwhile `login status` runs in a loop too: it may find nothing yet, but never a broken file.
    let statusRuns = 0;
    let writersDone = false;
    const statusLoop = (async () => {
      const outcomes: string[] = [];
      while (!writersDone) {
        const status = await cli.run(["login", "status"]);
        statusRuns++;
        outcomes.push(`${status.code}:${status.stderr.split("\n")[0]!.replace(/ - .*/, "")}`);
      }
      return outcomes;
    })();

    const results = await Promise.all(keys.map((key) => cli.run(["login", "--with-api-key"], { stdin: key })));
    writersDone = true;
    const statusOutcomes = await statusLoop;
    writeFileSync(stopFile, "");
    const reads = await reader;

    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toBe("Reading API key from stdin...\nAPI key saved. Authentication is checked when you send a request.\n");
    }
    const text = readFileSync(authFile, "utf8");
    const stored = JSON.parse(text) as { auth_mode: string; OPENAI_API_KEY: string };
    expect(stored.auth_mode).toBe("apikey");
    expect(keys).toContain(stored.OPENAI_API_KEY);
    expect(text).toBe(`{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "${stored.OPENAI_API_KEY}"\n}`);
    expect(statSync(authFile).mode & 0o777).toBe(0o600);
    // No temp files are left behind; only Codex's two (empty) lock files stay, as Codex leaves them.
    expect(readdirSync(cli.home).sort()).toEqual(["auth.json", "auth.json.lock", "auth.lock"]);

    expect(reads.partial).toBe(0);
    expect(reads.reads).toBeGreaterThan(0);
    expect(statusRuns).toBeGreaterThan(0);
    for (const outcome of statusOutcomes) expect(["0:API key configured", "1:Not logged in"]).toContain(outcome);
    // No deadline here but the run's: lock waits are patient (test/support/deadlines.ts), so a
    // loaded machine only makes this slower.
  }, 600_000);
});
