import path from "node:path";
import { pathToFileURL } from "node:url";
import { medianOf, timeCommand, type BenchRow } from "../measure.js";

const TSX = pathToFileURL(path.resolve("node_modules/tsx/dist/loader.mjs")).href;
const UPSTREAM = path.resolve("test/fixtures/codex/upstream-codex/0.169.0/codex_app_server_protocol.v2.schemas.json");

/** End-to-end wall time of `npm run codegen` (without npm's own start-up) on our schemas and on Codex's bundle. */
export async function benchCodegen(tmp: string): Promise<BenchRow[]> {
  const ours = await medianOf(3, () =>
    timeCommand(process.execPath, ["--import", TSX, "scripts/codegen.ts", "--quiet", "--out", path.join(tmp, "codegen-ours")]),
  );
  const upstream = await medianOf(3, () =>
    timeCommand(process.execPath, ["--import", TSX, "scripts/codegen.ts", "--quiet", "--input", UPSTREAM, "--out", path.join(tmp, "codegen-upstream")]),
  );
  return [
    { suite: "codegen", name: "codegen on schemas/ (end to end)", value: Math.round(ours.median), unit: "ms" },
    {
      suite: "codegen",
      name: "codegen on Codex 0.169.0 v2 bundle, 700 definitions (end to end)",
      value: Math.round(upstream.median),
      unit: "ms",
      target: "≤ 3000 ms",
      met: upstream.median <= 3000,
    },
  ];
}
