import { spawn } from "node:child_process";

/** One row of the benchmark table. */
export interface BenchRow {
  suite: string;
  name: string;
  value: number | null;
  unit: string;
  /** What the value is compared with, measured in the same run (e.g. "node -e 0: 118 ms"). */
  baseline?: string;
  /** value ÷ baseline (for rates: value ÷ baseline rate). */
  ratio?: number;
  /** Human statement of the target, e.g. "≤ 3000 ms". */
  target?: string;
  /** Whether the target is met (undefined when there is none). */
  met?: boolean;
  note?: string;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Wall time of a child process, in ms; rejects when it exits non-zero. */
export function timeCommand(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { ...options, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${stderr.slice(-500)}`));
    });
  });
}

export async function medianOf(runs: number, once: () => Promise<number>): Promise<{ median: number; samples: number[] }> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await once());
  return { median: median(samples), samples };
}

/** A ratio as the table shows it: two decimals. */
export function ratioOf(value: number, baseline: number): number {
  return Math.round((value / baseline) * 100) / 100;
}
