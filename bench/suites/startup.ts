/**
 * Start-up cost of `codex-auth login status` against bare Node, in the same environment (this
 * machine's NODE_EXTRA_CA_CERTS included): median wall time of `runs` runs each, interleaved so
 * that load from other processes hits every command alike. Target: API-key status ≤ 1.3× `node -e 0`.
 * The PAT rows need a whoami round trip to the in-process dev server. When CODEX_REFERENCE_BIN
 * points at the Codex 0.169.0 binary, the same two commands of the reference are measured too.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startDevServer } from "../../src/dev-server/index.js";
import { median, timeCommand, type BenchRow } from "../measure.js";

export const STARTUP_RATIO_TARGET = 1.3;

interface Command {
  name: string;
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export async function benchStartup(options: { runs?: number; cli?: string; referenceBin?: string } = {}): Promise<BenchRow[]> {
  const runs = options.runs ?? 20;
  const cli = options.cli ?? process.env.CODEX_AUTH_BENCH_CLI ?? path.resolve("dist/src/cli/main.js");
  const reference = options.referenceBin ?? process.env.CODEX_REFERENCE_BIN;
  const tmp = mkdtempSync(path.join(tmpdir(), "codex-auth-startup-"));
  const dev = await startDevServer({ port: 0 });
  try {
    const apiKeyHome = writeHome(path.join(tmp, "apikey"), `{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "sk-bench-0000000000000000000000"\n}`);
    const patHome = writeHome(path.join(tmp, "pat"), `{\n  "OPENAI_API_KEY": null,\n  "personal_access_token": "at-demo-valid"\n}`);
    const base = { ...process.env, CODEX_API_KEY: "", CODEX_ACCESS_TOKEN: "" };
    const node = process.execPath;
    const commands: Command[] = [
      { name: "node -e 0", file: node, args: ["-e", "0"], env: base },
      { name: "codex-auth login status (API key)", file: node, args: [cli, "login", "status"], env: { ...base, CODEX_HOME: apiKeyHome } },
      { name: "codex-auth login status (PAT, live whoami)", file: node, args: [cli, "login", "status"], env: { ...base, CODEX_HOME: patHome, ...dev.env() } },
    ];
    if (reference) {
      commands.push(
        { name: "Codex 0.169.0 login status (API key)", file: reference, args: ["login", "status"], env: { ...base, CODEX_HOME: apiKeyHome } },
        { name: "Codex 0.169.0 login status (PAT, live whoami)", file: reference, args: ["login", "status"], env: { ...base, CODEX_HOME: patHome, ...dev.env() } },
      );
    }
    const samples = commands.map(() => [] as number[]);
    // One warm-up round (file cache), then interleaved measured rounds.
    for (let round = -1; round < runs; round++) {
      for (const [index, command] of commands.entries()) {
        const ms = await timeCommand(command.file, command.args, { env: command.env });
        if (round >= 0) samples[index]!.push(ms);
      }
    }
    const baseline = median(samples[0]!);
    const rows: BenchRow[] = commands.map((command, index) => {
      const ms = median(samples[index]!);
      const ratio = Math.round((ms / baseline) * 100) / 100;
      const isTarget = command.name === "codex-auth login status (API key)";
      return {
        suite: "startup",
        name: command.name,
        value: Math.round(ms),
        unit: "ms",
        note: index === 0 ? `baseline, median of ${runs}` : `${ratio}× node -e 0`,
        ...(isTarget ? { target: `≤ ${STARTUP_RATIO_TARGET}× node -e 0`, met: ratio <= STARTUP_RATIO_TARGET } : {}),
      };
    });
    if (!reference) rows.push({ suite: "startup", name: "Codex 0.169.0 login status", value: null, unit: "", note: "skipped: set CODEX_REFERENCE_BIN to the reference binary" });
    return rows;
  } finally {
    await dev.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function writeHome(home: string, authJson: string): string {
  mkdirSync(home, { recursive: true });
  writeFileSync(path.join(home, "auth.json"), authJson, { mode: 0o600 });
  return home;
}
