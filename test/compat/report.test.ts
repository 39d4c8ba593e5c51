import { describe, expect, it } from "vitest";
import { applyAllowlist, parseAllowlist } from "../../src/compat/allowlist.js";
import { diffBundles } from "../../src/compat/index.js";
import { buildReport, renderText } from "../../src/compat/report.js";

const bundle = (values: string[], closed: boolean) => ({
  definitions: {
    Mode: { type: "string", enum: values },
    Changed: { type: "object", properties: { mode: { $ref: "#/definitions/Mode" } } },
    SetParams: { type: "object", properties: { mode: { type: "string" } }, ...(closed ? { additionalProperties: false } : {}) },
  },
  "x-methods": [
    { method: "mode/changed", direction: "serverToClient", kind: "notification", version: "v2", params: "Changed", result: null, experimental: false },
    { method: "mode/set", direction: "clientToServer", kind: "request", version: "v2", params: "SetParams", result: null, experimental: false },
  ],
});

describe("allowlist", () => {
  const result = diffBundles(bundle(["a"], false), bundle(["a", "b"], true));

  it("covers breaking findings by rule and pointer, optionally direction and method", () => {
    const allowlist = parseAllowlist(
      { entries: [{ rule: "enum-value-added", pointer: "/definitions/Mode/enum/1", direction: "serverToClient", method: "mode/changed", reason: "planned" }] },
      "allowlist.json",
    );
    const outcome = applyAllowlist(result.findings, allowlist);
    expect(outcome.unallowed).toBe(1); // the closed SetParams
    expect(outcome.stale).toEqual([]);
    expect(outcome.findings.find((f) => f.rule === "enum-value-added")?.allowlisted).toEqual({ reason: "planned", entry: 0 });
  });

  it("an entry for another method or direction covers nothing and is stale", () => {
    const allowlist = parseAllowlist(
      {
        entries: [
          { rule: "enum-value-added", pointer: "/definitions/Mode/enum/1", method: "mode/set", reason: "wrong method" },
          { rule: "enum-value-added", pointer: "/definitions/Mode/enum/1", direction: "clientToServer", reason: "wrong direction" },
        ],
      },
      "allowlist.json",
    );
    const outcome = applyAllowlist(result.findings, allowlist);
    expect(outcome.unallowed).toBe(2);
    expect(outcome.stale.map((s) => s.index)).toEqual([0, 1]);
  });

  it("reports every problem of an invalid file at once, with a code", () => {
    const parse = () =>
      parseAllowlist({ entries: [{ rule: "enum-value-added", pointer: "definitions/Mode", reason: "" }, { rule: "x", pointer: "/a", reason: "r", extra: 1 }], other: 1 }, "allowlist.json");
    expect(parse).toThrow(expect.objectContaining({ code: "COMPAT_ALLOWLIST_INVALID" }));
    let message = "";
    try {
      parse();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(`unknown key "other"`);
    expect(message).toContain(`entries[0]: "pointer" must be a JSON pointer`);
    expect(message).toContain(`entries[0]: "reason" is required`);
    expect(message).toContain(`entries[1]: unknown key "extra"`);
    expect(message).toContain(`entries[1]: "rule" must be one of`);
    expect(() => parseAllowlist({ entries: [{ rule: "field-added", pointer: "/a", reason: "r" }, { rule: "field-added", pointer: "/a", reason: "again" }] }, "f")).toThrow(
      "entries[1]: same as entries[0]",
    );
  });
});

describe("text report", () => {
  const result = diffBundles(bundle(["a"], false), bundle(["a", "b"], true));
  const report = buildReport({ oldLabel: "old", newLabel: "new", result });

  it("groups by method, breaking first, and explains who breaks", () => {
    const text = renderText(report, { color: false });
    expect(text).toMatch(
      /\nmode\/changed\n {2}✖ BREAKING enum-value-added {2}server→client {2}Mode: value "b" added\n {13}\/definitions\/Mode\/enum\/1 \(new bundle\)\n {13}breaks old clients ← new server: old clients may receive values they do not handle\n/,
    );
    expect(text).toMatch(/\nmode\/set\n {2}✖ BREAKING additional-properties-tightened {2}client→server/);
    expect(text).toContain("old clients may send values the server now rejects");
    expect(text.trimEnd().endsWith("FAIL: 2 breaking changes not allowlisted")).toBe(true);
    expect(text).not.toContain("\x1b[");
  });

  it("colours only when asked", () => {
    expect(renderText(report, { color: true })).toContain("\x1b[31m");
  });
});
