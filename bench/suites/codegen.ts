import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { pinnedCodexVersion } from "../../scripts/upstream/reference.js";
import { medianOf, timeCommand, type BenchRow } from "../measure.js";

const TSX = pathToFileURL(path.resolve("node_modules/tsx/dist/loader.mjs")).href;

/**
 * The command `npm run codegen` runs (package.json `scripts.codegen`), as Node's argv. The bench
 * used to time `node --import tsx scripts/codegen.ts` whatever npm ran; since npm runs
 * scripts/codegen/launch.mjs under plain Node, that timed a tsx loader thread the command no longer
 * starts. Reading the script keeps the two the same.
 */
function codegenCommand(): string[] {
  const script = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts.codegen!;
  const [program, ...args] = script.trim().split(/\s+/);
  if (program === "node") return args;
  if (program === "tsx") return ["--import", TSX, ...args];
  throw new Error(`bench: cannot time the codegen script "${script}" (expected node or tsx)`);
}

/**
 * End-to-end wall time of `npm run codegen` (without npm's own start-up) on our schemas and on the
 * pinned Codex's main bundle, as `npm run upstream:pull` stores it (~780 definitions, nested v2).
 * Every run generates everything: nothing is cached but the launcher's compiled script, and a
 * third row times the first run after an edit to scripts/codegen (that script rebuilt).
 */
export async function benchCodegen(tmp: string): Promise<BenchRow[]> {
  const version = pinnedCodexVersion();
  const upstream = path.resolve(`test/fixtures/codex/upstream-codex/${version}/codex_app_server_protocol.schemas.json`);
  const command = codegenCommand();
  const ours = await medianOf(3, () => timeCommand(process.execPath, [...command, "--quiet", "--out", path.join(tmp, "codegen-ours")]));
  const mainArgs = [...command, "--quiet", "--input", upstream, "--out", path.join(tmp, "codegen-upstream")];
  const main = await medianOf(3, () => timeCommand(process.execPath, mainArgs));
  const cold = await medianOf(3, async () => {
    // Inside the repository, as the launcher's cache must be (its bundle imports from node_modules).
    const cache = mkdtempSync(path.resolve("node_modules/.cache/codex-auth-codegen-bench-"));
    try {
      return await timeCommand(process.execPath, mainArgs, { env: { ...process.env, CODEX_AUTH_CODEGEN_CACHE: cache } });
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
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
    {
      suite: "codegen",
      name: `the same, first run after an edit to scripts/codegen (its bundle rebuilt)`,
      value: Math.round(cold.median),
      unit: "ms",
      target: "≤ 3000 ms",
      met: cold.median <= 3000,
    },
  ];
}
