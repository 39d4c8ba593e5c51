import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeIf, git } from "../support/requirements.js";
import { DEADLINE_MS, npm, ok, ROOT, scratchDir, writeTree } from "./consumer.js";

/**
 * Installing from a git checkout (issue #14, item 1): npm clones the repository, installs its
 * devDependencies, runs `prepare` (the build, ESM and CommonJS) and packs it. The checkout is a
 * clone of this repository's HEAD (what is committed), so nothing of this work tree's dist/ leaks in.
 */
let scratch: ReturnType<typeof scratchDir>;
let consumer: string;

beforeAll(async () => {
  scratch = scratchDir("git-install");
  const checkout = path.join(scratch.dir, "checkout");
  await ok("git", ["clone", "--quiet", "--no-hardlinks", ROOT, checkout], { cwd: scratch.dir });
  consumer = path.join(scratch.dir, "consumer");
  writeTree(consumer, {
    "package.json": JSON.stringify({ name: "git-consumer", private: true, type: "module" }),
    "esm.mjs": `import { ErrorCode } from "codex-auth/protocol";\nimport { AppServerClient } from "codex-auth/client";\nconsole.log(JSON.stringify({ esm: ErrorCode.InvalidParams, spawn: typeof AppServerClient.spawn }));\n`,
    "cjs.cjs": `const { ErrorCode } = require("codex-auth/protocol");\nconsole.log(JSON.stringify({ cjs: ErrorCode.MethodNotFound, file: require.resolve("codex-auth/protocol").endsWith(".cjs") }));\n`,
  });
  await npm(["install", "--prefer-offline", "--no-audit", "--no-fund", `git+file://${checkout}`], consumer);
}, DEADLINE_MS);

afterAll(() => scratch?.remove());

describeIf(git(), "install from a git checkout", () => {
  it("prepare stays out of `npm ci` (CI builds explicitly)", async () => {
    const result = await ok(process.execPath, ["scripts/package/prepare.mjs"], { cwd: ROOT, env: { npm_command: "ci" } });
    expect(result.stderr).toContain("prepare: skipped under `npm ci`");
  });

  it("builds dist/ through prepare: ESM and CommonJS imports work and the CLI runs", async () => {
    expect(JSON.parse((await ok(process.execPath, ["esm.mjs"], { cwd: consumer })).stdout)).toEqual({ esm: -32602, spawn: "function" });
    expect(JSON.parse((await ok(process.execPath, ["cjs.cjs"], { cwd: consumer })).stdout)).toEqual({ cjs: -32601, file: true });
    const home = scratchDir("git-install-home");
    try {
      const status = await ok(process.execPath, [path.join(consumer, "node_modules/.bin/codex-auth"), "--version"], {
        cwd: consumer,
        env: { CODEX_HOME: home.dir },
      });
      expect(status.stdout).toMatch(/\d+\.\d+\.\d+/);
    } finally {
      home.remove();
    }
  }, DEADLINE_MS);
});
