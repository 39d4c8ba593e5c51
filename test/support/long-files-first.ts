import { statSync } from "node:fs";
import path from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The order `npm test` starts its files in: the long ones first, so that a 90 s file never starts
 * last and stretches the run's tail while the other workers sit idle (longest-first is the classic
 * rule for packing jobs onto a few workers).
 *
 * vitest orders by the durations it cached from an earlier run, but a clean clone (CI, a fresh
 * machine) has no cache, and then it goes by file size, which says little here (the longest file,
 * test/package/consumer-matrix, is the 19th largest). So, the same on every machine:
 * 1. the files measured longest (per-file seconds from a full `npm test` on 2 cores, four files at
 *    once, in the comments), in that order; a name that no longer exists is simply not matched;
 * 2. then by folder, because what makes a file long is what it does and that follows its folder:
 *    packing and installing the package, fault loops, the real Codex beside ours, real processes,
 *    codegen. A new file lands in its folder's class without anyone updating a list;
 * 3. by size within a class; everything else last, largest first.
 */
const MEASURED_LONGEST = [
  "test/package/consumer-matrix.test.ts", // 97 s
  "test/faults/storage-faults.test.ts", // 88 s
  "test/faults/network-cli.test.ts", // 63 s (before its fault matrices ran in process)
  "test/e2e/differential/credentials.test.ts", // 53 s
  "test/e2e/chatgpt-refresh.test.ts", // 46 s
  "test/codegen/codegen.test.ts", // 41 s
  "test/e2e/differential/refresh.test.ts", // 33 s
  "test/e2e/chatgpt-device-login.test.ts", // 30 s
  "test/e2e/differential/browser-login.test.ts", // 29 s
  "test/e2e/chatgpt-browser-login.test.ts", // 28 s
  "test/codegen/scale.test.ts", // 27 s
  "test/conformance/recordings.test.ts", // 24 s
];

const LONG_FOLDERS_FIRST = [
  "test/package/",
  "test/faults/",
  "test/e2e/differential/",
  "test/e2e/",
  "test/codegen/",
  "test/conformance/",
  "test/cli/",
  "test/compat/",
];

/** Lower runs earlier: the measured list, then the folder classes, then everything else. */
function rank(relative: string): number {
  const measured = MEASURED_LONGEST.indexOf(relative);
  if (measured >= 0) return measured;
  const folder = LONG_FOLDERS_FIRST.findIndex((prefix) => relative.startsWith(prefix));
  return MEASURED_LONGEST.length + (folder < 0 ? LONG_FOLDERS_FIRST.length : folder);
}

export default class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const key = new Map(
      files.map((file) => {
        const relative = path.relative(root, file.moduleId).split(path.sep).join("/");
        return [file, { rank: rank(relative), size: sizeOf(file.moduleId), relative }];
      }),
    );
    return [...files].sort((a, b) => {
      const ka = key.get(a)!;
      const kb = key.get(b)!;
      return ka.rank - kb.rank || kb.size - ka.size || (ka.relative < kb.relative ? -1 : 1);
    });
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
