import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { validateConfigReadResponse } from "../../src/protocol/index.js";
import { appServerArgv } from "../support/app-server-process.js";
import { CODEX_VERSION, referenceCodexBinary } from "../support/codex-reference.js";
import { NdjsonPeer, serverEnv } from "../support/ndjson-peer.js";

/**
 * `config/read` against the real `codex app-server` (the pinned version and 0.171.0): the same
 * CODEX_HOME, config.toml and `-c` overrides, compared field by field. Codex's `config` has ~100
 * typed keys; ours carries the keys codex-auth reads, each compared with Codex's value. `origins`
 * and the layers must be identical (Codex adds a system layer, /etc/codex/config.toml, that
 * codex-auth does not read).
 */

const VERSIONS = [...new Set([CODEX_VERSION, "0.171.0"])];
const OUR_KEYS = ["model_provider", "forced_login_method", "forced_chatgpt_workspace_id", "cli_auth_credentials_store", "chatgpt_base_url"];

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function home(configToml?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "codex-auth-config-read-"));
  homes.push(dir);
  if (configToml !== undefined) writeFileSync(path.join(dir, "config.toml"), configToml);
  return dir;
}

type Server = "ours" | string;

function start(server: Server, codexHome: string, overrides: readonly string[]): NdjsonPeer {
  const flags = overrides.flatMap((pair) => ["-c", pair]);
  if (server === "ours") {
    const { command, args } = appServerArgv();
    return new NdjsonPeer(command, [args[0]!, ...flags, ...args.slice(1)], serverEnv(codexHome));
  }
  return new NdjsonPeer(referenceCodexBinary(server), [...flags, "app-server"], serverEnv(codexHome, { RUST_LOG: "error" }));
}

/** initialize, then the given config/read requests; returns the answers by id. */
async function readConfig(
  server: Server,
  codexHome: string,
  overrides: readonly string[],
  requests: Array<{ id: number; params?: unknown }>,
  afterInitialize?: () => void,
) {
  const peer = start(server, codexHome, overrides);
  try {
    peer.send({ id: 0, method: "initialize", params: { clientInfo: { name: "codex-acp", version: "2.6.0" }, capabilities: { experimentalApi: true } } });
    await peer.response(0, 60_000);
    afterInitialize?.();
    peer.send(...requests.map(({ id, params }) => (params === undefined ? { id, method: "config/read" } : { id, method: "config/read", params })));
    const answers = new Map<number, Record<string, unknown>>();
    for (const { id } of requests) answers.set(id, await peer.response(id));
    return answers;
  } finally {
    await peer.close();
  }
}

type Result = { config: Record<string, unknown>; origins: Record<string, unknown>; layers?: Array<{ name: { type: string } }> };

async function compare(configToml: string | undefined, overrides: string[]) {
  const codexHome = home(configToml);
  const requests = [
    { id: 1, params: { includeLayers: false } },
    { id: 2, params: { includeLayers: true, cwd: codexHome } },
    { id: 3, params: {} },
  ];
  const ours = await readConfig("ours", codexHome, overrides, requests);
  for (const version of VERSIONS) {
    const theirs = await readConfig(version, codexHome, overrides, requests);
    for (const { id } of requests) {
      const mine = ours.get(id)!.result as Result;
      const reference = theirs.get(id)!.result as Result;
      expect(validateConfigReadResponse(mine), JSON.stringify(validateConfigReadResponse.errors)).toBe(true);
      for (const key of OUR_KEYS) expect([version, id, key, mine.config[key]]).toEqual([version, id, key, reference.config[key]]);
      expect(Object.keys(mine.config).sort()).toEqual([...OUR_KEYS].sort());
      expect([version, id, mine.origins]).toEqual([version, id, reference.origins]);
      expect("layers" in mine).toBe("layers" in reference);
      if (reference.layers) {
        expect([version, id, mine.layers]).toEqual([version, id, reference.layers.filter((layer) => layer.name.type !== "system")]);
      }
    }
  }
  return ours;
}

describe("config/read, field by field against codex app-server", { timeout: 120_000 }, () => {
  it("config.toml and -c overrides: values, origins (with layer fingerprints) and layers", async () => {
    const toml = [
      'model = "gpt-5"',
      'model_provider = "openai"',
      'forced_login_method = "chatgpt"',
      'forced_chatgpt_workspace_id = ["ws-a", "ws-b"]',
      "ratio = 1.0",
      "count = 3",
      "when = 1979-05-27T07:32:00Z",
      "[tools]",
      "web_search = true",
      "[model_providers.local]",
      'name = "Local"',
      'base_url = "http://127.0.0.1:9/v1"',
      "[zeta]",
      'x = [1, { k = "v" }]',
    ].join("\n");
    const ours = await compare(toml, ["chatgpt_base_url=http://127.0.0.1:9/backend-api/", "a.b.c=3", "tools.web_search=false", 'cli_auth_credentials_store="file"']);
    // What codex-acp reads to decide which auth applies.
    expect((ours.get(1)!.result as Result).config.model_provider).toBe("openai");
  });

  it("no config.toml: defaults, and the user layer listed empty", async () => {
    const ours = await compare(undefined, []);
    expect((ours.get(1)!.result as Result).config).toEqual({
      model_provider: null,
      forced_login_method: null,
      forced_chatgpt_workspace_id: null,
      cli_auth_credentials_store: "file",
      chatgpt_base_url: "https://chatgpt.com/backend-api/",
    });
  });

  it("`-c __proto__.…` is an ordinary (ignored) key, as in Codex: no effect, nothing polluted", async () => {
    const ours = await compare('forced_login_method = "api"\n', ["__proto__.forced_login_method=chatgpt", "constructor.prototype.x=1"]);
    expect((ours.get(1)!.result as Result).config.forced_login_method).toBe("api");
  });

  it("params absent or null, and a config.toml broken after start-up (read again per request), as Codex", async () => {
    const codexHome = home('model = "a"\n');
    const requests = [{ id: 1 }, { id: 2, params: null }, { id: 3, params: { includeLayers: true } }];
    const breakConfig = () => writeFileSync(path.join(codexHome, "config.toml"), "model = \n");
    const ours = await readConfig("ours", codexHome, [], requests, breakConfig);
    writeFileSync(path.join(codexHome, "config.toml"), 'model = "a"\n');
    const theirs = await readConfig(CODEX_VERSION, codexHome, [], requests, breakConfig);
    expect(ours.get(1)).toEqual(theirs.get(1));
    expect(ours.get(2)).toEqual(theirs.get(2));
    const mine = ours.get(3)!.error as { code: number; message: string };
    const reference = theirs.get(3)!.error as { code: number; message: string };
    expect(mine.code).toBe(reference.code);
    const prefix = `failed to read configuration layers: ${path.join(codexHome, "config.toml")}:1:`;
    expect(reference.message.startsWith(prefix)).toBe(true);
    expect(mine.message.startsWith(prefix)).toBe(true);
  });
});
