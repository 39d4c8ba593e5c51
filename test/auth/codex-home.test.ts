import { realpathSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { authFilePath, readEnvValue, resolveCodexHome } from "../../src/auth/codex-home.js";
import { tempDir, type TempDir } from "../support/cli-process.js";

let home: TempDir;
beforeEach(() => (home = tempDir("codex-auth-home-")));
afterEach(() => home.remove());

describe("resolveCodexHome", () => {
  it("defaults to ~/.codex, which need not exist yet", () => {
    expect(resolveCodexHome({})).toBe(path.join(homedir(), ".codex"));
    expect(resolveCodexHome({ CODEX_HOME: "  " })).toBe(path.join(homedir(), ".codex"));
  });

  it("uses an existing CODEX_HOME, canonicalized", () => {
    expect(resolveCodexHome({ CODEX_HOME: home.dir })).toBe(realpathSync(home.dir));
    expect(authFilePath(home.dir)).toBe(path.join(home.dir, "auth.json"));
  });

  it("refuses a CODEX_HOME that does not exist, with Codex's message", () => {
    const missing = path.join(home.dir, "nowhere");
    expect(() => resolveCodexHome({ CODEX_HOME: missing })).toThrow(`CODEX_HOME points to "${missing}", but that path does not exist`);
  });
});

describe("readEnvValue", () => {
  it("trims and treats empty as unset", () => {
    expect(readEnvValue({ A: "  x " }, "A")).toBe("x");
    expect(readEnvValue({ A: "   " }, "A")).toBeNull();
    expect(readEnvValue({}, "A")).toBeNull();
  });
});
