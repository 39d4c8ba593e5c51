import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CODEX_VERSION } from "../../support/codex-reference.js";
import { Bench, CELL_MS, readAuthFile, runTool, status, STORES, type Result, type Tool, useBench } from "./support.js";

/**
 * The deliberate differences (README "Where we differ from Codex"), each shown against the real
 * binary: what Codex does, and what codex-auth does instead, on the same input.
 */
const FILE = STORES[0]!;
/** The dev-server's public demo PAT whose whoami answers `email: null` (src/dev-server/README.md). */
const PAT_WITHOUT_EMAIL = "at-demo-missing-email";
/** The demo PAT of workspace acct-demo. */
const PAT = "at-demo-valid";
const FORCED = ["forced_chatgpt_workspace_id=acct-forced"];

describe(`deliberate differences from Codex ${CODEX_VERSION}`, { timeout: CELL_MS }, () => {
  let bench: Bench;
  useBench({ secretService: false, checks: "none" }, (started) => (bench = started));

  const patLogin = (tool: Tool, token: string, home: string, more: string[] = []): Promise<Result> =>
    runTool(tool, [...bench.config(FILE, more), "login", "--with-access-token"], { stdin: token, env: bench.env(FILE, home) });
  const brief = (result: Result) => ({ code: result.code, stderr: result.stderr });

  it("a PAT whose whoami has no email: Codex accepts it; codex-auth fails closed, at login and when it finds one stored", async () => {
    const [codexHome, oursHome] = [bench.home(), bench.home()];
    expect(brief(await patLogin("codex", PAT_WITHOUT_EMAIL, codexHome))).toEqual({ code: 0, stderr: "Reading access token from stdin...\nSuccessfully logged in\n" });
    expect(brief(await status(bench, "codex", FILE, codexHome))).toEqual({ code: 0, stderr: "Logged in using personal access token\n" });

    expect(brief(await patLogin("codex-auth", PAT_WITHOUT_EMAIL, oursHome))).toEqual({
      code: 1,
      stderr: "Reading access token from stdin...\nError logging in with access token: failed to decode personal access token metadata: invalid type: null, expected a string at /email\n",
    });
    expect(readAuthFile(oursHome)).toBeNull();
    // The one Codex stored: codex-auth refuses to use it.
    const ours = await status(bench, "codex-auth", FILE, codexHome);
    expect(ours.code).toBe(1);
    expect(ours.stderr).toMatch(/^Error checking login status: failed to decode personal access token metadata: .*\/email\n$/);
  });

  it("forced_chatgpt_workspace_id and a PAT of another workspace: Codex refuses the login and fails status; codex-auth applies it only to ChatGPT logins", async () => {
    const [codexHome, oursHome] = [bench.home(), bench.home()];
    expect(brief(await patLogin("codex", PAT, codexHome, FORCED))).toEqual({
      code: 1,
      stderr: "Reading access token from stdin...\nError logging in with access token: Login is restricted to workspace id(s) acct-forced.\n",
    });
    expect(readAuthFile(codexHome)).toBeNull();
    expect(brief(await patLogin("codex-auth", PAT, oursHome, FORCED))).toEqual({ code: 0, stderr: "Reading access token from stdin...\nSuccessfully logged in\n" });

    // The same stored PAT, read by both with the workspace forced.
    expect(brief(await status(bench, "codex", FILE, oursHome, FORCED))).toEqual({ code: 1, stderr: "Error checking login status: Login is restricted to workspace id(s) acct-forced.\n" });
    expect(brief(await status(bench, "codex-auth", FILE, oursHome, FORCED))).toEqual({ code: 0, stderr: "Logged in using personal access token\n" });
  });
});
