import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { hasCommand } from "../support/cli-process.js";
import { itIf, scriptCommand } from "../support/requirements.js";
import { useCliHarness } from "../support/cli-harness.js";

const cli = useCliHarness();
const authPath = () => path.join(cli.home, "auth.json");
const isRoot = process.getuid?.() === 0;

describe("broken environments give the contract's message and exit code", () => {
  it("malformed auth.json: status names the file; login refuses to overwrite it", async () => {
    writeFileSync(authPath(), "{not json");
    const status = await cli.run(["login", "status"]);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(new RegExp(`^Error checking login status: failed to deserialize CLI auth from file "${escape(authPath())}": .+\\n$`));

    const login = await cli.run(["login", "--with-api-key"], { stdin: cli.secret("sk-would-overwrite-0000000") });
    expect(login.code).toBe(1);
    expect(login.stderr).toContain(`Error logging in: failed to deserialize CLI auth from file "${authPath()}"`);
    expect(login.stderr).toContain("remove it with `codex-auth logout` first");
    expect(readFileSync(authPath(), "utf8")).toBe("{not json");
  });

  it("unknown auth_mode is malformed too", async () => {
    writeFileSync(authPath(), '{"auth_mode":"bedrockApiKey","OPENAI_API_KEY":null}');
    const status = await cli.run(["login", "status"]);
    expect([status.code, status.stderr]).toEqual([1, `Error checking login status: failed to deserialize CLI auth from file "${authPath()}": unknown variant string "bedrockApiKey" at /auth_mode\n`]);
  });

  it("CODEX_HOME pointing nowhere", async () => {
    const missing = path.join(cli.home, "does-not-exist");
    for (const args of [["login", "status"], ["logout"]]) {
      expect(await cli.run(args, { env: { CODEX_HOME: missing } })).toEqual({
        code: 1,
        stdout: "",
        stderr: `Error loading configuration: CODEX_HOME points to "${missing}", but that path does not exist\n`,
      });
    }
    const login = await cli.run(["login", "--with-api-key"], { stdin: cli.secret("sk-home-missing-000000000"), env: { CODEX_HOME: missing } });
    expect(login).toEqual({
      code: 1,
      stdout: "",
      stderr: `Reading API key from stdin...\nError loading configuration: CODEX_HOME points to "${missing}", but that path does not exist\n`,
    });
    expect(existsSync(missing)).toBe(false);
  });

  it("unreadable auth.json (a directory in its place: works even as root)", async () => {
    mkdirSync(authPath());
    expect(await cli.run(["login", "status"])).toEqual({
      code: 1,
      stdout: "",
      stderr: `Error checking login status: failed to read CLI auth from file "${authPath()}": Is a directory (EISDIR)\n`,
    });
  });

  it.skipIf(isRoot)("unreadable auth.json (mode 000; skipped as root, where permissions do not stop reads)", async () => {
    writeFileSync(authPath(), '{"OPENAI_API_KEY":"sk-x"}');
    chmodSync(authPath(), 0o000);
    expect(await cli.run(["login", "status"])).toEqual({
      code: 1,
      stdout: "",
      stderr: `Error checking login status: failed to read CLI auth from file "${authPath()}": Permission denied (EACCES)\n`,
    });
  });

  it("both credential flags at once", async () => {
    expect(await cli.run(["login", "--with-api-key", "--with-access-token"], { stdin: "sk-unused" })).toEqual({
      code: 1,
      stdout: "",
      stderr: "Choose one login credential source: --with-api-key or --with-access-token.\n",
    });
  });

  itIf(scriptCommand(hasCommand("script")), "a terminal on stdin: guidance instead of waiting for a secret", async () => {
    const apiKey = await cli.run(["login", "--with-api-key"], { stdin: "tty" });
    expect(apiKey.code).toBe(1);
    // Under `script` stdout and stderr share the terminal, with CRLF line ends.
    expect(apiKey.stdout.replace(/\r\n/g, "\n")).toBe(
      "--with-api-key expects the API key on stdin. Try piping it, e.g. `printenv OPENAI_API_KEY | codex-auth login --with-api-key`.\n",
    );
    const token = await cli.run(["login", "--with-access-token"], { stdin: "tty" });
    expect(token.code).toBe(1);
    expect(token.stdout.replace(/\r\n/g, "\n")).toBe(
      "--with-access-token expects the access token on stdin. Try piping it, e.g. `printenv CODEX_ACCESS_TOKEN | codex-auth login --with-access-token`.\n",
    );
    expect(existsSync(authPath())).toBe(false);
  });

  it("bad config: -c without '=', an unknown store, broken config.toml", async () => {
    expect(await cli.run(["-c", "foo", "login", "status"])).toEqual({ code: 1, stdout: "", stderr: "Error parsing -c overrides: Invalid override (missing '='): foo\n" });
    expect(await cli.run(["login", "status", "-c", "cli_auth_credentials_store=bogus"])).toEqual({
      code: 1,
      stdout: "",
      stderr: "Error loading configuration: unknown variant `bogus`, expected one of `file`, `keyring`, `auto`, `ephemeral`\nin `cli_auth_credentials_store`\n",
    });
    writeFileSync(path.join(cli.home, "config.toml"), "garbage = [\n");
    const broken = await cli.run(["login", "status"]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(new RegExp(`^Error loading configuration: ${escape(path.join(cli.home, "config.toml"))}:\\d+:\\d+: `));
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
