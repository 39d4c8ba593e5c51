/**
 * A schema node seen as the values it accepts, split by JSON type. Comparing two such shapes bucket
 * by bucket is what lets the rules be exact about direction: each bucket answers "does the new
 * schema accept more, fewer or other values of this type?".
 *
 * Normalisations (each one a pattern Codex's schemars output or our own schemas use):
 * - `$ref` and a lone `allOf: [X]` wrapper are followed (siblings of `$ref` are ignored, as draft-07 says);
 * - `anyOf`/`oneOf` branches are flattened: `anyOf: [X, {type: null}]` is X plus null;
 * - properties beside a union (serde's flattened enums: shared fields plus `oneOf` of variants) are
 *   merged into each object branch, so each alternative is compared as the object it really is;
 * - `type: [..., "null"]`, an enum containing null, or a null branch all mean "nullable";
 * - `enum`, `const` and a `oneOf` of single-value branches (upstream's `AuthMode`) are one value set;
 * - `integer` and `number` share a bucket, with an "integer only" flag.
 */
import { CompatError } from "./errors.js";
import { isPlainObject, type SchemaLoc } from "./load.js";
import { childPointer, lastToken, refToPointer, resolvePointer } from "./pointer.js";

export type ScalarKind = "boolean" | "number" | "string" | "literal";

export interface ScalarBucket {
  /** Accepted values as canonical JSON → pointer of each; null when any value of the type is accepted. */
  values: Map<string, string> | null;
  integerOnly: boolean;
  /** Where the type was first declared (for findings about the type itself). */
  pointer: string;
  /** Nodes that declared this type without a value list: their bounds and formats are compared. */
  constraintNodes: SchemaLoc[];
}

/** An object alternative as a flat list of properties, whichever way it was written. */
export interface ObjectView {
  /** Where the alternative sits: a definition, a union branch, a property's schema. */
  pointer: string;
  title: string | undefined;
  properties: Map<string, SchemaLoc>;
  /** Properties that tell this alternative apart (a merged branch's own ones), to name it. */
  ownProperties: string[];
  required: Set<string>;
  /** Absent means open (any extra property allowed). */
  additionalProperties: SchemaLoc | undefined;
  /** The node whose object bounds (minProperties...) and unmodelled members are compared. */
  node: Record<string, unknown>;
}

export interface ObjectAlternative {
  /** The alternative as written, possibly a `$ref`. */
  loc: SchemaLoc;
  /** Name of the `$ref` target when the alternative is a plain reference: it is then compared as a unit. */
  ref: string | undefined;
  view: ObjectView;
  /** Built from a union branch and the properties beside the union: only `view` describes it. */
  merged: boolean;
}

export interface Shape {
  pointer: string;
  /** Accepts anything (`true`, `{}`, a node with only annotations). */
  any: boolean;
  /** Where null is accepted, or null when it is not. */
  nullPointer: string | null;
  scalars: Map<ScalarKind, ScalarBucket>;
  /** Object alternatives. A `$ref` to a plain object stays a `$ref` so that it is compared (and memoised) as a unit. */
  objects: ObjectAlternative[];
  arrays: SchemaLoc[];
  /** Parts using keywords the checker does not model; they are compared for equality only. */
  opaque: SchemaLoc[];
}

/** Keywords that describe but never constrain. */
const ANNOTATIONS = new Set([
  "title",
  "description",
  "default",
  "examples",
  "$schema",
  "$id",
  "$comment",
  "deprecated",
  "readOnly",
  "writeOnly",
  "discriminator",
  "enumNames",
  "definitions",
]);

/** Keywords whose meaning is not modelled: a node using one is compared for equality only. */
const UNMODELLED = ["allOf", "not", "if", "then", "else", "dependencies", "propertyNames", "contains"];
/** Same, inside an object or array: compared for equality by the object and array rules. */
export const UNMODELLED_MEMBERS = ["patternProperties", "additionalItems"];

const OBJECT_KEYWORDS = ["properties", "required", "additionalProperties", "minProperties", "maxProperties"];
/** Object keywords that, beside a union, are merged into its branches. */
const MERGED_KEYWORDS = ["properties", "required", "additionalProperties"];
const ARRAY_KEYWORDS = ["items", "minItems", "maxItems", "uniqueItems"];

export function isAnnotation(keyword: string): boolean {
  return ANNOTATIONS.has(keyword) || keyword.startsWith("x-");
}

function isRef(node: unknown): node is { $ref: string } {
  return isPlainObject(node) && typeof node.$ref === "string";
}

/** `allOf: [X]` with nothing but annotations beside it (schemars' way to attach a description to a `$ref`). */
function singleAllOf(node: unknown): unknown {
  if (!isPlainObject(node) || !Array.isArray(node.allOf) || node.allOf.length !== 1) return undefined;
  return Object.keys(node).every((k) => k === "allOf" || isAnnotation(k)) ? node.allOf[0] : undefined;
}

/** True when the node is (after unwrapping a lone `allOf`) a `$ref`. */
export function isReference(loc: SchemaLoc): boolean {
  return isRef(unwrap(loc).node);
}

/** Unwraps lone `allOf` wrappers, keeping pointers exact. */
export function unwrap(loc: SchemaLoc): SchemaLoc {
  let current = loc;
  for (let inner = singleAllOf(current.node); inner !== undefined; inner = singleAllOf(current.node)) {
    current = { node: inner, pointer: childPointer(current.pointer, "allOf", 0) };
  }
  return current;
}

/** Follows `$ref`s and lone `allOf` wrappers to the node that says something. */
export function deref(root: unknown, loc: SchemaLoc): SchemaLoc {
  let current = unwrap(loc);
  for (let hops = 0; isRef(current.node); hops++) {
    if (hops > 64) throw new CompatError("COMPAT_REF_UNRESOLVED", `$ref chain at ${loc.pointer} does not end`);
    const pointer = refToPointer(current.node.$ref);
    const node = resolvePointer(root, pointer);
    if (node === undefined) {
      throw new CompatError("COMPAT_REF_UNRESOLVED", `$ref "${current.node.$ref}" at ${current.pointer} does not resolve`);
    }
    current = unwrap({ node, pointer });
  }
  return current;
}

function hasAny(node: Record<string, unknown>, keywords: readonly string[]): boolean {
  return keywords.some((k) => k in node);
}

function isUnion(node: Record<string, unknown>): boolean {
  return Array.isArray(node.oneOf) || Array.isArray(node.anyOf);
}

/** A plain `type: "object"` (or `"array"`) node: kept behind its `$ref` so the ref is compared as a unit. */
function singleContainerType(node: unknown): "object" | "array" | undefined {
  if (!isPlainObject(node) || isUnion(node) || "enum" in node || "const" in node || "allOf" in node) return undefined;
  return node.type === "object" || node.type === "array" ? node.type : undefined;
}

export function objectView(loc: SchemaLoc): ObjectView {
  const node = isPlainObject(loc.node) ? loc.node : {};
  const properties = new Map<string, SchemaLoc>();
  if (isPlainObject(node.properties)) {
    for (const [name, schema] of Object.entries(node.properties)) {
      properties.set(name, { node: schema, pointer: childPointer(loc.pointer, "properties", name) });
    }
  }
  const required = new Set(Array.isArray(node.required) ? node.required.filter((r): r is string => typeof r === "string") : []);
  return {
    pointer: loc.pointer,
    title: typeof node.title === "string" ? node.title : undefined,
    properties,
    ownProperties: [...properties.keys()],
    required,
    additionalProperties: "additionalProperties" in node ? { node: node.additionalProperties, pointer: childPointer(loc.pointer, "additionalProperties") } : undefined,
    node,
  };
}

/** The shared part of a flattened union and one of its branches, as one object. */
function mergeViews(shared: ObjectView, branch: ObjectView): ObjectView {
  return {
    pointer: branch.pointer,
    title: branch.title ?? shared.title,
    properties: new Map([...shared.properties, ...branch.properties]),
    ownProperties: branch.ownProperties,
    required: new Set([...shared.required, ...branch.required]),
    additionalProperties: branch.additionalProperties ?? shared.additionalProperties,
    node: branch.node,
  };
}

function emptyShape(pointer: string): Shape {
  return { pointer, any: false, nullPointer: null, scalars: new Map(), objects: [], arrays: [], opaque: [] };
}

export function collectShape(root: unknown, loc: SchemaLoc): Shape {
  const shape = emptyShape(loc.pointer);
  collect(root, loc, shape, new Set());
  return shape;
}

function collect(root: unknown, loc: SchemaLoc, shape: Shape, expanding: Set<string>): void {
  const { node, pointer } = unwrap(loc);
  if (node === true) {
    shape.any = true;
    return;
  }
  if (!isPlainObject(node)) return; // `false` (or garbage) accepts nothing

  if (isRef(node)) {
    const target = deref(root, { node, pointer });
    const container = singleContainerType(target.node);
    if (container === "object") shape.objects.push({ loc: { node, pointer }, ref: lastToken(refToPointer(node.$ref)), view: objectView(target), merged: false });
    else if (container === "array") shape.arrays.push({ node, pointer });
    else if (!expanding.has(target.pointer)) collect(root, target, shape, new Set(expanding).add(target.pointer));
    return;
  }
  if (hasAny(node, UNMODELLED) || (Array.isArray(node.oneOf) && Array.isArray(node.anyOf))) {
    shape.opaque.push({ node, pointer });
    return;
  }
  const keyword = Array.isArray(node.oneOf) ? "oneOf" : Array.isArray(node.anyOf) ? "anyOf" : undefined;
  if (keyword !== undefined) {
    const branches = (node[keyword] as unknown[]).map((branch, index) => ({ node: branch, pointer: childPointer(pointer, keyword, index) }));
    if (!hasAny(node, MERGED_KEYWORDS)) {
      for (const branch of branches) collect(root, branch, shape, expanding);
      return;
    }
    // Object keywords beside the union apply to every branch: value = shared part AND one branch.
    const shared = objectView({ node, pointer });
    const inner = emptyShape(pointer);
    for (const branch of branches) collect(root, branch, inner, expanding);
    for (const alternative of inner.objects) {
      shape.objects.push({ loc: alternative.loc, ref: undefined, view: mergeViews(shared, alternative.view), merged: true });
    }
    if (inner.any) shape.objects.push({ loc: { node, pointer }, ref: undefined, view: shared, merged: true });
    if (node.type === undefined) {
      // Without `type` beside the union, non-object branches are accepted as they are.
      if (inner.nullPointer !== null) shape.nullPointer ??= inner.nullPointer;
      for (const [kind, found] of inner.scalars) mergeBucket(shape, kind, found);
      shape.arrays.push(...inner.arrays);
      shape.opaque.push(...inner.opaque);
    }
    return;
  }
  if ("const" in node) {
    addValue(shape, node.const, childPointer(pointer, "const"));
    return;
  }
  if (Array.isArray(node.enum)) {
    node.enum.forEach((value, index) => addValue(shape, value, childPointer(pointer, "enum", index)));
    return;
  }
  const types = typeof node.type === "string" ? [node.type] : Array.isArray(node.type) ? node.type : undefined;
  if (types === undefined) {
    if (hasAny(node, OBJECT_KEYWORDS)) shape.objects.push({ loc: { node, pointer }, ref: undefined, view: objectView({ node, pointer }), merged: false });
    else if (hasAny(node, ARRAY_KEYWORDS)) shape.arrays.push({ node, pointer });
    else shape.any = true;
    return;
  }
  const typePointer = childPointer(pointer, "type");
  for (const type of types) {
    // A node of several types contributes one alternative per type; the object (array) alternative
    // is the node restricted to that type, so comparing it as a unit does not see the node's null.
    const only = types.length > 1 ? { ...node, type } : node;
    if (type === "null") shape.nullPointer ??= typePointer;
    else if (type === "object") shape.objects.push({ loc: { node: only, pointer }, ref: undefined, view: objectView({ node: only, pointer }), merged: false });
    else if (type === "array") shape.arrays.push({ node: only, pointer });
    else if (type === "string" || type === "boolean") addFreeScalar(shape, type, typePointer, { node, pointer }, false);
    else if (type === "number" || type === "integer") addFreeScalar(shape, "number", typePointer, { node, pointer }, type === "integer");
  }
}

function bucket(shape: Shape, kind: ScalarKind, pointer: string, integerOnly: boolean): ScalarBucket {
  let found = shape.scalars.get(kind);
  if (found === undefined) {
    found = { values: new Map(), integerOnly, pointer, constraintNodes: [] };
    shape.scalars.set(kind, found);
  }
  return found;
}

function mergeBucket(shape: Shape, kind: ScalarKind, from: ScalarBucket): void {
  const into = shape.scalars.get(kind);
  if (into === undefined) {
    shape.scalars.set(kind, from);
    return;
  }
  into.integerOnly &&= from.integerOnly;
  into.constraintNodes.push(...from.constraintNodes);
  if (into.values === null || from.values === null) into.values = null;
  else for (const [value, pointer] of from.values) if (!into.values.has(value)) into.values.set(value, pointer);
}

function addFreeScalar(shape: Shape, kind: ScalarKind, pointer: string, loc: SchemaLoc, integerOnly: boolean): void {
  const found = bucket(shape, kind, pointer, integerOnly);
  found.integerOnly &&= integerOnly;
  found.values = null;
  found.constraintNodes.push(loc);
}

function addValue(shape: Shape, value: unknown, pointer: string): void {
  if (value === null) {
    shape.nullPointer ??= pointer;
    return;
  }
  const kind: ScalarKind =
    typeof value === "string" ? "string" : typeof value === "number" ? "number" : typeof value === "boolean" ? "boolean" : "literal";
  const found = bucket(shape, kind, pointer, typeof value === "number" && Number.isInteger(value));
  if (found.values === null) return; // already any value of this type
  if (typeof value === "number" && !Number.isInteger(value)) found.integerOnly = false;
  const key = stableJson(value);
  if (!found.values.has(key)) found.values.set(key, pointer);
}

/** Keys of these keywords are names (of properties, definitions), not keywords. */
const NAME_MAPS = new Set(["properties", "patternProperties", "definitions", "dependencies"]);

/** JSON with sorted keys and annotations dropped, to compare parts the checker does not model. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value, false));
}

function canonical(value: unknown, isNameMap: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => canonical(v, false));
  if (!isPlainObject(value)) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    if (!isNameMap && isAnnotation(key)) continue;
    sorted[key] = canonical(value[key], !isNameMap && NAME_MAPS.has(key));
  }
  return sorted;
}

/** JSON with sorted keys: the identity of an enum or const value. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    isPlainObject(inner) ? Object.fromEntries(Object.keys(inner).sort().map((k) => [k, inner[k]])) : inner,
  );
}
