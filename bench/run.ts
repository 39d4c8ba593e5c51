/**
 * npm run bench — every performance figure of the project, measured side by side in one run on
 * this machine, printed as a table and written to bench/results.json.
 *
 * Suites are independent; a suite that cannot run says why in its rows instead of failing the run.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import type { BenchRow } from "./measure.js";
import { benchAppServer } from "./suites/app-server.js";
import { benchCodegen } from "./suites/codegen.js";
import { benchCompat } from "./suites/compat.js";
import { benchStartup } from "./suites/startup.js";
import { benchValidators } from "./suites/validators.js";

type Suite = { name: string; run: (tmp: string) => Promise<BenchRow[]> | BenchRow[] };

const suites: Suite[] = [
  { name: "startup", run: () => benchStartup() },
  { name: "app-server", run: () => benchAppServer() },
  { name: "validators", run: () => benchValidators() },
  { name: "codegen", run: (tmp) => benchCodegen(tmp) },
  { name: "compat", run: () => benchCompat() },
];

function format(row: BenchRow): string[] {
  const value = row.value === null ? "—" : row.value.toLocaleString("en-US");
  const verdict = row.met === undefined ? "" : row.met ? "yes" : "NO";
  return [row.suite, row.name, `${value} ${row.unit}`, row.target ?? "", verdict, row.note ?? ""];
}

function printTable(rows: BenchRow[]): void {
  const header = ["suite", "measure", "value", "target", "met", "note"];
  const lines = [header, ...rows.map(format)];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const render = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(render(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const line of lines.slice(1)) console.log(render(line));
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const tmp = mkdtempSync(path.join(tmpdir(), "codex-auth-bench-"));
  const rows: BenchRow[] = [];
  const started = Date.now();
  try {
    for (const suite of suites) {
      if (only.length && !only.includes(suite.name)) continue;
      process.stderr.write(`bench: ${suite.name}...\n`);
      try {
        rows.push(...(await suite.run(tmp)));
      } catch (error) {
        rows.push({ suite: suite.name, name: "(suite failed)", value: null, unit: "", note: (error as Error).message.split("\n")[0]! });
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  printTable(rows);
  const results = {
    measuredAt: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    nodeExtraCaCerts: Boolean(process.env.NODE_EXTRA_CA_CERTS),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    rows,
  };
  writeFileSync(path.resolve("bench/results.json"), JSON.stringify(results, null, 2) + "\n");
  console.log(`\nwrote bench/results.json (${results.durationSeconds} s)`);
}

await main();
