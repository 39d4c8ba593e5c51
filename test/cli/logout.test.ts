import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useCliHarness } from "../support/cli-harness.js";

const cli = useCliHarness();
const authPath = () => path.join(cli.home, "auth.json");

describe("codex-auth logout", () => {
  it("removes stored auth, then reports Not logged in (both exit 0)", async () => {
    await cli.run(["login", "--with-api-key"], { stdin: cli.secret("sk-logout-me-000000000000") });
    expect(await cli.run(["logout"])).toEqual({ code: 0, stdout: "", stderr: "Successfully logged out\n" });
    expect(existsSync(authPath())).toBe(false);
    expect(await cli.run(["logout"])).toEqual({ code: 0, stdout: "", stderr: "Not logged in\n" });
    expect(await cli.run(["login", "status"])).toEqual({ code: 1, stdout: "", stderr: "Not logged in\n" });
  });

  it("is the one command that removes a malformed auth.json", async () => {
    writeFileSync(authPath(), "{ not json");
    expect(await cli.run(["logout"])).toEqual({ code: 0, stdout: "", stderr: "Successfully logged out\n" });
    expect(existsSync(authPath())).toBe(false);
  });

  it("reports a file it cannot remove, with its path", async () => {
    mkdirSync(authPath());
    const result = await cli.run(["logout"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`Error logging out: failed to delete CLI auth file "${authPath()}": Is a directory (EISDIR)\n`);
  });
});
