/**
 * npm run bench — every performance figure of the project, measured side by side in one run on
 * this machine, printed as a table and written to bench/results.json.
 *
 * Suites are independent; a suite that cannot run says why in its rows instead of failing the run.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
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

const HEADER = ["suite", "measure", "value", "baseline (same run)", "ratio", "target", "met", "note"];

function format(row: BenchRow): string[] {
  const value = row.value === null ? "—" : row.value.toLocaleString("en-US");
  const verdict = row.met === undefined ? "" : row.met ? "yes" : "NO";
  return [row.suite, row.name, `${value} ${row.unit}`.trim(), row.baseline ?? "", row.ratio === undefined ? "" : `${row.ratio}×`, row.target ?? "", verdict, row.note ?? ""];
}

/** The table, padded for the terminal; the same table is written as Markdown for the README. */
function table(rows: BenchRow[]): { text: string; markdown: string } {
  const lines = [HEADER, ...rows.map(format)];
  const widths = HEADER.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const render = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  const text = [render(HEADER), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...lines.slice(1).map(render)].join("\n");
  const markdown = [`| ${HEADER.join(" | ")} |`, `|${HEADER.map(() => "---").join("|")}|`, ...lines.slice(1).map((cells) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`)].join("\n");
  return { text, markdown };
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
  const { text, markdown } = table(rows);
  console.log(text);
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
  const header = `Measured ${results.measuredAt} by \`npm run bench\` (${results.durationSeconds} s): Node ${results.node}, ${results.cpus} × ${results.cpuModel}${results.nodeExtraCaCerts ? ", NODE_EXTRA_CA_CERTS set" : ""}, load average at the end ${loadavg().map((n) => n.toFixed(2)).join(" ")}.`;
  writeFileSync(path.resolve("bench/results.md"), `${header}\n\n${markdown}\n`);
  console.log(`\nwrote bench/results.json and bench/results.md (${results.durationSeconds} s)`);
}

await main();
