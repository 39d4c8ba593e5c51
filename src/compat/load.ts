/**
 * Reading a bundle: where its definitions live and which methods it declares, in which direction.
 *
 * Two layouts are understood, both draft-07 with every type under `definitions`:
 * - ours (`generated/protocol/protocol.schemas.json`): a root `x-methods` table names each method's
 *   direction, kind, params and result types. It is used as is.
 * - Codex's (`codex_app_server_protocol[.v2].schemas.json`): no method table. Methods come from the
 *   `ClientRequest`, `ClientNotification`, `ServerRequest` and `ServerNotification` unions
 *   (`properties.method.enum[0]` and `properties.params`). Results are not in those bundles, so they
 *   are paired by name: `FooParams` → `FooResponse` when that definition exists (see `pairResults`).
 *   v2 types may sit under `definitions.v2` (the nested bundle); refs are followed either way.
 */
import { CompatError } from "./errors.js";
import { childPointer, lastToken, refToPointer, resolvePointer } from "./pointer.js";
import type { Direction } from "./rules.js";

export type MethodKind = "request" | "notification";

/** A schema node and where it sits in its bundle. Synthetic nodes (an absent params) point at their method. */
export interface SchemaLoc {
  node: unknown;
  pointer: string;
}

export interface BundleMethod {
  /** Identity across bundles: a method that moves to another union counts as removed and added. */
  key: string;
  method: string;
  kind: MethodKind;
  /** The way the request or notification travels; its result travels the other way. */
  direction: Direction;
  /** Where the method is declared: its union member, or its `x-methods` entry. */
  pointer: string;
  params: SchemaLoc;
  /** Name of the definition the params refer to, used to pair results by name. */
  paramsName: string | null;
  /** Result type named by `x-methods`; null when the bundle has no table or the method has no result. */
  declaredResult: string | null;
  experimental: boolean;
  experimentalVariants: readonly string[];
}

export interface LoadedBundle {
  root: Record<string, unknown>;
  /** Every definition by name → JSON pointer. Root definitions win over namespaced (`v2`) ones. */
  names: Map<string, string>;
  methods: Map<string, BundleMethod>;
  /** True when the methods came from an `x-methods` table (results are then exact, not paired by name). */
  hasMethodTable: boolean;
}

const UNIONS: ReadonlyArray<readonly [string, Direction, MethodKind]> = [
  ["ClientRequest", "clientToServer", "request"],
  ["ClientNotification", "clientToServer", "notification"],
  ["ServerRequest", "serverToClient", "request"],
  ["ServerNotification", "serverToClient", "notification"],
];

/** Namespaces of the nested upstream bundle (`definitions.v2.X`). */
const NAMESPACE = /^v\d+$/;

export function methodKey(direction: Direction, kind: MethodKind, method: string): string {
  return `${direction} ${kind} ${method}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function loadBundle(json: unknown, label = "bundle"): LoadedBundle {
  if (!isPlainObject(json) || !isPlainObject(json.definitions)) {
    throw new CompatError("COMPAT_INPUT_INVALID", `${label}: not a schema bundle (expected an object with "definitions")`);
  }
  const names = definitionNames(json.definitions);
  const unionMembers = readUnions(json, label);
  const table = json["x-methods"];
  const methods = table === undefined ? unionMembers : readMethodTable(json, table, names, unionMembers, label);
  return { root: json, names, methods, hasMethodTable: table !== undefined };
}

function definitionNames(definitions: Record<string, unknown>): Map<string, string> {
  const names = new Map<string, string>();
  const namespaced: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(definitions)) {
    if (NAMESPACE.test(name) && isPlainObject(value) && !("type" in value) && !("$ref" in value)) {
      for (const inner of Object.keys(value)) namespaced.push([inner, childPointer("/definitions", name, inner)]);
    } else {
      names.set(name, childPointer("/definitions", name));
    }
  }
  for (const [name, pointer] of namespaced) if (!names.has(name)) names.set(name, pointer);
  return names;
}

function readUnions(root: Record<string, unknown>, label: string): Map<string, BundleMethod> {
  const methods = new Map<string, BundleMethod>();
  for (const [unionName, direction, kind] of UNIONS) {
    const unionPointer = childPointer("/definitions", unionName);
    const union = resolvePointer(root, unionPointer);
    if (!isPlainObject(union)) continue;
    const members = Array.isArray(union.oneOf) ? union.oneOf : Array.isArray(union.anyOf) ? union.anyOf : [];
    const keyword = Array.isArray(union.oneOf) ? "oneOf" : "anyOf";
    members.forEach((member, index) => {
      const pointer = childPointer(unionPointer, keyword, index);
      if (!isPlainObject(member) || !isPlainObject(member.properties)) return;
      const method = literalString(member.properties.method);
      if (method === undefined) {
        throw new CompatError("COMPAT_INPUT_INVALID", `${label}: ${pointer} has no single "method" value`);
      }
      const params: SchemaLoc =
        "params" in member.properties
          ? { node: member.properties.params, pointer: childPointer(pointer, "properties", "params") }
          : { node: { type: "null" }, pointer };
      const key = methodKey(direction, kind, method);
      methods.set(key, {
        key,
        method,
        kind,
        direction,
        pointer,
        params,
        paramsName: firstRefName(params.node),
        declaredResult: null,
        experimental: false,
        experimentalVariants: [],
      });
    });
  }
  return methods;
}

function readMethodTable(
  root: Record<string, unknown>,
  table: unknown,
  names: Map<string, string>,
  unionMembers: Map<string, BundleMethod>,
  label: string,
): Map<string, BundleMethod> {
  if (!Array.isArray(table)) throw new CompatError("COMPAT_INPUT_INVALID", `${label}: "x-methods" must be an array`);
  const methods = new Map<string, BundleMethod>();
  table.forEach((entry, index) => {
    const pointer = childPointer("/x-methods", index);
    const bad = (what: string): never => {
      throw new CompatError("COMPAT_INPUT_INVALID", `${label}: ${pointer} ${what}`);
    };
    if (!isPlainObject(entry)) return bad("is not an object");
    const { method, direction, kind, params, optionalParams, result, experimental, experimentalVariants } = entry;
    if (typeof method !== "string" || method === "") return bad('needs a "method" string');
    if (direction !== "clientToServer" && direction !== "serverToClient") return bad('"direction" must be clientToServer or serverToClient');
    if (kind !== "request" && kind !== "notification") return bad('"kind" must be request or notification');
    if (params !== null && typeof params !== "string") return bad('"params" must be a type name or null');
    if (result !== null && result !== undefined && typeof result !== "string") return bad('"result" must be a type name or null');
    if (experimentalVariants !== undefined && !(Array.isArray(experimentalVariants) && experimentalVariants.every((v) => typeof v === "string"))) {
      return bad('"experimentalVariants" must be an array of strings');
    }
    const key = methodKey(direction, kind, method);
    const known = (name: string, role: string): string => {
      if (!names.has(name)) bad(`names ${role} type "${name}", which is not in "definitions"`);
      return name;
    };
    const paramsName = typeof params === "string" ? known(params, "params") : null;
    const paramsPointer = paramsName === null ? undefined : names.get(paramsName)!;
    methods.set(key, {
      key,
      method,
      kind,
      direction,
      pointer,
      // Absent or optional params are best described by the wire schema of the union member (it
      // carries the null an optional params also accepts), when there is one.
      params:
        paramsPointer !== undefined && optionalParams !== true
          ? { node: resolvePointer(root, paramsPointer), pointer: paramsPointer }
          : (unionMembers.get(key)?.params ??
            (paramsPointer !== undefined ? { node: resolvePointer(root, paramsPointer), pointer: paramsPointer } : { node: { type: "null" }, pointer })),
      paramsName,
      declaredResult: typeof result === "string" ? known(result, "result") : null,
      experimental: experimental === true,
      experimentalVariants: (experimentalVariants as string[] | undefined) ?? [],
    });
  });
  return methods;
}

/** `{"enum":["account/read"]}` or `{"const":"account/read"}` → "account/read". */
function literalString(schema: unknown): string | undefined {
  if (!isPlainObject(schema)) return undefined;
  if (typeof schema.const === "string") return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length === 1 && typeof schema.enum[0] === "string") return schema.enum[0];
  return undefined;
}

/** The type a params schema refers to: `{$ref}` or `anyOf: [{$ref}, {type: null}]` → its definition name. */
function firstRefName(schema: unknown): string | null {
  if (!isPlainObject(schema)) return null;
  if (typeof schema.$ref === "string") return lastToken(refToPointer(schema.$ref));
  for (const keyword of ["allOf", "anyOf", "oneOf"] as const) {
    const branches = schema[keyword];
    if (!Array.isArray(branches)) continue;
    for (const branch of branches) {
      const name = firstRefName(branch);
      if (name !== null) return name;
    }
  }
  return null;
}

/** A result to compare: the type, and the name it was found under. */
export interface ResultLoc extends SchemaLoc {
  name: string | null;
}

export interface PairedResults {
  /** method key → result of that method, per side (absent for notifications). */
  old: Map<string, ResultLoc>;
  new: Map<string, ResultLoc>;
  /** `*Response` definitions tied to no method, per side (upstream layout only), by name → pointer. */
  orphansOld: Map<string, string>;
  orphansNew: Map<string, string>;
}

/** Envelope types whose names end in Response but are not any method's result. */
const NOT_A_RESULT = /^(JSONRPC|Client|Server)/;

/**
 * Ties each request to its result type. An `x-methods` table is exact. Otherwise the result is
 * found by name: the first of (the other side's declared result, `FooResponse` for this side's
 * params `FooParams`, the same for the other side's params) that exists in this bundle. Looking at
 * both sides keeps a pair together when only one side can name it (a method whose params went from
 * none to `FooParams`). A request without a result found this way is given `{type: "null"}`.
 * Any `*Response` definition still unplaced is an "orphan": compared by name as a server→client
 * result, reported under "(type)".
 */
export function pairResults(oldBundle: LoadedBundle, newBundle: LoadedBundle): PairedResults {
  const resultsFor = (side: LoadedBundle, other: LoadedBundle): Map<string, ResultLoc> => {
    const results = new Map<string, ResultLoc>();
    for (const method of side.methods.values()) {
      if (method.kind !== "request") continue;
      const twin = other.methods.get(method.key);
      const candidates = side.hasMethodTable
        ? [method.declaredResult]
        : [twin?.declaredResult ?? null, responseName(method.paramsName), responseName(twin?.paramsName ?? null)];
      const name = candidates.find((c): c is string => c !== null && side.names.has(c)) ?? null;
      results.set(
        method.key,
        name === null
          ? { name: null, node: { type: "null" }, pointer: method.pointer }
          : { name, node: resolvePointer(side.root, side.names.get(name)!), pointer: side.names.get(name)! },
      );
    }
    return results;
  };
  const orphansOf = (side: LoadedBundle, results: Map<string, ResultLoc>): Map<string, string> => {
    const orphans = new Map<string, string>();
    if (side.hasMethodTable) return orphans;
    const used = new Set([...results.values()].map((r) => r.name));
    for (const [name, pointer] of side.names) {
      if (name.endsWith("Response") && !NOT_A_RESULT.test(name) && !used.has(name)) orphans.set(name, pointer);
    }
    return orphans;
  };
  const oldResults = resultsFor(oldBundle, newBundle);
  const newResults = resultsFor(newBundle, oldBundle);
  return {
    old: oldResults,
    new: newResults,
    orphansOld: orphansOf(oldBundle, oldResults),
    orphansNew: orphansOf(newBundle, newResults),
  };
}

function responseName(paramsName: string | null): string | null {
  return paramsName !== null && paramsName.endsWith("Params") ? `${paramsName.slice(0, -"Params".length)}Response` : null;
}
