/**
 * npm run record-transcripts [-- VERSION]   (default: the pinned version)
 *
 * Plays the scripted client side of every session in test/fixtures/codex/sessions.json against the
 * reference `codex app-server` of VERSION (installed by scripts/upstream/reference.ts), with the
 * dev-server (in process) standing in for AuthAPI, issuer and backend, and writes what went each
 * way to test/fixtures/codex/transcripts/VERSION/<session>.jsonl, one message a line:
 * `{"dir":"c2s"|"s2c","msg":{...}}` or `{"dir":"c2s","raw":"..."}`.
 *
 * Normalised only where the host shows through (see test/fixtures/codex/README.md): the
 * notifications `configWarning` and `remoteControl/status/changed` are left out, `emittedAtMs` is
 * dropped, and the temporary CODEX_HOME reads `/home/user/.codex`. Nothing else is touched: a
 * recording is never edited by hand; run this again instead.
 *
 * Knobs: RECORD_RESPONSE_TIMEOUT_MS (default 20000): how long to wait for a request's response;
 * RECORD_QUIET_MS (default 400): how long the server must stay silent after a response (or a line
 * that gets none) before the next line is sent, so that notifications land where Codex sends them.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startDevServer, type DevServer } from "../src/dev-server/index.js";
import { REPO_ROOT, ensureCodexBinary, pinnedCodexVersion } from "./upstream/reference.js";

export const SESSIONS_FILE = path.join(REPO_ROOT, "test/fixtures/codex/sessions.json");
export const NORMALISED_CODEX_HOME = "/home/user/.codex";
const HOST_NOTIFICATIONS = new Set(["configWarning", "remoteControl/status/changed"]);

export type SessionEnvironment = "none" | "personalAccessToken";
export type SessionLine = { send: Record<string, unknown> } | { raw: string };
export interface Session {
  name: string;
  environment: SessionEnvironment;
  messages: SessionLine[];
}
export type TranscriptLine = { dir: "c2s" | "s2c"; msg?: Record<string, unknown>; raw?: string };

export function loadSessions(file = SESSIONS_FILE): Session[] {
  return (JSON.parse(readFileSync(file, "utf8")) as { sessions: Session[] }).sessions;
}

/** The environment a session's server runs with (the conformance replay uses the same). */
export function sessionEnv(environment: SessionEnvironment, dev: Pick<DevServer, "env">): Record<string, string> {
  return environment === "personalAccessToken" ? { ...dev.env(), CODEX_ACCESS_TOKEN: "at-demo-valid" } : dev.env();
}

function knob(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

function normalise(value: unknown, home: string): unknown {
  if (typeof value === "string") return value.split(home).join(NORMALISED_CODEX_HOME);
  if (Array.isArray(value)) return value.map((item) => normalise(item, home));
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (key !== "emittedAtMs") out[key] = normalise(item, home);
  return out;
}

export async function recordSession(binary: string, session: Session, dev: DevServer): Promise<TranscriptLine[]> {
  const responseTimeout = knob("RECORD_RESPONSE_TIMEOUT_MS", 20_000);
  const quiet = knob("RECORD_QUIET_MS", 400);
  const homeDir = mkdtempSync(path.join(tmpdir(), "codex-record-"));
  const home = realpathSync(homeDir);
  const child = spawn(binary, ["app-server", "-c", `chatgpt_base_url=${dev.chatgptBaseUrl}`], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, TERM: "xterm", CODEX_HOME: home, ...sessionEnv(session.environment, dev) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const transcript: TranscriptLine[] = [];
  let lastOutput = Date.now();
  const waiting = new Set<unknown>();
  let buffer = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (!line.trim()) continue;
      lastOutput = Date.now();
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (typeof msg.method === "string" && HOST_NOTIFICATIONS.has(msg.method)) continue;
      if ("id" in msg && !("method" in msg)) waiting.delete(msg.id);
      transcript.push({ dir: "s2c", msg: normalise(msg, home) as Record<string, unknown> });
    }
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const settle = async (id: unknown, hasId: boolean) => {
    const deadline = Date.now() + responseTimeout;
    while (hasId && waiting.has(id)) {
      if (Date.now() > deadline) throw new Error(`${session.name}: no response to id ${JSON.stringify(id)} within ${responseTimeout} ms\n${stderr}`);
      await sleep(20);
    }
    while (Date.now() - lastOutput < quiet) await sleep(Math.max(10, quiet - (Date.now() - lastOutput)));
  };
  try {
    // Let start-up notifications (if any) come first, as they would for any client.
    lastOutput = Date.now();
    await settle(undefined, false);
    for (const line of session.messages) {
      if ("raw" in line) {
        transcript.push({ dir: "c2s", raw: line.raw });
        child.stdin.write(`${line.raw}\n`);
        lastOutput = Date.now();
        await settle(undefined, false);
        continue;
      }
      const msg = line.send;
      const isRequest = "id" in msg && "method" in msg;
      if (isRequest) waiting.add(msg.id);
      transcript.push({ dir: "c2s", msg });
      child.stdin.write(`${JSON.stringify(msg)}\n`);
      lastOutput = Date.now();
      await settle(msg.id, isRequest);
    }
    child.stdin.end();
    const code = await Promise.race([exited, sleep(responseTimeout).then(() => "timeout" as const)]);
    if (code === "timeout") throw new Error(`${session.name}: codex app-server did not exit at stdin EOF within ${responseTimeout} ms`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(homeDir, { recursive: true, force: true });
  }
  return transcript;
}

export function transcriptDir(version: string): string {
  return path.join(REPO_ROOT, "test/fixtures/codex/transcripts", version);
}

export function renderTranscript(lines: TranscriptLine[]): string {
  return lines.map((line) => JSON.stringify(line)).join("\n") + "\n";
}

async function main(): Promise<void> {
  const version = process.argv[2] ?? pinnedCodexVersion();
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`not a version: ${version}`);
  const binary = ensureCodexBinary(version);
  const dev = await startDevServer();
  try {
    const out = transcriptDir(version);
    mkdirSync(out, { recursive: true });
    for (const session of loadSessions()) {
      const started = performance.now();
      const lines = await recordSession(binary, session, dev);
      writeFileSync(path.join(out, `${session.name}.jsonl`), renderTranscript(lines));
      process.stderr.write(`${session.name}: ${lines.length} lines in ${Math.round(performance.now() - started)} ms\n`);
    }
    process.stderr.write(`Codex ${version}: transcripts written to ${path.relative(process.cwd(), out)}/\n`);
  } finally {
    await dev.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().catch((error: unknown) => {
    process.stderr.write(`record-transcripts: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
