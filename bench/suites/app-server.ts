/**
 * The app-server under pipelined load: N `account/read` requests written at once, every response
 * awaited. Reports throughput, p50/p99 latency (time from the burst being written to each
 * response), time to the first response after spawn, and memory (peak RSS after 10,000 requests,
 * and its growth over the next ones). Targets are ratios to a bare Node echo loop driven by the
 * same client in the same run; the reference Codex runs the same workload.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { median, percentile, ratioOf, type BenchRow } from "../measure.js";
import { referenceCodex } from "./reference.js";

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

/**
 * The issue's baseline: a bare Node JSON-lines echo loop (readline, JSON.parse, one write per
 * answer). Not a ceiling: the server decodes a chunk's lines at once and writes a chunk's answers
 * in one write, so under pipelining it can outrun this loop.
 */
const ECHO_SERVER = [
  'const rl = require("node:readline").createInterface({ input: process.stdin });',
  'rl.on("line", (line) => { const m = JSON.parse(line); if (m.id !== undefined) process.stdout.write(JSON.stringify({ id: m.id, result: { account: null, requiresOpenaiAuth: true } }) + "\\n"); });',
].join("\n");

interface Throughput {
  rate: number;
  answered: number;
  count: number;
  errors: number;
  p50: number;
  p99: number;
}

async function throughput(server: Server, count: number, firstId: number, timeoutMs: number): Promise<Throughput> {
  const result = await server.burst(count, firstId, timeoutMs);
  return {
    rate: (result.answered / result.elapsedMs) * 1000,
    answered: result.answered,
    count,
    errors: result.errors,
    p50: result.latencies.length ? percentile(result.latencies, 50) : NaN,
    p99: result.latencies.length ? percentile(result.latencies, 99) : NaN,
  };
}

function describe(result: Throughput): string {
  return `answered ${result.answered}/${result.count}${result.errors ? ` (${result.errors} errors)` : ""}; p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms`;
}

/** Time from spawn to the `initialize` response, median of `spawns`, alternating between the servers given. */
async function timeToFirstResponse(servers: Array<{ file: string; args: string[] }>, env: NodeJS.ProcessEnv, spawns: number): Promise<number[]> {
  const samples = servers.map(() => [] as number[]);
  for (let round = 0; round < spawns; round++) {
    for (const [index, { file, args }] of servers.entries()) {
      const { server, firstResponseMs } = await startServer(file, args, env);
      samples[index]!.push(firstResponseMs);
      await server.close();
    }
  }
  return samples.map(median);
}

/**
 * More samples than the 3 rounds and 7 spawns this suite first took, to fix a flaw: on this shared
 * 2-core machine one scheduler stall moves a 10,000-burst (0.05-0.15 s) by half and a spawn by a
 * third, and with 3 rounds the median is the second-worst of three. Interleaved runs minutes apart
 * gave 0.54-2.3x for the same build (and 0.87-1.94x for time to first response, whose median over
 * 30-40 alternating spawns stayed within 1.24-1.43x). Both cost a few seconds more.
 */
const ROUNDS = 7;
const BURST = 10_000;
const TTFR_SPAWNS = 15;
export const THROUGHPUT_RATIO_TARGET = 0.6;
export const FIRST_RESPONSE_RATIO_TARGET = 1.3;

/**
 * codex-auth against the bare echo loop, in the same run: time to first response (alternating
 * spawns), then 10,000-request bursts alternating between the two live servers, `ROUNDS` times;
 * medians. The reference Codex runs the same workload once (it drops part of a burst, so each of
 * its bursts waits a bounded time).
 */
export async function benchAppServer(): Promise<BenchRow[]> {
  const tmp = mkdtempSync(path.join(tmpdir(), "codex-auth-bench-app-server-"));
  const home = path.join(tmp, "home");
  mkdirSync(home);
  writeFileSync(path.join(home, "auth.json"), `{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "sk-bench-0000000000000000000000"\n}`, { mode: 0o600 });
  const env = { ...process.env, CODEX_HOME: home, CODEX_API_KEY: "", CODEX_ACCESS_TOKEN: "" };
  const ours = { file: process.execPath, args: [path.resolve(process.env.CODEX_AUTH_BENCH_CLI ?? "dist/bin/codex-auth.cjs"), "app-server"] };
  const echo = { file: process.execPath, args: ["-e", ECHO_SERVER] };
  const rows: BenchRow[] = [];
  try {
    const [oursFirst, echoFirst] = await timeToFirstResponse([ours, echo], env, TTFR_SPAWNS);
    const firstRatio = ratioOf(oursFirst!, echoFirst!);
    rows.push({
      suite: "app-server",
      name: "codex-auth: time to first response after spawn",
      value: Math.round(oursFirst!),
      unit: "ms",
      baseline: `echo loop: ${Math.round(echoFirst!)} ms`,
      ratio: firstRatio,
      target: `≤ ${FIRST_RESPONSE_RATIO_TARGET}× echo loop`,
      met: firstRatio <= FIRST_RESPONSE_RATIO_TARGET,
      note: `median of ${TTFR_SPAWNS} spawns each, alternating`,
    });

    const a = (await startServer(ours.file, ours.args, env)).server;
    const b = (await startServer(echo.file, echo.args, env)).server;
    try {
      let nextId = 1;
      // Warm-up: a first 1,000 each (JIT, buffers), reported as it used to be.
      const warmOurs = await throughput(a, 1_000, nextId, 60_000);
      await throughput(b, 1_000, nextId, 60_000);
      nextId += 1_000;
      // Then one unmeasured burst of BURST each. Without it the measurement had a flaw: 1,000
      // requests do not reach steady state (V8 optimizes a function after some thousands of calls;
      // waiting a second instead changes nothing), so the first measured round ran partly
      // unoptimized, at 0.2-0.35x the rate of the next rounds for codex-auth and 0.4-1x for the echo
      // loop, in every run we looked at. The median of three then rested on the two warm rounds, and
      // one slow round among them decided the ratio (0.54x in one run, 1.0-2.3x in the others).
      await throughput(a, BURST, nextId, 60_000);
      // Peak RSS after the first 10,000-burst, as before the warm-up burst existed.
      const rssAfterFirst = a.rssKb();
      await throughput(b, BURST, nextId, 60_000);
      nextId += BURST;
      const oursRounds: Throughput[] = [];
      const echoRounds: Throughput[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        oursRounds.push(await throughput(a, BURST, nextId, 60_000));
        echoRounds.push(await throughput(b, BURST, nextId, 60_000));
        nextId += BURST;
      }
      const rssAtEnd = a.rssKb();
      const middle = (results: Throughput[]) => [...results].sort((x, y) => x.rate - y.rate)[Math.floor(results.length / 2)]!;
      const oursMedian = middle(oursRounds);
      const echoMedian = middle(echoRounds);
      const rateRatio = ratioOf(oursMedian.rate, echoMedian.rate);
      const allAnswered = oursRounds.every((result) => result.answered === result.count && result.errors === 0);
      rows.push(
        {
          suite: "app-server",
          name: `codex-auth: ${BURST.toLocaleString("en-US")} pipelined account/read`,
          value: Math.round(oursMedian.rate),
          unit: "req/s",
          baseline: `echo loop: ${Math.round(echoMedian.rate).toLocaleString("en-US")} req/s`,
          ratio: rateRatio,
          target: `≥ ${THROUGHPUT_RATIO_TARGET}× echo loop, all answered`,
          met: rateRatio >= THROUGHPUT_RATIO_TARGET && allAnswered,
          note: `median of ${ROUNDS} rounds alternating with the echo loop, after a warm-up burst each; ${describe(oursMedian)}`,
        },
        { suite: "app-server", name: "codex-auth: 1,000 pipelined account/read (first burst)", value: Math.round(warmOurs.rate), unit: "req/s", note: describe(warmOurs) },
        { suite: "app-server", name: `bare Node echo loop: ${BURST.toLocaleString("en-US")} pipelined (the baseline)`, value: Math.round(echoMedian.rate), unit: "req/s", note: `median of ${ROUNDS}; ${describe(echoMedian)}` },
        {
          suite: "app-server",
          name: `codex-auth: peak RSS after ${BURST.toLocaleString("en-US")} requests`,
          value: Math.round(rssAfterFirst.peak / 1024),
          unit: "MB",
          target: "≤ 80 MB",
          met: rssAfterFirst.peak / 1024 <= 80,
          note: `after ${(ROUNDS + 1) * BURST + 1_000} requests: RSS ${(rssAfterFirst.current / 1024).toFixed(1)} → ${(rssAtEnd.current / 1024).toFixed(1)} MB, peak ${(rssAtEnd.peak / 1024).toFixed(1)} MB`,
        },
      );
    } finally {
      await a.close();
      await b.close();
    }
    rows.push(...(await referenceRows(env, echoFirst!)));
    return rows;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The reference Codex on the same workload: time to first response, one burst of each size, memory. */
async function referenceRows(env: NodeJS.ProcessEnv, echoFirstMs: number): Promise<BenchRow[]> {
  let reference;
  try {
    reference = referenceCodex();
  } catch (error) {
    return [{ suite: "app-server", name: "reference Codex app-server", value: null, unit: "", note: `not measured: ${(error as Error).message.split("\n")[0]}` }];
  }
  const label = reference.label;
  const [first] = await timeToFirstResponse([{ file: reference.binary, args: ["app-server"] }], env, 3);
  const rows: BenchRow[] = [
    { suite: "app-server", name: `${label}: time to first response after spawn`, value: Math.round(first!), unit: "ms", baseline: `echo loop: ${Math.round(echoFirstMs)} ms`, ratio: ratioOf(first!, echoFirstMs), note: "median of 3 spawns" },
  ];
  const { server } = await startServer(reference.binary, ["app-server"], env);
  try {
    let nextId = 1;
    for (const count of [1_000, BURST]) {
      // Codex 0.169.0 never answers part of a burst: each waits at most 10 s.
      const result = await throughput(server, count, nextId, 10_000);
      nextId += count;
      rows.push({ suite: "app-server", name: `${label}: ${count.toLocaleString("en-US")} pipelined account/read`, value: Math.round(result.rate), unit: "req/s", note: describe(result) });
    }
    rows.push({ suite: "app-server", name: `${label}: peak RSS after these requests`, value: Math.round(server.rssKb().peak / 1024), unit: "MB" });
  } finally {
    await server.close();
  }
  return rows;
}
