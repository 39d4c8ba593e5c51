/**
 * The app-server under pipelined load: N `account/read` requests written at once, every response
 * awaited. Reports throughput, p50/p99 latency (time from the burst being written to each
 * response), time to the first response after spawn, and memory (peak RSS after 10,000 requests,
 * and its growth over a second 10,000). With CODEX_REFERENCE_BIN, the reference Codex 0.169.0
 * app-server runs the same workload.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { percentile, type BenchRow } from "../measure.js";

interface Server {
  child: ChildProcess;
  /** Resolves with the response lines' arrival times (ms since `send`), keyed by id. */
  burst(count: number, firstId: number, timeoutMs: number): Promise<{ elapsedMs: number; latencies: number[]; errors: number; answered: number }>;
  rssKb(): { current: number; peak: number };
  close(): Promise<void>;
}

interface Burst {
  firstId: number;
  count: number;
  started: number;
  /** Arrival time (ms since the burst was written) per request, NaN until answered. */
  arrivals: Float64Array;
  answered: number;
  errors: number;
  done: () => void;
}

/**
 * The id of a response line, cheaply: the measuring side must not be the bottleneck. Our server
 * writes `{"id":N,...`; anything else (other key orders, string ids) goes through JSON.parse.
 */
function responseId(line: string): { id: number; error: boolean } | null {
  if (line.startsWith('{"id":')) {
    let index = 6;
    let id = 0;
    for (let code = line.charCodeAt(index); code >= 48 && code <= 57; code = line.charCodeAt(++index)) id = id * 10 + (code - 48);
    if (index > 6 && line.charCodeAt(index) === 44 /* , */) return { id, error: line.startsWith('"error"', index + 1) };
  }
  try {
    const message = JSON.parse(line) as Record<string, unknown>;
    return typeof message.id === "number" ? { id: message.id, error: "error" in message } : null;
  } catch {
    return null;
  }
}

async function startServer(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ server: Server; firstResponseMs: number }> {
  const spawnedAt = performance.now();
  const child = spawn(file, args, { env, stdio: ["pipe", "pipe", "ignore"] });
  const failed = new Promise<never>((_resolve, reject) => child.once("error", reject));
  let buffer = "";
  let initialized: (() => void) | null = null;
  let burst: Burst | null = null;
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const now = performance.now();
    buffer += chunk;
    let start = 0;
    for (let newline = buffer.indexOf("\n"); newline >= 0; newline = buffer.indexOf("\n", start)) {
      const line = buffer.slice(start, newline);
      start = newline + 1;
      const response = line.length > 0 ? responseId(line) : null;
      if (response === null) continue;
      if (response.id === 0) initialized?.();
      const current = burst;
      if (current === null) continue;
      const slot = response.id - current.firstId;
      if (slot < 0 || slot >= current.count || !Number.isNaN(current.arrivals[slot])) continue;
      current.arrivals[slot] = now - current.started;
      current.answered++;
      if (response.error) current.errors++;
      if (current.answered === current.count) current.done();
    }
    buffer = buffer.slice(start);
  });
  const init = new Promise<void>((resolve) => (initialized = resolve));
  child.stdin!.write(`${JSON.stringify({ id: 0, method: "initialize", params: { clientInfo: { name: "bench", version: "0.0.0" } } })}\n`);
  await Promise.race([init, failed]);
  const firstResponseMs = performance.now() - spawnedAt;
  child.stdin!.write(`${JSON.stringify({ method: "initialized" })}\n`);

  const server: Server = {
    child,
    async burst(count, firstId, timeoutMs) {
      let payload = "";
      for (let i = 0; i < count; i++) payload += `{"id":${firstId + i},"method":"account/read","params":{}}\n`;
      let timer: NodeJS.Timeout | undefined;
      const finished = new Promise<void>((resolve) => {
        burst = { firstId, count, started: performance.now(), arrivals: new Float64Array(count).fill(NaN), answered: 0, errors: 0, done: resolve };
        // Codex 0.169.0 never answers part of a burst: wait a bounded time, then count what came.
        timer = setTimeout(resolve, timeoutMs);
      });
      child.stdin!.write(payload);
      await finished;
      clearTimeout(timer);
      const current = burst!;
      burst = null;
      const elapsedMs = performance.now() - current.started;
      const latencies = [...current.arrivals].filter((ms) => !Number.isNaN(ms));
      return { elapsedMs, latencies, errors: current.errors, answered: current.answered };
    },
    rssKb() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
      return { current: field("VmRSS"), peak: field("VmHWM") };
    },
    close: () =>
      new Promise((resolve) => {
        child.once("close", () => resolve());
        child.stdin!.end();
        setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
      }),
  };
  return { server, firstResponseMs };
}

/** A bare Node JSON-lines echo loop: the ceiling this client and this machine allow. */
const ECHO_SERVER = [
  'const rl = require("node:readline").createInterface({ input: process.stdin });',
  'rl.on("line", (line) => { const m = JSON.parse(line); if (m.id !== undefined) process.stdout.write(JSON.stringify({ id: m.id, result: { account: null, requiresOpenaiAuth: true } }) + "\\n"); });',
].join("\n");

async function workload(label: string, file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, withMemory = true): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const { server, firstResponseMs } = await startServer(file, args, env);
  try {
    rows.push({ suite: "app-server", name: `${label}: time to first response after spawn`, value: Math.round(firstResponseMs), unit: "ms" });
    let nextId = 1;
    for (const count of [1_000, 10_000]) {
      const result = await server.burst(count, nextId, timeoutMs);
      nextId += count;
      const rate = (result.answered / result.elapsedMs) * 1000;
      const isTarget = label === "codex-auth" && count === 10_000;
      rows.push({
        suite: "app-server",
        name: `${label}: ${count.toLocaleString("en-US")} pipelined account/read`,
        value: Math.round(rate),
        unit: "req/s",
        ...(isTarget ? { target: "≥ 50,000 req/s, all answered", met: rate >= 50_000 && result.answered === count } : {}),
        note: `answered ${result.answered}/${count}${result.errors ? ` (${result.errors} errors)` : ""}; p50 ${percentile(result.latencies, 50).toFixed(1)} ms, p99 ${percentile(result.latencies, 99).toFixed(1)} ms`,
      });
      if (withMemory && count === 10_000) {
        const first = server.rssKb();
        await server.burst(10_000, nextId, timeoutMs);
        nextId += 10_000;
        const second = server.rssKb();
        const peakMb = first.peak / 1024;
        rows.push({
          suite: "app-server",
          name: `${label}: peak RSS after 10,000 requests`,
          value: Math.round(peakMb),
          unit: "MB",
          ...(label === "codex-auth" ? { target: "≤ 80 MB", met: peakMb <= 80 } : {}),
          note: `after a second 10,000: RSS ${(first.current / 1024).toFixed(1)} → ${(second.current / 1024).toFixed(1)} MB, peak ${(first.peak / 1024).toFixed(1)} → ${(second.peak / 1024).toFixed(1)} MB`,
        });
      }
    }
  } finally {
    await server.close();
  }
  return rows;
}

export async function benchAppServer(options: { referenceBin?: string } = {}): Promise<BenchRow[]> {
  const tmp = mkdtempSync(path.join(tmpdir(), "codex-auth-bench-app-server-"));
  const home = path.join(tmp, "home");
  mkdirSync(home);
  writeFileSync(path.join(home, "auth.json"), `{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "sk-bench-0000000000000000000000"\n}`, { mode: 0o600 });
  const env = { ...process.env, CODEX_HOME: home, CODEX_API_KEY: "", CODEX_ACCESS_TOKEN: "" };
  try {
    const rows = await workload("codex-auth", process.execPath, [path.resolve("dist/src/cli/main.js"), "app-server"], env, 60_000);
    const echo = await workload("bare Node echo loop (this measurement's ceiling)", process.execPath, ["-e", ECHO_SERVER], env, 60_000, false);
    rows.push(...echo.filter((row) => row.name.includes("pipelined")));
    const reference = options.referenceBin ?? process.env.CODEX_REFERENCE_BIN;
    if (reference) rows.push(...(await workload("Codex 0.169.0", reference, ["app-server"], env, 10_000)));
    else rows.push({ suite: "app-server", name: "Codex 0.169.0 app-server", value: null, unit: "", note: "skipped: set CODEX_REFERENCE_BIN to the reference binary" });
    return rows;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
