import { describe, expect, it } from "vitest";
import { diffBundles, type Direction, type Finding, type RuleId, type Severity } from "../../src/compat/index.js";

const C2S: Direction = "clientToServer";
const S2C: Direction = "serverToClient";
const DRAFT_07 = "http://json-schema.org/draft-07/schema#";

/**
 * A bundle in our layout with one method carrying `Subject` in `direction`: the params of a
 * client→server request, or of a server→client notification.
 */
function bundleWith(subject: unknown, direction: Direction, extra: Record<string, unknown> = {}) {
  const method =
    direction === C2S
      ? { method: "thing/set", direction, kind: "request", version: "v2", params: "Subject", result: "Empty", experimental: false }
      : { method: "thing/changed", direction, kind: "notification", version: "v2", params: "Subject", result: null, experimental: false };
  return { $schema: DRAFT_07, definitions: { Subject: subject, Empty: { type: "object" }, ...extra }, "x-methods": [method] };
}

interface Expected {
  rule: RuleId;
  severity: Severity;
  pointer: string;
}

interface Case {
  name: string;
  direction: Direction;
  old: unknown;
  new: unknown;
  oldExtra?: Record<string, unknown>;
  newExtra?: Record<string, unknown>;
  expected: Expected[];
}

const S = "/definitions/Subject";
const str = { type: "string" };
const obj = (properties: Record<string, unknown>, more: Record<string, unknown> = {}) => ({ type: "object", properties, ...more });
const tagged = (tag: string, more: Record<string, unknown> = {}) => ({
  type: "object",
  properties: { type: { type: "string", enum: [tag] }, ...more },
  required: ["type"],
});

const cases: Case[] = [
  // field-removed: breaks readers when it was required, writers when the new object is closed.
  { name: "required field removed, s2c", direction: S2C, old: obj({ a: str, b: str }, { required: ["a"] }), new: obj({ b: str }), expected: [{ rule: "field-removed", severity: "breaking", pointer: `${S}/properties/a` }] },
  { name: "optional field removed, s2c", direction: S2C, old: obj({ a: str, b: str }), new: obj({ b: str }), expected: [{ rule: "field-removed", severity: "non-breaking", pointer: `${S}/properties/a` }] },
  { name: "field removed from a closed object, c2s", direction: C2S, old: obj({ a: str, b: str }, { additionalProperties: false }), new: obj({ b: str }, { additionalProperties: false }), expected: [{ rule: "field-removed", severity: "breaking", pointer: `${S}/properties/a` }] },
  { name: "required field removed from a closed object, s2c", direction: S2C, old: obj({ a: str }, { required: ["a"], additionalProperties: false }), new: obj({}, { additionalProperties: false }), expected: [{ rule: "field-removed", severity: "breaking", pointer: `${S}/properties/a` }] },
  { name: "field removed from an open object, c2s", direction: C2S, old: obj({ a: str, b: str }, { required: ["a"] }), new: obj({ b: str }), expected: [{ rule: "field-removed", severity: "non-breaking", pointer: `${S}/properties/a` }] },
  // field-added
  { name: "optional field added to an open object, s2c", direction: S2C, old: obj({ a: str }), new: obj({ a: str, b: str }), expected: [{ rule: "field-added", severity: "non-breaking", pointer: `${S}/properties/b` }] },
  { name: "optional field added to a closed object, s2c", direction: S2C, old: obj({ a: str }, { additionalProperties: false }), new: obj({ a: str, b: str }, { additionalProperties: false }), expected: [{ rule: "field-added", severity: "breaking", pointer: `${S}/properties/b` }] },
  { name: "required field added, c2s", direction: C2S, old: obj({ a: str }), new: obj({ a: str, b: str }, { required: ["b"] }), expected: [{ rule: "field-added", severity: "breaking", pointer: `${S}/properties/b` }] },
  { name: "optional field added, c2s", direction: C2S, old: obj({ a: str }), new: obj({ a: str, b: str }), expected: [{ rule: "field-added", severity: "non-breaking", pointer: `${S}/properties/b` }] },
  { name: "required field added, s2c", direction: S2C, old: obj({ a: str }), new: obj({ a: str, b: str }, { required: ["b"] }), expected: [{ rule: "field-added", severity: "non-breaking", pointer: `${S}/properties/b` }] },
  // field-required / field-optional
  { name: "field made required, c2s", direction: C2S, old: obj({ a: str }), new: obj({ a: str }, { required: ["a"] }), expected: [{ rule: "field-required", severity: "breaking", pointer: `${S}/properties/a` }] },
  { name: "field made required, s2c", direction: S2C, old: obj({ a: str }), new: obj({ a: str }, { required: ["a"] }), expected: [{ rule: "field-required", severity: "non-breaking", pointer: `${S}/properties/a` }] },
  { name: "field made optional, s2c", direction: S2C, old: obj({ a: str }, { required: ["a"] }), new: obj({ a: str }), expected: [{ rule: "field-optional", severity: "breaking", pointer: `${S}/properties/a` }] },
  { name: "field made optional, c2s", direction: C2S, old: obj({ a: str }, { required: ["a"] }), new: obj({ a: str }), expected: [{ rule: "field-optional", severity: "non-breaking", pointer: `${S}/properties/a` }] },
  // nullability
  { name: "type: [string, null], s2c", direction: S2C, old: obj({ a: str }), new: obj({ a: { type: ["string", "null"] } }), expected: [{ rule: "nullable-added", severity: "breaking", pointer: `${S}/properties/a/type` }] },
  { name: "type: [string, null], c2s", direction: C2S, old: obj({ a: str }), new: obj({ a: { type: ["string", "null"] } }), expected: [{ rule: "nullable-added", severity: "non-breaking", pointer: `${S}/properties/a/type` }] },
  {
    name: "anyOf [$ref, null], s2c",
    direction: S2C,
    old: obj({ a: { $ref: "#/definitions/Mode" } }),
    new: obj({ a: { anyOf: [{ $ref: "#/definitions/Mode" }, { type: "null" }] } }),
    oldExtra: { Mode: { type: "string", enum: ["x", "y"] } },
    newExtra: { Mode: { type: "string", enum: ["x", "y"] } },
    expected: [{ rule: "nullable-added", severity: "breaking", pointer: `${S}/properties/a/anyOf/1/type` }],
  },
  { name: "null no longer accepted, c2s", direction: C2S, old: obj({ a: { type: ["string", "null"] } }), new: obj({ a: str }), expected: [{ rule: "nullable-removed", severity: "breaking", pointer: `${S}/properties/a/type` }] },
  { name: "null no longer accepted, s2c", direction: S2C, old: obj({ a: { type: ["string", "null"] } }), new: obj({ a: str }), expected: [{ rule: "nullable-removed", severity: "non-breaking", pointer: `${S}/properties/a/type` }] },
  {
    // Our own account/rateLimits/read params: "none" (object or null, closed) became optional params.
    name: "type [object, null] rewritten as anyOf [$ref object, null] keeps null, c2s",
    direction: C2S,
    old: { type: ["object", "null"], additionalProperties: false },
    new: { anyOf: [{ $ref: "#/definitions/Params" }, { type: "null" }] },
    newExtra: { Params: obj({ hint: { type: "boolean" } }) },
    expected: [
      { rule: "additional-properties-loosened", severity: "non-breaking", pointer: "/definitions/Params" },
      { rule: "field-added", severity: "non-breaking", pointer: "/definitions/Params/properties/hint" },
    ],
  },
  // enum and const values
  { name: "enum value added, s2c", direction: S2C, old: { type: "string", enum: ["a", "b"] }, new: { type: "string", enum: ["a", "b", "c"] }, expected: [{ rule: "enum-value-added", severity: "breaking", pointer: `${S}/enum/2` }] },
  { name: "enum value added, c2s", direction: C2S, old: { type: "string", enum: ["a", "b"] }, new: { type: "string", enum: ["a", "b", "c"] }, expected: [{ rule: "enum-value-added", severity: "non-breaking", pointer: `${S}/enum/2` }] },
  { name: "enum value removed, c2s", direction: C2S, old: { type: "string", enum: ["a", "b", "c"] }, new: { type: "string", enum: ["a", "c"] }, expected: [{ rule: "enum-value-removed", severity: "breaking", pointer: `${S}/enum/1` }] },
  { name: "enum value removed, s2c", direction: S2C, old: { type: "string", enum: ["a", "b", "c"] }, new: { type: "string", enum: ["a", "c"] }, expected: [{ rule: "enum-value-removed", severity: "non-breaking", pointer: `${S}/enum/1` }] },
  {
    name: "oneOf of single-value enums (upstream AuthMode style), value added, s2c",
    direction: S2C,
    old: { oneOf: [{ type: "string", enum: ["apikey"], description: "key" }, { type: "string", enum: ["chatgpt"] }] },
    new: { oneOf: [{ type: "string", enum: ["apikey"], description: "key" }, { type: "string", enum: ["headers"] }, { type: "string", enum: ["chatgpt"] }] },
    expected: [{ rule: "enum-value-added", severity: "breaking", pointer: `${S}/oneOf/1/enum/0` }],
  },
  { name: "enum rewritten as oneOf of the same values", direction: S2C, old: { type: "string", enum: ["a", "b"] }, new: { oneOf: [{ const: "b" }, { type: "string", enum: ["a"] }] }, expected: [] },
  { name: "enum values reordered", direction: S2C, old: { type: "string", enum: ["a", "b"] }, new: { type: "string", enum: ["b", "a"] }, expected: [] },
  {
    name: "const changed, c2s",
    direction: C2S,
    old: { const: "a" },
    new: { const: "b" },
    expected: [
      { rule: "enum-value-added", severity: "non-breaking", pointer: `${S}/const` },
      { rule: "enum-value-removed", severity: "breaking", pointer: `${S}/const` },
    ],
  },
  { name: "free string became an enum, c2s", direction: C2S, old: str, new: { type: "string", enum: ["a"] }, expected: [{ rule: "enum-constraint-added", severity: "breaking", pointer: `${S}/enum/0` }] },
  { name: "enum became a free string, s2c", direction: S2C, old: { type: "string", enum: ["a"] }, new: str, expected: [{ rule: "enum-constraint-removed", severity: "breaking", pointer: `${S}/type` }] },
  { name: "enum became a free string, c2s", direction: C2S, old: { type: "string", enum: ["a"] }, new: str, expected: [{ rule: "enum-constraint-removed", severity: "non-breaking", pointer: `${S}/type` }] },
  // types
  { name: "type widened, s2c", direction: S2C, old: str, new: { type: ["string", "integer"] }, expected: [{ rule: "type-widened", severity: "breaking", pointer: `${S}/type` }] },
  { name: "type widened, c2s", direction: C2S, old: str, new: { type: ["string", "integer"] }, expected: [{ rule: "type-widened", severity: "non-breaking", pointer: `${S}/type` }] },
  { name: "integer → number, s2c", direction: S2C, old: { type: "integer" }, new: { type: "number" }, expected: [{ rule: "type-widened", severity: "breaking", pointer: `${S}/type` }] },
  { name: "number → integer, c2s", direction: C2S, old: { type: "number" }, new: { type: "integer" }, expected: [{ rule: "type-narrowed", severity: "breaking", pointer: `${S}/type` }] },
  { name: "type narrowed, c2s", direction: C2S, old: { type: ["string", "integer"] }, new: str, expected: [{ rule: "type-narrowed", severity: "breaking", pointer: `${S}/type` }] },
  { name: "type narrowed, s2c", direction: S2C, old: { type: ["string", "integer"] }, new: str, expected: [{ rule: "type-narrowed", severity: "non-breaking", pointer: `${S}/type` }] },
  { name: "any value → string, c2s", direction: C2S, old: obj({ a: {} }), new: obj({ a: str }), expected: [{ rule: "type-narrowed", severity: "breaking", pointer: `${S}/properties/a` }] },
  // additionalProperties
  { name: "additionalProperties absent → false, c2s", direction: C2S, old: obj({ a: str }), new: obj({ a: str }, { additionalProperties: false }), expected: [{ rule: "additional-properties-tightened", severity: "breaking", pointer: `${S}/additionalProperties` }] },
  { name: "additionalProperties absent → false, s2c", direction: S2C, old: obj({ a: str }), new: obj({ a: str }, { additionalProperties: false }), expected: [{ rule: "additional-properties-tightened", severity: "non-breaking", pointer: `${S}/additionalProperties` }] },
  { name: "additionalProperties true → schema, c2s", direction: C2S, old: obj({}, { additionalProperties: true }), new: obj({}, { additionalProperties: str }), expected: [{ rule: "additional-properties-tightened", severity: "breaking", pointer: `${S}/additionalProperties` }] },
  { name: "additionalProperties false → absent, s2c", direction: S2C, old: obj({ a: str }, { additionalProperties: false }), new: obj({ a: str }), expected: [{ rule: "additional-properties-loosened", severity: "breaking", pointer: S }] },
  {
    name: "map value schema gains an enum value, s2c",
    direction: S2C,
    old: obj({}, { additionalProperties: { type: "string", enum: ["x"] } }),
    new: obj({}, { additionalProperties: { type: "string", enum: ["x", "y"] } }),
    expected: [{ rule: "enum-value-added", severity: "breaking", pointer: `${S}/additionalProperties/enum/1` }],
  },
  // union alternatives
  { name: "variant added, s2c", direction: S2C, old: { oneOf: [tagged("a"), tagged("b")] }, new: { oneOf: [tagged("a"), tagged("b"), tagged("c")] }, expected: [{ rule: "variant-added", severity: "breaking", pointer: `${S}/oneOf/2` }] },
  { name: "variant added, c2s", direction: C2S, old: { oneOf: [tagged("a"), tagged("b")] }, new: { oneOf: [tagged("c"), tagged("a"), tagged("b")] }, expected: [{ rule: "variant-added", severity: "non-breaking", pointer: `${S}/oneOf/0` }] },
  { name: "variant removed, c2s", direction: C2S, old: { oneOf: [tagged("a"), tagged("b"), tagged("c")] }, new: { oneOf: [tagged("a"), tagged("c")] }, expected: [{ rule: "variant-removed", severity: "breaking", pointer: `${S}/oneOf/1` }] },
  { name: "variant removed, s2c", direction: S2C, old: { oneOf: [tagged("a"), tagged("b"), tagged("c")] }, new: { oneOf: [tagged("a"), tagged("c")] }, expected: [{ rule: "variant-removed", severity: "non-breaking", pointer: `${S}/oneOf/1` }] },
  { name: "variants reordered", direction: S2C, old: { oneOf: [tagged("a"), tagged("b")] }, new: { anyOf: [tagged("b"), tagged("a")] }, expected: [] },
  {
    name: "change inside a variant, matched by discriminator after reordering, c2s",
    direction: C2S,
    old: { oneOf: [tagged("a", { k: str }), tagged("b")] },
    new: { oneOf: [tagged("b"), { ...tagged("a", { k: str }), required: ["type", "k"] }] },
    expected: [{ rule: "field-required", severity: "breaking", pointer: `${S}/oneOf/1/properties/k` }],
  },
  {
    name: "flattened union: shared properties beside oneOf are part of every variant, s2c",
    direction: S2C,
    old: obj({ id: str, kind: { type: "string", enum: ["x", "y"] } }, { required: ["id", "kind"] }),
    new: {
      type: "object",
      properties: { id: str },
      required: ["id"],
      oneOf: [obj({ kind: { type: "string", enum: ["x"] } }, { required: ["kind"] }), obj({ kind: { type: "string", enum: ["y"] } }, { required: ["kind"] })],
    },
    // Each old value is still valid and nothing new can arrive; only the enum got split.
    expected: [
      { rule: "enum-value-removed", severity: "non-breaking", pointer: `${S}/properties/kind/enum/1` },
      { rule: "variant-added", severity: "breaking", pointer: `${S}/oneOf/1` },
    ],
  },
  // constraints
  { name: "maxLength lowered, c2s", direction: C2S, old: { type: "string", maxLength: 10 }, new: { type: "string", maxLength: 5 }, expected: [{ rule: "constraint-tightened", severity: "breaking", pointer: `${S}/maxLength` }] },
  { name: "maxLength lowered, s2c", direction: S2C, old: { type: "string", maxLength: 10 }, new: { type: "string", maxLength: 5 }, expected: [{ rule: "constraint-tightened", severity: "non-breaking", pointer: `${S}/maxLength` }] },
  { name: "minimum lowered, s2c", direction: S2C, old: { type: "integer", minimum: 1 }, new: { type: "integer", minimum: 0 }, expected: [{ rule: "constraint-loosened", severity: "breaking", pointer: `${S}/minimum` }] },
  { name: "pattern changed, c2s", direction: C2S, old: { type: "string", pattern: "^a" }, new: { type: "string", pattern: "^b" }, expected: [{ rule: "constraint-changed", severity: "breaking", pointer: `${S}/pattern` }] },
  { name: "unmodelled keyword changed", direction: S2C, old: { type: "string", not: { const: "a" } }, new: { type: "string", not: { const: "b" } }, expected: [{ rule: "unsupported-change", severity: "breaking", pointer: S }] },
  // what is not a change
  {
    name: "descriptions, titles and a lone allOf wrapper are not changes",
    direction: S2C,
    old: obj({ a: { $ref: "#/definitions/Mode" } }, { description: "old" }),
    new: obj({ a: { allOf: [{ $ref: "#/definitions/Mode" }], description: "the mode" } }, { title: "Subject", description: "new" }),
    oldExtra: { Mode: { type: "string", enum: ["x"] } },
    newExtra: { Mode: { type: "string", enum: ["x"], description: "documented" } },
    expected: [],
  },
  // $ref following and cycles
  {
    name: "a change behind a $ref is reported where it is",
    direction: S2C,
    old: obj({ mode: { $ref: "#/definitions/Mode" } }),
    new: obj({ mode: { $ref: "#/definitions/Mode" } }),
    oldExtra: { Mode: { type: "string", enum: ["x", "y"] } },
    newExtra: { Mode: { type: "string", enum: ["x", "y", "z"] } },
    expected: [{ rule: "enum-value-added", severity: "breaking", pointer: "/definitions/Mode/enum/2" }],
  },
  {
    name: "recursive type: compared once, change found",
    direction: S2C,
    old: { $ref: "#/definitions/Tree" },
    new: { $ref: "#/definitions/Tree" },
    oldExtra: { Tree: obj({ kind: { type: "string", enum: ["leaf"] }, children: { type: "array", items: { $ref: "#/definitions/Tree" } } }) },
    newExtra: { Tree: obj({ kind: { type: "string", enum: ["leaf", "node"] }, children: { type: "array", items: { $ref: "#/definitions/Tree" } } }) },
    expected: [{ rule: "enum-value-added", severity: "breaking", pointer: "/definitions/Tree/properties/kind/enum/1" }],
  },
  {
    name: "mutually recursive types, change in the second",
    direction: C2S,
    old: { $ref: "#/definitions/A" },
    new: { $ref: "#/definitions/A" },
    oldExtra: { A: obj({ b: { $ref: "#/definitions/B" } }), B: obj({ a: { anyOf: [{ $ref: "#/definitions/A" }, { type: "null" }] }, n: str }) },
    newExtra: { A: obj({ b: { $ref: "#/definitions/B" } }), B: obj({ a: { anyOf: [{ $ref: "#/definitions/A" }, { type: "null" }] }, n: str }, { required: ["n"] }) },
    expected: [{ rule: "field-required", severity: "breaking", pointer: "/definitions/B/properties/n" }],
  },
];

/** The table's `severity` is the one for old clients with the new server (see "new clients with older servers" below). */
function summarise(findings: Finding[]) {
  return findings
    .map(({ rule, breaks, severity, pointer }) => ({ rule, severity: breaks ? (breaks.includes("oldClients") ? "breaking" : "non-breaking") : severity, pointer }))
    .sort((a, b) => (a.pointer + a.rule < b.pointer + b.rule ? -1 : 1));
}

describe("rules, one case per rule and direction (old clients with the new server)", () => {
  it.each(cases)("$name", (c) => {
    const { findings } = diffBundles(bundleWith(c.old, c.direction, c.oldExtra), bundleWith(c.new, c.direction, c.newExtra));
    expect(summarise(findings)).toEqual(summarise(c.expected.map((e) => ({ ...e }) as Finding)));
    for (const finding of findings) {
      expect(finding.direction).toBe(c.direction);
      expect(finding.method).toBe(c.direction === C2S ? "thing/set" : "thing/changed");
    }
  });
});

describe("new clients with older servers", () => {
  // [case, message direction, old schema, new schema, who breaks]
  const audienceCases: Array<[string, Direction, unknown, unknown, string[]]> = [
    // The case: our validating client (and apps on our types) would reject every older server.
    ["server→client field made required", S2C, obj({ a: str }), obj({ a: str }, { required: ["a"] }), ["newClients"]],
    ["server→client required field added", S2C, obj({ a: str }), obj({ a: str, b: str }, { required: ["b"] }), ["newClients"]],
    ["server→client enum value removed", S2C, obj({ a: { type: "string", enum: ["x", "y"] } }), obj({ a: { type: "string", enum: ["x"] } }), ["newClients"]],
    ["server→client null no longer accepted", S2C, obj({ a: { type: ["string", "null"] } }), obj({ a: str }), ["newClients"]],
    ["server→client enum value added", S2C, obj({ a: { type: "string", enum: ["x"] } }), obj({ a: { type: "string", enum: ["x", "y"] } }), ["oldClients"]],
    ["server→client optional field added to an open object", S2C, obj({ a: str }), obj({ a: str, b: { type: ["string", "null"] } }), []],
    ["client→server enum value added", C2S, obj({ a: { type: "string", enum: ["x"] } }), obj({ a: { type: "string", enum: ["x", "y"] } }), ["newClients"]],
    ["client→server field made required", C2S, obj({ a: str }), obj({ a: str }, { required: ["a"] }), ["oldClients"]],
    ["client→server pattern changed", C2S, obj({ a: { type: "string", pattern: "^a" } }), obj({ a: { type: "string", pattern: "^b" } }), ["oldClients", "newClients"]],
  ];
  it.each(audienceCases)("%s breaks %j", (_name, direction, before, after, expected) => {
    const { findings } = diffBundles(bundleWith(before, direction), bundleWith(after, direction));
    expect(findings).toHaveLength(1);
    expect(findings[0]!.breaks).toEqual(expected);
    expect(findings[0]!.severity).toBe(expected.length > 0 ? "breaking" : "non-breaking");
  });
});

describe("directions and methods", () => {
  const mode = (values: string[]) => ({ type: "string", enum: values });
  const twoWay = (values: string[]) => ({
    $schema: DRAFT_07,
    definitions: {
      Mode: mode(values),
      SetParams: obj({ mode: { $ref: "#/definitions/Mode" } }),
      SetResponse: obj({ mode: { $ref: "#/definitions/Mode" } }, { required: ["mode"] }),
    },
    "x-methods": [{ method: "mode/set", direction: C2S, kind: "request", version: "v2", params: "SetParams", result: "SetResponse", experimental: false }],
  });

  it("a type used both ways is judged both ways", () => {
    const { findings } = diffBundles(twoWay(["a"]), twoWay(["a", "b"]));
    // A new value old clients may receive, and new clients may send to older servers.
    expect(findings.map((f) => [f.rule, f.direction, f.breaks, f.pointer])).toEqual([
      ["enum-value-added", C2S, ["newClients"], "/definitions/Mode/enum/1"],
      ["enum-value-added", S2C, ["oldClients"], "/definitions/Mode/enum/1"],
    ]);
  });

  it("names every method through which a shared type is reached", () => {
    const bundle = (values: string[]) => ({
      $schema: DRAFT_07,
      definitions: { Mode: mode(values), Changed: obj({ mode: { $ref: "#/definitions/Mode" } }), Read: obj({ mode: { $ref: "#/definitions/Mode" } }) },
      "x-methods": [
        { method: "mode/read", direction: C2S, kind: "request", version: "v2", params: null, result: "Read", experimental: false },
        { method: "mode/changed", direction: S2C, kind: "notification", version: "v2", params: "Changed", result: null, experimental: false },
      ],
    });
    const [finding, ...rest] = diffBundles(bundle(["a"]), bundle(["a", "b"])).findings;
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ rule: "enum-value-added", severity: "breaking", direction: S2C, method: "mode/changed", methods: ["mode/changed", "mode/read"] });
    expect(finding!.details).toMatchObject({ value: "b", effect: "widen" });
  });

  it("a removed method breaks, an added one is information", () => {
    const bundle = (methods: string[]) => ({
      $schema: DRAFT_07,
      definitions: { P: obj({}) },
      "x-methods": methods.map((method) => ({ method, direction: C2S, kind: "request", version: "v2", params: "P", result: null, experimental: false })),
    });
    const { findings, summary } = diffBundles(bundle(["a/one", "a/two"]), bundle(["a/two", "a/three"]));
    expect(findings.map((f) => [f.rule, f.method, f.severity, f.pointer])).toEqual([
      ["method-removed", "a/one", "breaking", "/x-methods/0"],
      ["method-added", "a/three", "non-breaking", "/x-methods/1"],
    ]);
    expect(summary).toMatchObject({ breaking: 1, methodsAdded: 1, methodsRemoved: 1, methodsCompared: 1 });
  });

  it("experimental methods and experimental variants carry no promise", () => {
    const login = (variantRequired: string[], experimental: boolean, withExtra: boolean) => ({
      $schema: DRAFT_07,
      definitions: {
        Login: { type: "object", required: ["type"], oneOf: [{ $ref: "#/definitions/ApiKey" }, { $ref: "#/definitions/Tokens" }] },
        ApiKey: tagged("apiKey", { apiKey: str }),
        Tokens: { ...tagged("tokens", { token: str }), required: ["type", ...variantRequired] },
        Other: obj({ x: str }, withExtra ? { required: ["x"] } : {}),
      },
      "x-methods": [
        { method: "login/start", direction: C2S, kind: "request", version: "v2", params: "Login", result: null, experimental: false, experimentalVariants: ["tokens"] },
        { method: "other/call", direction: C2S, kind: "request", version: "v2", params: "Other", result: null, experimental },
      ],
    });
    const { findings } = diffBundles(login([], true, false), login(["token"], true, true));
    expect(findings.map((f) => [f.rule, f.method, f.severity, f.details.experimentalOnly])).toEqual([
      ["field-required", "login/start", "non-breaking", true],
      ["field-required", "other/call", "non-breaking", true],
    ]);
    // The same changes on stable ground break.
    const stable = diffBundles(login([], false, false), login([], false, true)).findings;
    expect(stable.map((f) => [f.rule, f.method, f.severity])).toEqual([["field-required", "other/call", "breaking"]]);
  });
});

describe("upstream layout (no x-methods)", () => {
  /** A Codex-shaped bundle: unions of method members, v2 types nested under definitions.v2. */
  function upstream(v2: Record<string, unknown>, root: Record<string, unknown> = {}) {
    const member = (method: string, params: string | null, request: boolean) => ({
      type: "object",
      title: `${method}Request`,
      properties: {
        ...(request ? { id: { $ref: "#/definitions/v2/RequestId" } } : {}),
        method: { type: "string", enum: [method], title: `${method}Method` },
        params: params === null ? { type: "null" } : { $ref: params },
      },
      required: request ? ["id", "method", "params"] : ["method", "params"],
    });
    return {
      $schema: DRAFT_07,
      title: "CodexAppServerProtocol",
      type: "object",
      definitions: {
        ...root,
        ClientRequest: {
          oneOf: [member("account/read", "#/definitions/v2/GetAccountParams", true), member("account/logout", null, true)],
        },
        ServerNotification: { oneOf: [member("account/updated", "#/definitions/v2/AccountUpdatedNotification", false)] },
        ServerRequest: { oneOf: [member("account/chatgptAuthTokens/refresh", "#/definitions/RefreshParams", true)] },
        v2: { RequestId: { anyOf: [{ type: "string" }, { type: "integer" }] }, ...v2 },
      },
    };
  }
  const authMode = (values: string[]) => ({ oneOf: values.map((v) => ({ type: "string", enum: [v] })) });
  const v2 = (values: string[], extra: Record<string, unknown> = {}) => ({
    AuthMode: authMode(values),
    GetAccountParams: obj({ refreshToken: { type: "boolean" } }),
    GetAccountResponse: obj({ authMode: { anyOf: [{ $ref: "#/definitions/v2/AuthMode" }, { type: "null" }] } }, { required: ["authMode"] }),
    AccountUpdatedNotification: obj({ authMode: { anyOf: [{ $ref: "#/definitions/v2/AuthMode" }, { type: "null" }] } }),
    LogoutAccountResponse: obj({}),
    ...extra,
  });
  const root = (responseRequired: string[]) => ({
    RefreshParams: obj({ reason: str }, { required: ["reason"] }),
    RefreshResponse: obj({ accessToken: str, planType: str }, { required: responseRequired }),
  });

  it("follows refs into definitions/v2 and pairs FooParams with FooResponse", () => {
    const { findings } = diffBundles(upstream(v2(["apikey"]), root(["accessToken"])), upstream(v2(["apikey", "headers"]), root(["accessToken"])));
    expect(findings.map((f) => [f.rule, f.direction, f.severity, f.method, f.methods, f.pointer])).toEqual([
      ["enum-value-added", S2C, "breaking", "account/read", ["account/read", "account/updated"], "/definitions/v2/AuthMode/oneOf/1/enum/0"],
    ]);
  });

  it("a server request's response travels client→server", () => {
    const { findings } = diffBundles(upstream(v2(["apikey"]), root(["accessToken"])), upstream(v2(["apikey"]), root(["accessToken", "planType"])));
    expect(findings.map((f) => [f.rule, f.direction, f.severity, f.method, f.pointer])).toEqual([
      ["field-required", C2S, "breaking", "account/chatgptAuthTokens/refresh", "/definitions/RefreshResponse/properties/planType"],
    ]);
  });

  it("a *Response no method names is compared as a server→client type", () => {
    const before = upstream(v2(["apikey"]), root([]));
    const after = upstream(v2(["apikey"], { LogoutAccountResponse: obj({}, { additionalProperties: false }) }), root([]));
    // Closing a server→client object breaks new clients of older servers that send more.
    expect(diffBundles(before, after).findings.map((f) => [f.rule, f.direction, f.breaks, f.method, f.details.types])).toEqual([
      ["additional-properties-tightened", S2C, ["newClients"], "(type)", ["LogoutAccountResponse"]],
    ]);
  });

  it("compares our layout with Codex's flat one", () => {
    const ours = {
      $schema: DRAFT_07,
      definitions: { AuthMode: { type: "string", enum: ["apikey", "chatgpt"] }, Updated: obj({ authMode: { anyOf: [{ $ref: "#/definitions/AuthMode" }, { type: "null" }] } }) },
      "x-methods": [{ method: "account/updated", direction: S2C, kind: "notification", version: "v2", params: "Updated", result: null, experimental: false }],
    };
    const flat = {
      $schema: DRAFT_07,
      definitions: {
        AuthMode: authMode(["apikey", "chatgpt", "headers"]),
        AccountUpdatedNotification: obj({ authMode: { anyOf: [{ $ref: "#/definitions/AuthMode" }, { type: "null" }] } }),
        ServerNotification: {
          oneOf: [{ type: "object", properties: { method: { type: "string", enum: ["account/updated"] }, params: { $ref: "#/definitions/AccountUpdatedNotification" } } }],
        },
      },
    };
    expect(diffBundles(ours, flat).findings.map((f) => [f.rule, f.method, f.pointer])).toEqual([["enum-value-added", "account/updated", "/definitions/AuthMode/oneOf/2/enum/0"]]);
  });

  it("rejects what is not a bundle, and refs that do not resolve, with a code", () => {
    expect(() => diffBundles({ hello: 1 }, upstream(v2([])))).toThrow(expect.objectContaining({ code: "COMPAT_INPUT_INVALID" }));
    const badTable = { definitions: {}, "x-methods": [{ method: "a", direction: "sideways", kind: "request", params: null, result: null, experimental: false }] };
    expect(() => diffBundles(badTable, badTable)).toThrow(expect.objectContaining({ code: "COMPAT_INPUT_INVALID", message: expect.stringContaining("/x-methods/0") }));
    const broken = upstream(v2(["apikey"], { AccountUpdatedNotification: obj({ authMode: { $ref: "#/definitions/v2/Missing" } }) }));
    expect(() => diffBundles(upstream(v2(["apikey"])), broken)).toThrow(expect.objectContaining({ code: "COMPAT_REF_UNRESOLVED" }));
  });
});
