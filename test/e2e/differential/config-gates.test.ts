import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CODEX_VERSION } from "../../support/codex-reference.js";
import { assertNoSecrets } from "../../support/secrets.js";
import { API_KEY, Bench, CELL_MS, DEMO_PAT, lastLine, login, readAuthFile, runTool, status, STORES, TOOLS, type Credential, type Result, type Tool, useBench } from "./support.js";

/**
 * The config gates (`forced_login_method`, `forced_chatgpt_workspace_id`, conflicting flags), run
 * by both tools with the same config: each row is asserted against the text both must print,
 * and nothing is written where the gate refuses. Rows where the tools differ on purpose are in
 * differences.test.ts.
 */
const FILE = STORES[0]!;

interface LoginGate {
  readonly name: string;
  readonly config: readonly string[];
  readonly credential: Credential | "bothFlags";
  readonly expected: { code: number; lastLine: string };
}

const LOGIN_GATES: readonly LoginGate[] = [
  {
    name: "API key login while ChatGPT is forced",
    config: ["forced_login_method=chatgpt"],
    credential: "apiKey",
    expected: { code: 1, lastLine: "API key login is disabled. Use ChatGPT login instead." },
  },
  {
    name: "device-code login while API is forced",
    config: ["forced_login_method=api"],
    credential: "deviceCode",
    expected: { code: 1, lastLine: "ChatGPT login is disabled. Use API key login instead." },
  },
  {
    name: "access-token login while API is forced",
    config: ["forced_login_method=api"],
    credential: "personalAccessToken",
    expected: { code: 1, lastLine: "Access token login is disabled. Use API key login instead." },
  },
  {
    name: "device-code login into another workspace than the forced one",
    config: ["forced_chatgpt_workspace_id=acct-forced"],
    credential: "deviceCode",
    expected: { code: 1, lastLine: "Error logging in: Login is restricted to workspace id(s) acct-forced." },
  },
  {
    name: "both credential flags",
    config: [],
    credential: "bothFlags",
    expected: { code: 1, lastLine: "Choose one login credential source: --with-api-key or --with-access-token." },
  },
];

function attempt(bench: Bench, tool: Tool, gate: LoginGate, home: string): Promise<Result> {
  if (gate.credential === "bothFlags") {
    return runTool(tool, [...bench.config(FILE, gate.config), "login", "--with-api-key", "--with-access-token"], { stdin: API_KEY, env: bench.env(FILE, home) });
  }
  return login(bench, tool, gate.credential, FILE, home, gate.config);
}

describe(`beside Codex ${CODEX_VERSION}: config gates print the same texts`, { timeout: CELL_MS }, () => {
  let bench: Bench;
  useBench({ secretService: false, checks: "offline" }, (started) => (bench = started));

  describe.concurrent.each(LOGIN_GATES.map((gate) => [gate.name, gate] as const))("%s", (_name, gate) => {
    it.each(TOOLS)("%s refuses it and writes nothing", async (tool) => {
      const home = bench.home();
      const result = await attempt(bench, tool, gate, home);
      expect({ code: result.code, lastLine: lastLine(result.stderr) }).toEqual(gate.expected);
      expect(readAuthFile(home)).toBeNull();
      assertNoSecrets([result.stdout, result.stderr], [API_KEY]);
    });
  });

  // A stored credential the config no longer allows: `login status` by either tool, on the same
  // file, filters it out ("Not logged in") and leaves the file alone.
  const STATUS_GATES: ReadonlyArray<{ name: string; credential: Credential; config: string[]; expected: { code: number; stderr: string } }> = [
    {
      name: "an API key stored, ChatGPT forced",
      credential: "apiKey",
      config: ["forced_login_method=chatgpt"],
      expected: { code: 1, stderr: "Not logged in\n" },
    },
    {
      name: "a ChatGPT login stored, API forced",
      credential: "deviceCode",
      config: ["forced_login_method=api"],
      expected: { code: 1, stderr: "Not logged in\n" },
    },
  ];
  describe.concurrent.each(STATUS_GATES.map((gate) => [gate.name, gate] as const))("status with %s", (_name, gate) => {
    it.each(TOOLS)("written by %s: both tools print the same", async (writer) => {
      const home = bench.home();
      expect((await login(bench, writer, gate.credential, FILE, home)).code).toBe(0);
      const results = await Promise.all(TOOLS.map((tool) => status(bench, tool, FILE, home, gate.config)));
      for (const [index, result] of results.entries()) {
        expect({ tool: TOOLS[index], code: result.code, stderr: result.stderr }).toEqual({ tool: TOOLS[index], ...gate.expected });
      }
      expect(readAuthFile(home)).not.toBeNull();
      assertNoSecrets(results.flatMap((r) => [r.stdout, r.stderr]), [API_KEY, DEMO_PAT]);
    });
  });
});
