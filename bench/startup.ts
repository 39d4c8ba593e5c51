/**
 * Start-up cost of `codex-auth login status` against bare Node, in the same environment (the
 * NODE_EXTRA_CA_CERTS of this machine included): median wall time of ~20 runs each, interleaved so
 * that load from other processes hits every command alike. Target: API-key status ≤ 1.3× `node -e 0`.
 * The PAT row needs a whoami round trip to the in-process dev server, so it is reported separately.
 *
 * Run alone with `tsx bench/startup.ts` (after `npm run build`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startDevServer } from "../src/dev-server/index.js";
import { median, timeCommand } from "./measure.js";

export interface StartupResult {
  name: string;
  medianMs: number;
  /** medianMs / median of `node -e 0`. */
  ratio: number;
}

export const STARTUP_RATIO_TARGET = 1.3;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export async function benchStartup(options: { runs?: number; cli?: string } = {}): Promise<StartupResult[]> {
  const runs = options.runs ?? 20;
  // CODEX_AUTH_BENCH_CLI: measure another build of the CLI (e.g. a private copy while dist/ is being rebuilt).
  const cli = options.cli ?? process.env.CODEX_AUTH_BENCH_CLI ?? path.join(root, "dist/src/cli/main.js");
  const tmp = mkdtempSync(path.join(tmpdir(), "codex-auth-startup-"));
  const dev = await startDevServer({ port: 0 });
  try {
    const apiKeyHome = path.join(tmp, "apikey");
    const patHome = path.join(tmp, "pat");
    writeHome(apiKeyHome, `{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "sk-bench-0000000000000000000000"\n}`);
    writeHome(patHome, `{\n  "OPENAI_API_KEY": null,\n  "personal_access_token": "at-demo-valid"\n}`);
    const base = { ...process.env, CODEX_API_KEY: "", CODEX_ACCESS_TOKEN: "" };
    const commands = [
      { name: "node -e 0", args: ["-e", "0"], env: base },
      { name: "codex-auth login status (API key)", args: [cli, "login", "status"], env: { ...base, CODEX_HOME: apiKeyHome } },
      { name: "codex-auth login status (PAT, live whoami)", args: [cli, "login", "status"], env: { ...base, CODEX_HOME: patHome, ...dev.env() } },
    ];
    const samples = commands.map(() => [] as number[]);
    // One warm-up round (file cache), then interleaved measured rounds.
    for (let round = -1; round < runs; round++) {
      for (const [index, command] of commands.entries()) {
        const ms = await timeCommand(process.execPath, command.args, { env: command.env });
        if (round >= 0) samples[index]!.push(ms);
      }
    }
    const baseline = median(samples[0]!);
    return commands.map((command, index) => {
      const medianMs = median(samples[index]!);
      return { name: command.name, medianMs: round1(medianMs), ratio: round1(medianMs / baseline, 100) };
    });
  } finally {
    await dev.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function writeHome(home: string, authJson: string): void {
  mkdirSync(home, { recursive: true });
  writeFileSync(path.join(home, "auth.json"), authJson, { mode: 0o600 });
}

function round1(value: number, scale = 10): number {
  return Math.round(value * scale) / scale;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const results = await benchStartup();
  for (const result of results) console.log(`${result.name.padEnd(44)} ${result.medianMs.toFixed(1).padStart(7)} ms  ${result.ratio.toFixed(2)}×`);
  const apiKey = results[1]!;
  console.log(`API-key status ratio ${apiKey.ratio.toFixed(2)}× (target ≤ ${STARTUP_RATIO_TARGET}×): ${apiKey.ratio <= STARTUP_RATIO_TARGET ? "met" : "NOT met"}`);
}
