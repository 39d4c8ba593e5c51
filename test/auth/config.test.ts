import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_CHATGPT_BASE_URL, loadAuthConfig } from "../../src/auth/config.js";
import { AuthError } from "../../src/auth/errors.js";
import { tempDir, type TempDir } from "../support/cli-process.js";

let home: TempDir;
beforeEach(() => (home = tempDir("codex-auth-config-")));
afterEach(() => home.remove());

async function configError(overrides: string[], toml?: string): Promise<AuthError> {
  if (toml !== undefined) writeFileSync(path.join(home.dir, "config.toml"), toml);
  try {
    await loadAuthConfig(home.dir, overrides);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error("expected a configuration error");
}

describe("loadAuthConfig", () => {
  it("defaults without config.toml", async () => {
    expect(await loadAuthConfig(home.dir)).toEqual({
      forcedLoginMethod: null,
      forcedChatgptWorkspaceIds: null,
      credentialsStore: "file",
      chatgptBaseUrl: DEFAULT_CHATGPT_BASE_URL,
    });
    expect(DEFAULT_CHATGPT_BASE_URL).toBe("https://chatgpt.com/backend-api/");
  });

  it("reads the four auth keys and ignores the rest", async () => {
    writeFileSync(
      path.join(home.dir, "config.toml"),
      [
        'model = "o3"',
        'forced_login_method = "chatgpt"',
        'forced_chatgpt_workspace_id = ["ws-1", " ", "ws-2"]',
        'cli_auth_credentials_store = "ephemeral"',
        'chatgpt_base_url = "http://127.0.0.1:9/backend-api/"',
        "[features]",
        "x = true",
      ].join("\n"),
    );
    expect(await loadAuthConfig(home.dir)).toEqual({
      forcedLoginMethod: "chatgpt",
      forcedChatgptWorkspaceIds: ["ws-1", "ws-2"],
      credentialsStore: "ephemeral",
      chatgptBaseUrl: "http://127.0.0.1:9/backend-api/",
    });
  });

  it("applies -c overrides in order: TOML values, else the raw string (like Codex)", async () => {
    writeFileSync(path.join(home.dir, "config.toml"), 'forced_login_method = "chatgpt"\n');
    const config = await loadAuthConfig(home.dir, [
      "forced_login_method=api",
      ' forced_chatgpt_workspace_id = "ws-9" ',
      'cli_auth_credentials_store="file"',
      "cli_auth_credentials_store=keyring",
      "features.anything=true",
    ]);
    expect(config.forcedLoginMethod).toBe("api");
    expect(config.forcedChatgptWorkspaceIds).toEqual(["ws-9"]);
    expect(config.credentialsStore).toBe("keyring");
  });

  it("treats a blank or empty workspace restriction as none", async () => {
    expect((await loadAuthConfig(home.dir, ['forced_chatgpt_workspace_id=""'])).forcedChatgptWorkspaceIds).toBeNull();
    expect((await loadAuthConfig(home.dir, ["forced_chatgpt_workspace_id=[]"])).forcedChatgptWorkspaceIds).toBeNull();
  });

  it("reports bad overrides and bad values with Codex's messages", async () => {
    expect((await configError(["foo"])).message).toBe("Invalid override (missing '='): foo");
    expect((await configError(["foo"])).code).toBe("CONFIG_OVERRIDE_INVALID");
    expect((await configError(["=x"])).message).toBe("Empty key in override: =x");
    expect((await configError(["cli_auth_credentials_store=bogus"])).message).toBe(
      "unknown variant `bogus`, expected one of `file`, `keyring`, `auto`, `ephemeral`\nin `cli_auth_credentials_store`",
    );
    expect((await configError(["forced_login_method=bogus"])).message).toBe("unknown variant `bogus`, expected `chatgpt` or `api`\nin `forced_login_method`");
    expect((await configError(["forced_login_method="])).message).toBe("unknown variant ``, expected `chatgpt` or `api`\nin `forced_login_method`");
    expect((await configError(["forced_chatgpt_workspace_id=5"])).message).toBe(
      "data did not match any variant of untagged enum Repr\nin `forced_chatgpt_workspace_id`",
    );
    expect((await configError(["chatgpt_base_url=5"])).message).toBe("invalid type: integer `5`, expected a string\nin `chatgpt_base_url`");
  });

  it("`-c __proto__.x=…` and friends are ordinary keys: Object.prototype untouched, no effect (issue 10.7)", async () => {
    const config = await loadAuthConfig(home.dir, [
      "__proto__.forced_login_method=chatgpt",
      "constructor.prototype.forced_login_method=chatgpt",
      '__proto__="x"',
      "prototype.cli_auth_credentials_store=ephemeral",
    ]);
    expect(config.forcedLoginMethod).toBeNull();
    expect(config.credentialsStore).toBe("file");
    expect(({} as Record<string, unknown>).forced_login_method).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, "forced_login_method")).toBe(false);
    // The same keys in config.toml (a [__proto__] table) are just as inert.
    writeFileSync(path.join(home.dir, "config.toml"), '[__proto__]\nforced_login_method = "api"\n');
    expect((await loadAuthConfig(home.dir, ["__proto__.cli_auth_credentials_store=keyring"])).credentialsStore).toBe("file");
    expect(({} as Record<string, unknown>).cli_auth_credentials_store).toBeUndefined();
  });

  it("names config.toml, with line and column, when it is not valid TOML", async () => {
    const error = await configError([], "garbage = [\n");
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toMatch(new RegExp(`^${escape(path.join(home.dir, "config.toml"))}:\\d+:\\d+: `));
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
