import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useCliHarness } from "../support/cli-harness.js";
import { codexFixture } from "../support/fixtures.js";

const cli = useCliHarness();
const authPath = () => path.join(cli.home, "auth.json");

describe("codex-auth login --with-api-key", () => {
  it("reads the key from stdin, prints Codex's messages on stderr and writes Codex's bytes, 0600", async () => {
    const key = cli.secret("sk-proj-1234567890ABCDE");
    const result = await cli.run(["login", "--with-api-key"], { stdin: `${key}\n` });
    expect(result).toEqual({
      code: 0,
      stdout: "",
      stderr: "Reading API key from stdin...\nAPI key saved. Authentication is checked when you send a request.\n",
    });
    expect(readFileSync(authPath())).toEqual(readFileSync(codexFixture("auth-json/api-key.written-by-codex-0.169.0.json")));
    expect(statSync(authPath()).mode & 0o777).toBe(0o600);
  });

  it("replaces whatever was stored before (each login writes a fresh file)", async () => {
    await cli.run(["login", "--with-api-key"], { stdin: cli.secret("sk-first-key-000000000000") });
    await cli.run(["login", "--with-api-key"], { stdin: cli.secret("sk-second-key-00000000000") });
    expect(JSON.parse(readFileSync(authPath(), "utf8"))).toEqual({ auth_mode: "apikey", OPENAI_API_KEY: "sk-second-key-00000000000" });
  });

  it("refuses an empty or blank stdin: exit 1, nothing written", async () => {
    for (const stdin of ["", "  \n\t\n"]) {
      const result = await cli.run(["login", "--with-api-key"], { stdin });
      expect(result).toEqual({ code: 1, stdout: "", stderr: "Reading API key from stdin...\nNo API key provided via stdin.\n" });
    }
    expect(existsSync(authPath())).toBe(false);
  });

  it("honours forced_login_method = chatgpt from config.toml or -c", async () => {
    const key = cli.secret("sk-forced-chatgpt-0000000000");
    const result = await cli.run(["-c", "forced_login_method=chatgpt", "login", "--with-api-key"], { stdin: key });
    expect(result).toEqual({ code: 1, stdout: "", stderr: "Reading API key from stdin...\nAPI key login is disabled. Use ChatGPT login instead.\n" });
    const after = await cli.run(["login", "--with-api-key", "--config", 'forced_login_method="chatgpt"'], { stdin: key });
    expect(after.code).toBe(1);
    expect(existsSync(authPath())).toBe(false);
  });

  it("does not echo a key passed with the removed --api-key flag", async () => {
    const key = cli.secret("sk-on-the-command-line-0000000");
    const result = await cli.run(["login", "--api-key", key]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "The --api-key flag is no longer supported. Pipe the key instead, e.g. `printenv OPENAI_API_KEY | codex-auth login --with-api-key`.\n",
    );
    const positional = await cli.run(["login", key]);
    expect(positional.code).toBe(2);
    expect(positional.stderr).toContain("error: unexpected argument 'sk-on-th***00000' found");
  });

  it("uses the keyring store only when configured (ephemeral leaves no file)", async () => {
    const result = await cli.run(["-c", "cli_auth_credentials_store=ephemeral", "login", "--with-api-key"], { stdin: cli.secret("sk-ephemeral-000000000000") });
    expect(result.code).toBe(0);
    expect(existsSync(authPath())).toBe(false);
  });
});
