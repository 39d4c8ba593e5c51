import { describe, expect, it } from "vitest";
import { useCliHarness } from "../support/cli-harness.js";

const cli = useCliHarness();

describe("help and usage errors", () => {
  it("--help per command goes to stdout, exit 0", async () => {
    for (const [args, first] of [
      [["--help"], "Codex login and account system"],
      [["login", "--help"], "Manage login"],
      [["login", "-h"], "Manage login"],
      [["login", "status", "--help"], "Show login status"],
      [["logout", "--help"], "Remove stored authentication credentials"],
      [["help", "login"], "Manage login"],
    ] as const) {
      const result = await cli.run(args);
      expect(result.code).toBe(0);
      expect(result.stdout.split("\n")[0]).toMatch(new RegExp(`^${first}`));
      expect(result.stderr).toBe("");
    }
    expect((await cli.run(["login", "--help"])).stdout).toContain("--with-access-token");
    expect((await cli.run(["login", "status", "--help"])).stdout).toContain("--json");
  });

  it("unknown arguments are clap-style usage errors, exit 2", async () => {
    expect(await cli.run(["login", "status", "extra"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "error: unexpected argument 'extra' found\n\nUsage: codex-auth login status [OPTIONS]\n\nFor more information, try '--help'.\n",
    });
    expect((await cli.run(["login", "--bogus"])).stderr).toBe(
      "error: unexpected argument '--bogus' found\n\nUsage: codex-auth login [OPTIONS] [COMMAND]\n\nFor more information, try '--help'.\n",
    );
    expect((await cli.run(["bogus"])).code).toBe(2);
    expect((await cli.run([])).code).toBe(2);
    expect((await cli.run(["login", "status", "-c"])).code).toBe(2);
  });

  it("never echoes something that looks like a credential", async () => {
    const token = cli.secret("at-pasted-by-mistake-000000000");
    const result = await cli.run(["logout", token]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unexpected argument 'at-paste***00000' found");
  });

  it("--version", async () => {
    const result = await cli.run(["--version"]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^codex-auth \d+\.\d+\.\d+\n$/);
  });
});
