import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateBundleFiles } from "../../scripts/codegen/bundle-input.js";
import { CodegenError } from "../../scripts/codegen/errors.js";
import { run } from "../support/run.js";

/**
 * `codegen --input` on a bundle as Codex writes its main one: a nested `v2` namespace, a name in
 * both the root and the namespace (equal apart from annotations: one type; different: `V2…`), and
 * a `$ref` with a sibling. The output is compared with committed snapshots, as openapi-typescript
 * tests its generator.
 */
const fixture = path.resolve("test/codegen/fixtures/namespaced-bundle.json");
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "codex-auth-bundle-input-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("codegen --input on a namespaced bundle", () => {
  it("flattens the namespace and declares one type per definition (snapshot)", async () => {
    const files = await generateBundleFiles(fixture);
    await expect(files.get("types.ts")).toMatchFileSnapshot("__snapshots__/namespaced-bundle.types.ts.snap");
    await expect(files.get("validators.d.ts")).toMatchFileSnapshot("__snapshots__/namespaced-bundle.validators.d.ts.snap");
    const types = files.get("types.ts")!;
    expect(types).toContain("export type V2RequestId = ");
    expect(types.match(/^export type AbsolutePathBuf = /gm)).toHaveLength(1);
    expect(types).not.toMatch(/^export type \w+\d+ = /m);
  });

  it("validates with the refs rewritten to the flattened names", async () => {
    const files = await generateBundleFiles(fixture);
    for (const [name, content] of files) writeFileSync(path.join(dir, name), content);
    writeFileSync(
      path.join(dir, "check.mjs"),
      [
        'import { validateAccountUpdatedNotification as check } from "./validators.js";',
        'console.log(JSON.stringify([check({ requestId: 1, reason: null }), check({ requestId: 1.5 }), check({ requestId: "a", reason: "later" })]));',
      ].join("\n"),
    );
    const node = await run(process.execPath, [path.join(dir, "check.mjs")]);
    expect(node.code, node.stderr).toBe(0);
    // The namespace's RequestId accepts any number; the root one (int64) would not: refs follow the rename.
    expect(JSON.parse(node.stdout)).toEqual([true, true, false]);
  });

  it("refuses an unknown keyword with its flattened location", async () => {
    const broken = path.join(dir, "broken.json");
    const bundle = JSON.parse(readFileSync(fixture, "utf8"));
    bundle.definitions.v2.AuthMode.nullabel = true;
    writeFileSync(broken, JSON.stringify(bundle));
    const error = await generateBundleFiles(broken).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CodegenError);
    expect((error as CodegenError).message).toMatch(/#\/definitions\/AuthMode\/nullabel: unknown keyword "nullabel"/);
  });
});
