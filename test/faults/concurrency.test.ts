import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";
import { CLI, cleanEnv, tempDir } from "../support/cli-process.js";
import { CapturedStreams } from "../support/secrets.js";
import { FAULTS_RUNS, seededRandom, waitForDist } from "./support.js";

/**
 * 50 processes (more rounds of 50 with FAULTS_RUNS) mixing `login --with-api-key`, `login --with-access-token`
 * (dev-server PATs, live whoami), `logout` and `login status` on one CODEX_HOME, started at random
 * moments over a short window so that some start after others have finished, while a separate
 * process reads auth.json in a loop.
 *
 * What "the final state is one of the writers'" means here: every login writes bytes unique to it
 * and every logout deletes. The lock orders all of them, and an operation that started after
 * another had exited must come after it in that order. So the final auth.json, if any, must be the
 * exact bytes of one login X such that no other login or logout started after X exited; and an
 * absent file needs a logout L such that no login started after L exited.
 */

type Kind = "apiKey" | "pat" | "logout" | "status";

interface Operation {
  index: number;
  kind: Kind;
  credential: string | null;
  /** The exact auth.json a login writes. */
  content: string | null;
  delayMs: number;
  /** Started only once some login or logout has exited (so the order check always has teeth). */
  late: boolean;
  spawnedAt: number;
  exitedAt: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

const apiKeyFile = (key: string) => `{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "${key}"\n}`;
const patFile = (token: string) => `{\n  "OPENAI_API_KEY": null,\n  "personal_access_token": "${token}"\n}`;
const mask = (key: string) => `${key.slice(0, 8)}***${key.slice(-5)}`;

/** Reads auth.json until a stop file appears; counts reads that are neither absent nor one of the allowed contents. Never prints content. */
const READER = `
const fs = require("node:fs");
const [file, allowedFile, stop] = process.argv.slice(1);
const allowed = new Set(JSON.parse(fs.readFileSync(allowedFile, "utf8")));
const pause = new Int32Array(new SharedArrayBuffer(4));
let reads = 0, absent = 0, illegal = 0;
while (!fs.existsSync(stop)) {
  // A short pause per read leaves the CPU to the processes under test (2 cores in CI).
  Atomics.wait(pause, 0, 0, 1);
  let text;
  try { text = fs.readFileSync(file, "utf8"); } catch (e) { if (e.code === "ENOENT") { absent++; continue; } throw e; }
  reads++;
  if (!allowed.has(text)) illegal++;
}
process.stdout.write(JSON.stringify({ reads, absent, illegal }));
`;

/** 50 processes per round; FAULTS_RUNS adds rounds (not processes: 500 at once would only measure CPU starvation). */
const PROCESSES = 50;
const ROUNDS = Math.max(1, Math.round(FAULTS_RUNS / 100));
/**
 * Starts spread over this window. However slow the machine, the last LATE operations start only
 * after some login or logout has exited, so "started after another exited" always happens; no
 * outcome depends on timing (deadlines are patient: test/support/deadlines.ts).
 */
const SPAWN_WINDOW_MS = 5_000;
const LATE = 6;

let dev: DevServer;
const captured = new CapturedStreams();
const secrets: string[] = [];

beforeAll(async () => {
  waitForDist();
  dev = await startDevServer();
});

afterAll(async () => {
  await dev.close();
  captured.assertNoSecrets(secrets);
});

function plan(count: number, round: number): Operation[] {
  const random = seededRandom(3 + round);
  const kinds: Kind[] = ["apiKey", "pat", "logout", "status"];
  return Array.from({ length: count }, (_, index) => {
    // The first four cover every kind, the last is a login (it starts late); the rest: 35% API key, 25% PAT, 20% logout, 20% status.
    const roll = random();
    const kind: Kind = index < 4 ? kinds[index]! : index === count - 1 ? "apiKey" : roll < 0.35 ? "apiKey" : roll < 0.6 ? "pat" : roll < 0.8 ? "logout" : "status";
    let credential: string | null = null;
    let content: string | null = null;
    if (kind === "apiKey") {
      credential = `sk-conc-${String(index).padStart(2, "0")}-${randomBytes(12).toString("hex")}`;
      content = apiKeyFile(credential);
    } else if (kind === "pat") {
      credential = `at-conc-${String(index).padStart(2, "0")}-${randomBytes(12).toString("hex")}`;
      content = patFile(credential);
      dev.addPersonalAccessToken(credential, { account: { email: `conc${index}@example.com`, accountId: `acct-conc-${index}` } });
    }
    if (credential !== null) secrets.push(credential);
    const late = index >= count - LATE;
    return { index, kind, credential, content, delayMs: Math.floor(random() * (late ? SPAWN_WINDOW_MS / 5 : SPAWN_WINDOW_MS)), late, spawnedAt: 0, exitedAt: 0, code: null, stdout: "", stderr: "" };
  });
}

function launch(operation: Operation, home: string, after: Promise<void>): Promise<void> {
  const args = { apiKey: ["login", "--with-api-key"], pat: ["login", "--with-access-token"], logout: ["logout"], status: ["login", "status"] }[operation.kind];
  return new Promise((resolve, reject) => {
    after.then(() => setTimeout(() => {
      operation.spawnedAt = performance.now();
      const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv({ ...dev.env(), CODEX_HOME: home }), stdio: ["pipe", "pipe", "pipe"] });
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (operation.stdout += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (operation.stderr += chunk));
      child.on("error", reject);
      child.on("close", (code) => {
        operation.exitedAt = performance.now();
        operation.code = code;
        resolve();
      });
      child.stdin.end(operation.credential ?? "");
    }, operation.delayMs), reject);
  });
}

function startReader(file: string, allowedFile: string, stop: string): Promise<{ reads: number; absent: number; illegal: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", READER, file, allowedFile, stop], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`reader exited ${code}: ${err}`))));
  });
}

describe("concurrency: processes mixing login, logout and status on one CODEX_HOME", () => {
  it.each(Array.from({ length: ROUNDS }, (_, round) => round))(`round %i: ${PROCESSES} processes; every outcome is a legal one, readers never see a partial file, and the final state is one of the writers'`, async (round) => {
    const home = tempDir("codex-auth-conc-");
    const scratch = tempDir("codex-auth-conc-scratch-");
    try {
      const operations = plan(PROCESSES, round);
      const writes = operations.filter((op) => op.content !== null);
      const allowedFile = path.join(scratch.dir, "allowed.json");
      const stopFile = path.join(scratch.dir, "stop");
      writeFileSync(allowedFile, JSON.stringify(writes.map((op) => op.content)));
      const reader = startReader(path.join(home.dir, "auth.json"), allowedFile, stopFile);

      let mutatingExited!: () => void;
      const firstMutatingExit = new Promise<void>((resolve) => (mutatingExited = resolve));
      const early = operations.filter((op) => !op.late);
      expect(early.some((op) => op.kind !== "status"), "an early login or logout").toBe(true);
      await Promise.all(
        operations.map((op) =>
          launch(op, home.dir, op.late ? firstMutatingExit : Promise.resolve()).then(() => {
            if (op.kind !== "status") mutatingExited();
          }),
        ),
      );
      writeFileSync(stopFile, "");
      const reads = await reader;
      for (const op of operations) captured.add(`#${op.index} ${op.kind}`, op.stdout + op.stderr);

      // Every process: a legal exit code and exact message.
      const apiKeys = operations.filter((op) => op.kind === "apiKey").map((op) => op.credential!);
      const legalStatus = new Set([
        "1:Not logged in\n",
        "0:Logged in using personal access token\n",
        ...apiKeys.map((key) => `0:API key configured - ${mask(key)}\nAuthentication is checked when you send a request.\n`),
      ]);
      const statusSeen = new Set<string>();
      for (const op of operations) {
        const label = `#${op.index} ${op.kind}`;
        expect(op.stdout, label).toBe("");
        switch (op.kind) {
          case "apiKey":
            expect(`${op.code}:${op.stderr}`, label).toBe("0:Reading API key from stdin...\nAPI key saved. Authentication is checked when you send a request.\n");
            break;
          case "pat":
            expect(`${op.code}:${op.stderr}`, label).toBe("0:Reading access token from stdin...\nSuccessfully logged in\n");
            break;
          case "logout":
            expect(["0:Successfully logged out\n", "0:Not logged in\n"], label).toContain(`${op.code}:${op.stderr}`);
            break;
          case "status":
            expect(legalStatus.has(`${op.code}:${op.stderr}`), `${label}: ${op.code}:${op.stderr.split(" - ")[0]}`).toBe(true);
            statusSeen.add(op.stderr.split(" - ")[0]!.split("\n")[0]!);
            break;
        }
      }

      // The final state is one of the writers'.
      const mutating = operations.filter((op) => op.kind !== "status");
      const startedAfter = (op: Operation) => mutating.filter((other) => other !== op && other.spawnedAt > op.exitedAt);
      // Codex's empty lock files stay, as Codex leaves them.
      const names = readdirSync(home.dir).filter((name) => name !== "auth.lock" && name !== "auth.json.lock");
      if (names.includes("auth.json")) {
        expect(names).toEqual(["auth.json"]);
        const text = readFileSync(path.join(home.dir, "auth.json"), "utf8");
        const writer = writes.find((op) => op.content === text);
        expect(writer, "the final auth.json must be the exact bytes of one login").toBeDefined();
        expect(startedAfter(writer!).map((op) => `#${op.index} ${op.kind}`), "no login or logout may start after the final writer exited").toEqual([]);
        expect(statSync(path.join(home.dir, "auth.json")).mode & 0o777).toBe(0o600);
      } else {
        expect(names, "no temp or lock file is left").toEqual([]);
        const logouts = operations.filter((op) => op.kind === "logout");
        const possibleLast = logouts.filter((logout) => startedAfter(logout).every((op) => op.kind === "logout"));
        expect(possibleLast.length, "an absent file needs a logout that no later login followed").toBeGreaterThan(0);
      }

      expect(reads.illegal, "a reader saw a partial or foreign auth.json").toBe(0);
      expect(reads.reads + reads.absent).toBeGreaterThan(0);
      // The run had teeth: operations overlapped, and yet some started after others had exited.
      const overlapping = operations.filter((op) => operations.some((other) => other !== op && other.spawnedAt < op.exitedAt && op.spawnedAt < other.exitedAt));
      expect(overlapping.length).toBeGreaterThan(operations.length / 2);
      expect(operations.filter((op) => op.late).every((op) => mutating.some((other) => other.exitedAt < op.spawnedAt))).toBe(true);
      expect(mutating.some((op) => startedAfter(op).length > 0)).toBe(true);
      expect(statusSeen.size).toBeGreaterThan(0);
    } finally {
      home.remove();
      scratch.remove();
    }
  }, 600_000);
});
