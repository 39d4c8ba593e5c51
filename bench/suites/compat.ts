import { readFileSync } from "node:fs";
import path from "node:path";
import { diffBundles } from "../../src/compat/index.js";
import { median, type BenchRow } from "../measure.js";

const UPSTREAM = path.resolve("test/fixtures/codex/upstream-codex");

/** The breaking-change checker on Codex's real protocol evolution, 0.142.0 → 0.169.0. */
export function benchCompat(): BenchRow[] {
  const file = "codex_app_server_protocol.v2.schemas.json";
  const samples: number[] = [];
  let findings = 0;
  for (let run = 0; run < 7; run++) {
    const started = process.hrtime.bigint();
    const older = JSON.parse(readFileSync(path.join(UPSTREAM, "0.142.0", file), "utf8")) as unknown;
    const newer = JSON.parse(readFileSync(path.join(UPSTREAM, "0.169.0", file), "utf8")) as unknown;
    findings = diffBundles(older, newer).findings.length;
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const ms = median(samples);
  return [
    {
      suite: "compat",
      name: "schema checker, Codex 0.142.0 → 0.169.0 v2 bundles (parse + diff)",
      value: Math.round(ms),
      unit: "ms",
      target: "≤ 1000 ms",
      met: ms <= 1000,
      note: `${findings} findings`,
    },
  ];
}
