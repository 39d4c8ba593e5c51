/**
 * The checker on Codex's real bundles, 0.142.0 → 0.169.0. Every expectation below was first read
 * off the two files with a separate script (method lists of the unions, enum and oneOf members,
 * `required` lists), not taken from the checker's output.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { diffBundles, type DiffResult, type Finding } from "../../src/compat/index.js";
import { codexFixture } from "../support/fixtures.js";

const UPSTREAM = codexFixture("upstream-codex");
const read = (version: string, file: string): unknown => JSON.parse(readFileSync(path.join(UPSTREAM, version, file), "utf8"));

function pick(result: DiffResult, where: Partial<Finding>): Finding[] {
  return result.findings.filter((f) => Object.entries(where).every(([key, value]) => f[key as keyof Finding] === value));
}

function under(result: DiffResult, definition: string): Finding[] {
  return result.findings.filter((f) => f.pointer === definition || f.pointer.startsWith(`${definition}/`));
}

describe("0.142.0 → 0.169.0, flat v2 bundle", () => {
  let result: DiffResult;
  beforeAll(() => {
    const file = "codex_app_server_protocol.v2.schemas.json";
    result = diffBundles(read("0.142.0", file), read("0.169.0", file));
  });

  it("AuthMode gained headers and bedrockAccessKeys: breaking for clients reading account/updated", () => {
    const authMode = under(result, "/definitions/AuthMode");
    expect(authMode.map((f) => [f.rule, f.severity, f.direction, f.method, f.pointer, f.details.value])).toEqual([
      ["enum-value-added", "breaking", "serverToClient", "account/updated", "/definitions/AuthMode/oneOf/3/enum/0", "headers"],
      ["enum-value-added", "breaking", "serverToClient", "account/updated", "/definitions/AuthMode/oneOf/7/enum/0", "bedrockAccessKeys"],
    ]);
  });

  it("LoginAccountParams gained two variants: fine for old writers, not for new clients of older servers", () => {
    const params = under(result, "/definitions/LoginAccountParams").filter((f) => f.rule === "variant-added");
    expect(params.map((f) => [f.breaks, f.direction, f.method, f.pointer, f.details.variant])).toEqual([
      [["newClients"], "clientToServer", "account/login/start", "/definitions/LoginAccountParams/oneOf/4", "amazonBedrock"],
      [["newClients"], "clientToServer", "account/login/start", "/definitions/LoginAccountParams/oneOf/5", "amazonBedrockAccessKeys"],
    ]);
    // ...while the matching new response variant reaches old readers.
    expect(pick(result, { rule: "variant-added", pointer: "/definitions/LoginAccountResponse/oneOf/4" })).toEqual([
      expect.objectContaining({ severity: "breaking", direction: "serverToClient", method: "account/login/start" }),
    ]);
  });

  it("thread/rollback was removed; 23 requests and 18 notifications were added", () => {
    expect(pick(result, { rule: "method-removed" }).map((f) => [f.method, f.severity, f.direction, f.bundle, f.pointer])).toEqual([
      ["thread/rollback", "breaking", "clientToServer", "old", "/definitions/ClientRequest/oneOf/16"],
    ]);
    const added = pick(result, { rule: "method-added" });
    expect(added.filter((f) => f.direction === "clientToServer")).toHaveLength(23);
    expect(added.filter((f) => f.direction === "serverToClient")).toHaveLength(18);
    expect(added.every((f) => f.severity === "non-breaking")).toBe(true);
    expect(added.map((f) => [f.method, f.pointer])).toEqual(
      expect.arrayContaining([
        ["account/gatewayOAuth/login", "/definitions/ClientRequest/oneOf/69"],
        ["thread/revert", "/definitions/ClientRequest/oneOf/21"],
        ["account/gatewayOAuth/changed", "/definitions/ServerNotification/oneOf/49"],
      ]),
    );
    expect(result.summary).toMatchObject({ methodsAdded: 41, methodsRemoved: 1 });
  });

  it("account/rateLimits/read went from no params to optional params: a widening old writers do not notice (older servers would)", () => {
    expect(pick(result, { method: "account/rateLimits/read", direction: "clientToServer" }).map((f) => [f.rule, f.breaks, f.pointer])).toEqual([
      ["type-widened", ["newClients"], "/definitions/ClientRequest/oneOf/88/properties/params/anyOf/0"],
    ]);
  });

  it("other verified changes: PlanType values, a required field removed, an enum value removed from a param, a new Account variant", () => {
    const planType = under(result, "/definitions/PlanType");
    expect(planType.map((f) => f.details.value).sort()).toEqual(
      ["edu_plus", "edu_pro", "ent26", "enterprise_cbp_automation", "promax", "sci", "sci_plus", "self_serve_business_prolite"].sort(),
    );
    expect(planType.every((f) => f.rule === "enum-value-added" && f.severity === "breaking" && f.direction === "serverToClient")).toBe(true);
    expect(pick(result, { pointer: "/definitions/PlanType/enum/5" })[0]).toMatchObject({ details: { value: "promax" } });

    expect(under(result, "/definitions/ModelProviderCapabilitiesReadResponse/properties/namespaceTools")).toEqual([
      expect.objectContaining({ rule: "field-removed", severity: "breaking", direction: "serverToClient", bundle: "old" }),
    ]);
    expect(under(result, "/definitions/ReviewDelivery")).toEqual([
      expect.objectContaining({ rule: "enum-value-removed", severity: "breaking", direction: "clientToServer", method: "review/start", details: expect.objectContaining({ value: "detached" }) }),
    ]);
    expect(under(result, "/definitions/Account").filter((f) => f.rule === "variant-added")).toEqual([
      expect.objectContaining({ severity: "breaking", direction: "serverToClient", method: "account/read", details: expect.objectContaining({ variant: "gcp" }) }),
    ]);
  });

  it("does not flag types that did not change", () => {
    for (const unchanged of ["CancelLoginAccountParams", "CancelLoginAccountResponse", "CancelLoginAccountStatus", "LogoutAccountResponse", "GetAccountParams"]) {
      expect(under(result, `/definitions/${unchanged}`), unchanged).toEqual([]);
    }
    expect(pick(result, { method: "account/login/cancel" })).toEqual([]);
    expect(pick(result, { method: "account/logout" })).toEqual([]);
  });
});

describe("0.142.0 → 0.169.0, nested bundle (v2 under definitions.v2, server requests)", () => {
  let result: DiffResult;
  beforeAll(() => {
    const file = "codex_app_server_protocol.schemas.json";
    result = diffBundles(read("0.142.0", file), read("0.169.0", file));
  });

  it("follows #/definitions/v2 refs", () => {
    expect(under(result, "/definitions/v2/AuthMode").map((f) => [f.rule, f.severity, f.pointer])).toEqual([
      ["enum-value-added", "breaking", "/definitions/v2/AuthMode/oneOf/3/enum/0"],
      ["enum-value-added", "breaking", "/definitions/v2/AuthMode/oneOf/7/enum/0"],
    ]);
  });

  it("compares server requests and their client→server responses, and flags nothing where nothing changed", () => {
    // 154 methods in both flat bundles, plus the 10 server requests and 1 client notification only the nested bundle has.
    expect(result.summary.methodsCompared).toBe(165);
    expect(pick(result, { method: "account/chatgptAuthTokens/refresh" })).toEqual([]);
    expect(under(result, "/definitions/ChatgptAuthTokensRefreshResponse")).toEqual([]);
    expect(under(result, "/definitions/ChatgptAuthTokensRefreshParams")).toEqual([]);
  });
});

/**
 * The gate both ways on a real release, 0.169.0 → 0.171.0 (main bundles). Expectations read off
 * the bundles: AgentMessageDisplay and ThreadRealtimeItem gained alternatives (old clients may
 * receive them), AgentMessageModeration.display lost its `$ref` alternative (new clients reject
 * what 0.169.0 sends), and account/updated gained an optional, nullable `reason` (nobody breaks).
 */
describe("0.169.0 → 0.171.0, main bundles: the gate in both directions", () => {
  let result: DiffResult;
  beforeAll(() => {
    const file = "codex_app_server_protocol.schemas.json";
    result = diffBundles(read("0.169.0", file), read("0.171.0", file));
  });

  it("six changes break old clients of the new server, one breaks new clients of older servers", () => {
    const breaking = result.findings.filter((f) => f.severity === "breaking");
    expect(breaking.map((f) => [f.rule, f.breaks, f.direction, f.pointer])).toEqual([
      ["variant-added", ["oldClients"], "serverToClient", "/definitions/v2/AgentMessageDisplay/oneOf/0"],
      ["variant-added", ["oldClients"], "serverToClient", "/definitions/v2/AgentMessageDisplay/oneOf/1"],
      ["variant-added", ["oldClients"], "serverToClient", "/definitions/v2/AgentMessageDisplay/oneOf/2"],
      ["variant-removed", ["newClients"], "serverToClient", "/definitions/v2/AgentMessageModeration/properties/display/anyOf/0"],
      ["variant-added", ["oldClients"], "serverToClient", "/definitions/v2/ThreadRealtimeItem/oneOf/1"],
      ["variant-added", ["oldClients"], "serverToClient", "/definitions/v2/ThreadRealtimeItem/oneOf/5"],
      ["variant-added", ["oldClients"], "serverToClient", "/definitions/v2/ThreadRealtimeItem/oneOf/6"],
    ]);
    expect(result.summary).toMatchObject({ breaking: 7, nonBreaking: 15, methodsAdded: 2, methodsRemoved: 0 });
  });

  it("account/updated gained an optional reason: information, for both audiences", () => {
    expect(pick(result, { method: "account/updated" }).map((f) => [f.rule, f.severity, f.breaks, f.pointer, f.message])).toEqual([
      ["field-added", "non-breaking", [], "/definitions/v2/AccountUpdatedNotification/properties/reason", "AccountUpdatedNotification.reason: property added (optional)"],
    ]);
  });

  it("the text report names the audience of each breaking change", async () => {
    const { buildReport, renderText } = await import("../../src/compat/report.js");
    const text = renderText(buildReport({ oldLabel: "0.169.0", newLabel: "0.171.0", result }), { color: false });
    expect(text).toContain("breaks old clients ← new server: old clients may receive values they do not handle");
    expect(text).toContain("breaks new clients → older servers: new clients (validating with the new schemas) reject what older servers send");
    expect(text).toContain("7 breaking changes (0 allowlisted; 6 for old clients with the new server, 1 for new clients with older servers), 15 non-breaking");
  });
});
