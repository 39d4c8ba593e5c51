import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../support/run.js";

/**
 * `npm run codegen` runs scripts/codegen/launch.mjs: scripts/codegen.ts bundled by esbuild, the
 * bundle cached under node_modules/.cache keyed by the sha256 of its sources. These tests run the
 * launcher of a copy of scripts/ (with its own cache, CODEX_AUTH_CODEGEN_CACHE) as real child
 * processes: it must generate what the in-process codegen does, and an edit to any of its sources
 * must reach the next run, whatever is cached.
 */
const repo = path.resolve(".");
const LAUNCHER = "scripts/codegen/launch.mjs";
let work: string;
let cache: string;

function launch(args: string[], options: { cwd?: string; cacheDir?: string } = {}) {
  const cwd = options.cwd ?? work;
  return run(process.execPath, [path.join(cwd, LAUNCHER), ...args], {
    cwd,
    env: { ...process.env, CODEX_AUTH_CODEGEN_CACHE: options.cacheDir ?? cache },
  });
}

const bundlesIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((name) => /^codegen-[0-9a-f]{64}$/.test(name)) : []);

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "codex-auth-codegen-launch-"));
  cache = path.join(work, "cache");
  for (const entry of ["scripts/codegen.ts", "scripts/codegen", "schemas", "generated", "tsconfig.json", "package.json"]) {
    cpSync(path.join(repo, entry), path.join(work, entry), { recursive: true });
  }
  symlinkSync(path.join(repo, "node_modules"), path.join(work, "node_modules"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the codegen launcher (npm run codegen)", () => {
  it("is what npm runs for codegen and codegen:check", () => {
    const scripts = (JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.codegen).toBe(`node ${LAUNCHER}`);
    expect(scripts["codegen:check"]).toBe(`node ${LAUNCHER} --check`);
  });

  it("with an empty cache, builds its bundle and finds the committed generated/ up to date", async () => {
    const result = await launch(["--check"]);
    expect(result.stderr).toContain("codegen:check: generated matches schemas/");
    expect(result.code).toBe(0);
    expect(bundlesIn(cache)).toHaveLength(1);
    // The second run uses that bundle.
    const again = await launch(["--check"]);
    expect(again.code).toBe(0);
    expect(bundlesIn(cache)).toHaveLength(1);
  });

  it("an edit to a codegen source reaches the next run (the cached bundle is not used)", async () => {
    const pipeline = path.join(work, "scripts/codegen/pipeline.ts");
    const original = readFileSync(pipeline, "utf8");
    expect(original).toContain("# generated/ — DO NOT EDIT");
    writeFileSync(pipeline, original.replace("# generated/ — DO NOT EDIT", "# generated/ (edited generator) — DO NOT EDIT"));
    try {
      const edited = await launch(["--check"]);
      expect(edited.code).toBe(1);
      expect(edited.stderr).toContain(path.join("generated", "README.md (differs)"));
      expect(bundlesIn(cache)).toHaveLength(2);
    } finally {
      writeFileSync(pipeline, original);
    }
    const restored = await launch(["--check"]);
    expect(restored.code).toBe(0);
  });

  it("an edit to a module the bundle did not read before (a new import) reaches the next run", async () => {
    const helper = path.join(work, "scripts/codegen/launch-test-helper.ts");
    const errors = path.join(work, "scripts/codegen/errors.ts");
    const original = readFileSync(errors, "utf8");
    writeFileSync(helper, `export const EXTRA = " (via a new module)";\n`);
    writeFileSync(errors, `import { EXTRA } from "./launch-test-helper.js";\n${original.replace("super(`${file}#${pointer}: ${detail}`);", "super(`${file}#${pointer}: ${detail}${EXTRA}`);")}`);
    const bundle = path.join(work, "bad.json");
    writeFileSync(bundle, "{ not json");
    try {
      const first = await launch(["--input", bundle, "--out", path.join(work, "out-new-import")]);
      expect(first.code).toBe(1);
      expect(first.stderr).toContain("(via a new module)");
      // Now edit only the new module: it is one of the bundle's recorded inputs.
      writeFileSync(helper, `export const EXTRA = " (via an edited module)";\n`);
      const second = await launch(["--input", bundle, "--out", path.join(work, "out-new-import")]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain("(via an edited module)");
    } finally {
      writeFileSync(errors, original);
      rmSync(helper, { force: true });
    }
  });

  it("a new file that an import now resolves to reaches the next run (errors.js beside errors.ts)", async () => {
    const bundle = path.join(work, "bad-json.json");
    writeFileSync(bundle, "{ not json");
    const before = await launch(["--input", bundle, "--out", path.join(work, "out-shadow")]);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain("invalid JSON");
    // `import "./errors.js"` resolves to errors.js once it exists: no input of the cached bundle changed.
    const shadow = path.join(work, "scripts/codegen/errors.js");
    const source = readFileSync(path.join(work, "scripts/codegen/errors.ts"), "utf8");
    writeFileSync(
      shadow,
      `export class CodegenError extends Error {\n  constructor(code, file, pointer, detail) {\n    super(\`\${file}#\${pointer}: \${detail} (errors.js)\`);\n    this.name = "CodegenError";\n    Object.assign(this, { code, file, pointer, detail });\n  }\n}\n` +
        `export const escapePointerToken = (token) => String(token).replace(/~/g, "~0").replace(/\\//g, "~1");\n` +
        `export const joinPointer = (base, ...tokens) => base + tokens.map((t) => "/" + escapePointerToken(t)).join("");\n`,
    );
    try {
      const after = await launch(["--input", bundle, "--out", path.join(work, "out-shadow")]);
      expect(after.code).toBe(1);
      expect(after.stderr).toContain("(errors.js)");
    } finally {
      rmSync(shadow, { force: true });
    }
    expect(source).toContain("export class CodegenError");
    const restored = await launch(["--input", bundle, "--out", path.join(work, "out-shadow")]);
    expect(restored.stderr).not.toContain("(errors.js)");
  });

  it("runs started together on an empty cache all succeed (bundles are renamed into place)", async () => {
    const shared = path.join(work, "cache-concurrent");
    mkdirSync(shared);
    const small = path.join(work, "small-bundle.json");
    writeFileSync(small, JSON.stringify({ definitions: { Mode: { enum: ["a", "b"] } } }));
    const results = await Promise.all(
      [1, 2, 3].map((n) => launch(["--quiet", "--input", small, "--out", path.join(work, `out-concurrent-${n}`)], { cacheDir: shared })),
    );
    for (const result of results) expect(result.stderr).toBe("");
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    const outputs = [1, 2, 3].map((n) => readFileSync(path.join(work, `out-concurrent-${n}`, "validators.js"), "utf8"));
    expect(new Set(outputs).size).toBe(1);
    expect(bundlesIn(shared)).toHaveLength(1);
    expect(readdirSync(shared).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });
});
