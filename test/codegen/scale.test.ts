import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codexFixture } from "../support/fixtures.js";
import { run, runTsx } from "../support/run.js";

/**
 * Scale: Codex 0.169.0's own v2 bundle (about 700 definitions) through `npm run codegen -- --input`.
 * The output must compile under tsc --strict and run under Node ESM. (Time is reported by
 * `npm run bench`, not asserted here.)
 */
const repo = path.resolve(".");
const upstream = codexFixture("upstream-codex/0.169.0/codex_app_server_protocol.v2.schemas.json");
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "codex-auth-scale-"));
  symlinkSync(path.join(repo, "node_modules"), path.join(dir, "node_modules"));
  const result = await runTsx(path.join(repo, "scripts/codegen.ts"), ["--input", upstream, "--out", path.join(dir, "out")]);
  expect(result.code, result.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("codegen on the upstream 0.169.0 bundle", () => {
  it("declares a type and a validator for every definition", () => {
    const bundle = JSON.parse(readFileSync(upstream, "utf8")) as { definitions: Record<string, unknown> };
    const names = Object.keys(bundle.definitions);
    expect(names.length).toBeGreaterThan(600);
    const declarations = readFileSync(path.join(dir, "out/validators.d.ts"), "utf8");
    const types = readFileSync(path.join(dir, "out/types.ts"), "utf8");
    for (const name of ["AuthMode", "LoginAccountParams", "GetAccountResponse", "ServerNotification"]) {
      expect(declarations).toContain(`export declare const validate${name}: Validator<${name}>;`);
      expect(types).toMatch(new RegExp(`export (type|interface) ${name}\\b`));
    }
    expect(declarations.match(/^export declare const validate/gm)?.length).toBe(names.length);
  });

  it("compiles under tsc --strict together with a consumer", async () => {
    writeFileSync(
      path.join(dir, "out/consumer.ts"),
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
    writeFileSync(
      path.join(dir, "out/tsconfig.json"),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", skipLibCheck: true, types: [] },
        files: ["types.ts", "validators.d.ts", "consumer.ts"],
      }),
    );
    const tsc = await run(process.execPath, [path.join(repo, "node_modules/typescript/bin/tsc"), "-p", path.join(dir, "out/tsconfig.json")]);
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
  }, 120_000);

  it("runs under Node ESM and validates real 0.169.0 messages", async () => {
    const transcript = readFileSync(codexFixture("transcripts/handshake-apikey-logout.jsonl"), "utf8");
    const readResult = transcript
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { dir: string; msg?: { id?: unknown; result?: unknown } })
      .find((l) => l.dir === "s2c" && l.msg?.id === 7)!.msg!.result;
    const script = path.join(dir, "out/check.mjs");
    writeFileSync(
      script,
      [
        'import { validateGetAccountResponse, validateLoginAccountParams } from "./validators.js";',
        `const read = ${JSON.stringify(readResult)};`,
        "console.log(JSON.stringify([",
        "  validateGetAccountResponse(read),",
        '  validateLoginAccountParams({ type: "amazonBedrock", apiKey: "k", region: "us-east-1" }),',
        '  validateLoginAccountParams({ type: "bogus" }),',
        "]));",
      ].join("\n"),
    );
    const node = await run(process.execPath, [script]);
    expect(node.code, node.stderr).toBe(0);
    expect(JSON.parse(node.stdout)).toEqual([true, true, false]);
  });
});
