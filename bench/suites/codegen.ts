import path from "node:path";
import { pathToFileURL } from "node:url";
import { pinnedCodexVersion } from "../../scripts/upstream/reference.js";
import { medianOf, timeCommand, type BenchRow } from "../measure.js";

const TSX = pathToFileURL(path.resolve("node_modules/tsx/dist/loader.mjs")).href;

/**
 * End-to-end wall time of `npm run codegen` (without npm's own start-up) on our schemas and on the
 * pinned Codex's main bundle, as `npm run upstream:pull` stores it (~780 definitions, nested v2).
 */
export async function benchCodegen(tmp: string): Promise<BenchRow[]> {
  const version = pinnedCodexVersion();
  const upstream = path.resolve(`test/fixtures/codex/upstream-codex/${version}/codex_app_server_protocol.schemas.json`);
  const ours = await medianOf(3, () =>
    timeCommand(process.execPath, ["--import", TSX, "scripts/codegen.ts", "--quiet", "--out", path.join(tmp, "codegen-ours")]),
  );
  const main = await medianOf(3, () =>
    timeCommand(process.execPath, ["--import", TSX, "scripts/codegen.ts", "--quiet", "--input", upstream, "--out", path.join(tmp, "codegen-upstream")]),
  );
  return [
    { suite: "codegen", name: "codegen on schemas/ (end to end)", value: Math.round(ours.median), unit: "ms" },
    {
      suite: "codegen",
      name: `codegen on Codex ${version} main bundle (end to end)`,
      value: Math.round(main.median),
      unit: "ms",
      target: "≤ 3000 ms",
      met: main.median <= 3000,
    },
  ];
}
