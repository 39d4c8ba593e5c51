import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flattenNamespaces, generateBundleFiles } from "../../scripts/codegen/bundle-input.js";
import { UPSTREAM_BUNDLES } from "../../scripts/upstream/reference.js";
import { CODEX_VERSION } from "../support/codex-reference.js";
import { codexFixture } from "../support/fixtures.js";
import { readTranscript, transcriptNames, transcriptVersions } from "../support/transcripts.js";
import { run } from "../support/run.js";

/**
 * Scale: Codex's own bundles as `npm run upstream:pull` stored them, through `codegen --input`, in
 * process: the main bundle (~780 definitions, a nested v2 namespace) of every version the project
 * has adopted (those with recordings: the pinned one and its predecessors), and the pinned v2
 * bundle. The output must compile under tsc --strict and run under Node ESM. (Time is reported by
 * `npm run bench`.)
 */
const repo = path.resolve(".");
const versions = transcriptVersions().filter((version) => readdirSync(codexFixture("upstream-codex")).includes(version));
const inputs = [
  ...versions.map((version) => ({ version, bundle: UPSTREAM_BUNDLES[0], file: codexFixture("upstream-codex", version, UPSTREAM_BUNDLES[0]) })),
  { version: CODEX_VERSION, bundle: UPSTREAM_BUNDLES[1], file: codexFixture("upstream-codex", CODEX_VERSION, UPSTREAM_BUNDLES[1]) },
];
let dir: string;
const outOf = (version: string, bundle: string) => path.join(dir, version, bundle.replace(/\.json$/, ""));

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "codex-auth-scale-"));
  symlinkSync(path.join(repo, "node_modules"), path.join(dir, "node_modules"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("codegen on Codex's own bundles", () => {
  it("covers the pinned version and 0.169.0, main bundles included", () => {
    expect(versions).toContain(CODEX_VERSION);
    expect(versions).toContain("0.169.0");
  });

  it.each(inputs)("$version $bundle: a type and a validator for every definition", async ({ version, bundle, file }) => {
    const files = await generateBundleFiles(file);
    const out = outOf(version, bundle);
    mkdirSync(out, { recursive: true });
    for (const [name, content] of files) writeFileSync(path.join(out, name), content);
    const definitions = flattenNamespaces(JSON.parse(readFileSync(file, "utf8"))).definitions as Record<string, unknown>;
    const names = Object.keys(definitions);
    expect(names.length).toBeGreaterThan(450);
    const declarations = files.get("validators.d.ts")!;
    const types = files.get("types.ts")!;
    for (const name of ["AuthMode", "LoginAccountParams", "GetAccountResponse", "ServerNotification"]) {
      expect(declarations).toContain(`export declare const validate${name}: Validator<${name}>;`);
      expect(types).toMatch(new RegExp(`export (type|interface) ${name}\\b`));
    }
    expect(declarations.match(/^export declare const validate/gm)?.length).toBe(names.length);
    expect(types).not.toMatch(/\bunknown keyword\b/);
  }, 180_000);

  it("all of it compiles under tsc --strict together with a consumer", async () => {
    const files: string[] = [];
    for (const { version, bundle } of inputs) {
      const out = outOf(version, bundle);
      writeFileSync(
        path.join(out, "consumer.ts"),
        [
          'import { validateGetAccountResponse, validateAuthMode } from "./validators.js";',
          'import type { AuthMode, GetAccountResponse } from "./types.js";',
          "export function read(data: unknown): GetAccountResponse | null {",
          "  return validateGetAccountResponse(data) ? data : null;",
          "}",
          "export function mode(data: unknown): AuthMode | null {",
          "  return validateAuthMode(data) ? data : null;",
          "}",
          "",
        ].join("\n"),
      );
      files.push(...["types.ts", "validators.d.ts", "consumer.ts"].map((f) => path.join(out, f)));
    }
    writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", skipLibCheck: true, types: [] },
        files,
      }),
    );
    const tsc = await run(process.execPath, [path.join(repo, "node_modules/typescript/bin/tsc"), "-p", path.join(dir, "tsconfig.json")]);
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
  }, 180_000);

  it("the pinned version's main-bundle validators accept every notification of its recorded sessions", async () => {
    const out = outOf(CODEX_VERSION, UPSTREAM_BUNDLES[0]);
    const messages = transcriptNames(CODEX_VERSION).flatMap((name) => readTranscript(CODEX_VERSION, name));
    const script = path.join(out, "check.mjs");
    writeFileSync(script, [
      'import * as v from "./validators.js";',
      `const lines = ${JSON.stringify(messages)};`,
      "const bad = [];",
      "let checked = 0;",
      "for (const { dir, msg } of lines) {",
      // Client lines include deliberately invalid requests; what the server sent is the reference.
      '  if (!msg || dir !== "s2c" || !("method" in msg)) continue;',
      '  const union = "id" in msg ? v.validateServerRequest : v.validateServerNotification;',
      "  if (!union(msg)) bad.push(msg.method);",
      "  checked++;",
      "}",
      "console.log(JSON.stringify({ bad, checked }));",
    ].join("\n"));
    const node = await run(process.execPath, [script]);
    expect(node.code, node.stderr).toBe(0);
    const { bad, checked } = JSON.parse(node.stdout) as { bad: string[]; checked: number };
    expect(bad).toEqual([]);
    expect(checked).toBeGreaterThan(2);
  });
});
