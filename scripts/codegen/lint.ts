import path from "node:path";
import { CodegenError, joinPointer } from "./errors.js";
import { displayPath, readDocument } from "./read.js";

/**
 * Checks that run before any tool sees a schema, because they can name the exact file and JSON
 * pointer (Ajv's strict mode reports unknown keywords without a location).
 */

export const DRAFT_07_KEYWORDS: ReadonlySet<string> = new Set([
  "$schema", "$id", "$ref", "$comment", "title", "description", "default", "examples", "readOnly", "writeOnly",
  "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
  "maxLength", "minLength", "pattern", "format", "contentMediaType", "contentEncoding",
  "items", "additionalItems", "maxItems", "minItems", "uniqueItems", "contains",
  "maxProperties", "minProperties", "required", "properties", "patternProperties", "additionalProperties",
  "dependencies", "propertyNames", "if", "then", "else", "allOf", "anyOf", "oneOf", "not", "definitions",
  // Ajv's tagged-union keyword: precise errors for `type`-tagged unions.
  "discriminator",
]);

const DRAFT_2020_EXTRA = [
  "$defs", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "prefixItems", "unevaluatedItems",
  "unevaluatedProperties", "dependentSchemas", "dependentRequired", "minContains", "maxContains", "deprecated",
];
/** OpenAPI 3.1 schema objects: JSON Schema 2020-12 plus a few OpenAPI annotations. */
const OPENAPI_KEYWORDS = new Set([...DRAFT_07_KEYWORDS, ...DRAFT_2020_EXTRA, "example", "externalDocs", "xml"]);

export type Dialect = "draft-07" | "openapi-3.1";

/** `pointer()` builds the JSON pointer of the node: only an error needs it, and most nodes have none. */
type Visit = (schema: Record<string, unknown>, pointer: () => string) => void;

/** Where a node is: its parent's place and its own key, or the pointer the walk started at. */
type Place = { parent: Place; token: string | number } | { base: string };

function pointerOf(place: Place): string {
  const tokens: Array<string | number> = [];
  let at = place;
  while ("parent" in at) {
    tokens.push(at.token);
    at = at.parent;
  }
  return joinPointer(at.base, ...tokens.reverse());
}

/** Calls `visit` on every subschema (not on data such as `enum` values or `properties` names). */
export function walkSchema(schema: unknown, pointer: string, visit: Visit): void {
  walk(schema, { base: pointer }, visit);
}

function walk(schema: unknown, place: Place, visit: Visit): void {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return;
  const node = schema as Record<string, unknown>;
  visit(node, () => pointerOf(place));
  const child = (sub: unknown, ...tokens: Array<string | number>): void => {
    let at = place;
    for (const token of tokens) at = { parent: at, token };
    walk(sub, at, visit);
  };
  for (const key of ["properties", "patternProperties", "definitions", "$defs", "dependentSchemas"]) {
    const map = node[key];
    if (isObject(map)) for (const name of Object.keys(map)) child(map[name], key, name);
  }
  for (const key of ["allOf", "anyOf", "oneOf", "prefixItems"]) {
    const list = node[key];
    if (Array.isArray(list)) for (let i = 0; i < list.length; i++) child(list[i], key, i);
  }
  for (const key of ["additionalProperties", "additionalItems", "contains", "propertyNames", "if", "then", "else", "not", "unevaluatedItems", "unevaluatedProperties"]) {
    if (key in node) child(node[key], key);
  }
  if (Array.isArray(node.items)) for (let i = 0; i < node.items.length; i++) child(node.items[i], "items", i);
  else if ("items" in node) child(node.items, "items");
  if (isObject(node.dependencies)) {
    for (const [name, sub] of Object.entries(node.dependencies)) {
      if (!Array.isArray(sub)) child(sub, "dependencies", name);
    }
  }
}

export function checkKeywords(schema: unknown, file: string, pointer: string, dialect: Dialect): void {
  const known = dialect === "draft-07" ? DRAFT_07_KEYWORDS : OPENAPI_KEYWORDS;
  walkSchema(schema, pointer, (node, at) => {
    for (const key of Object.keys(node)) {
      if (known.has(key) || key.startsWith("x-")) continue;
      throw new CodegenError("UNKNOWN_KEYWORD", displayPath(file), joinPointer(at(), key), `unknown keyword "${key}" (strict mode)`);
    }
  });
}

/**
 * A `$ref` stands alone. draft-07 ignores its siblings, and json-schema-to-typescript does not: a
 * `description` beside a `$ref` makes it declare a numbered copy of the target (`RateLimitSnapshot1`)
 * and move that description onto the shared type. A description for the member goes beside a
 * one-element `allOf` instead (as schemars writes it): `{"allOf": [{"$ref": ...}], "description": ...}`.
 */
export function checkRefSiblings(schema: unknown, file: string, pointer: string): void {
  walkSchema(schema, pointer, (node, at) => {
    if (typeof node.$ref !== "string") return;
    const sibling = Object.keys(node).find((key) => key !== "$ref");
    if (sibling === undefined) return;
    throw new CodegenError(
      "REF_WITH_SIBLINGS",
      displayPath(file),
      joinPointer(at(), sibling),
      `"${sibling}" beside "$ref" (draft-07 ignores it; json-schema-to-typescript declares a numbered copy of the type for it): ` +
        `write {"allOf": [{"$ref": "${node.$ref}"}], "${sibling}": ...}`,
    );
  });
}

/** Every `$ref` in `schema` must point at an existing file and an existing location in it. */
export async function checkRefs(schema: unknown, file: string, pointer: string): Promise<void> {
  const refs: Array<{ ref: string; where: () => string }> = [];
  walkSchema(schema, pointer, (node, where) => {
    if (typeof node.$ref === "string") refs.push({ ref: node.$ref, where });
  });
  for (const { ref, where } of refs) {
    const at = joinPointer(where(), "$ref");
    const [target = "", fragment = ""] = ref.split("#", 2);
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
      throw new CodegenError("BROKEN_REF", displayPath(file), at, `$ref "${ref}" points outside the schema folder; use a relative path`);
    }
    const targetFile = target ? path.resolve(path.dirname(file), target) : file;
    let document: unknown;
    try {
      document = await cachedRead(targetFile);
    } catch (error) {
      if (error instanceof CodegenError && error.code === "READ_FAILED") {
        throw new CodegenError("BROKEN_REF", displayPath(file), at, `$ref "${ref}": file ${displayPath(targetFile)} does not exist`);
      }
      throw error;
    }
    if (resolvePointer(document, fragment) === undefined) {
      throw new CodegenError("BROKEN_REF", displayPath(file), at, `$ref "${ref}": nothing at "#${fragment}" in ${displayPath(targetFile)}`);
    }
  }
}

const readCache = new Map<string, Promise<unknown>>();
function cachedRead(file: string): Promise<unknown> {
  let pending = readCache.get(file);
  if (!pending) {
    pending = readDocument(file);
    readCache.set(file, pending);
  }
  return pending;
}

export function clearReadCache(): void {
  readCache.clear();
}

export function resolvePointer(document: unknown, pointer: string): unknown {
  if (pointer === "" || pointer === "/") return document;
  let node: unknown = document;
  for (const raw of pointer.replace(/^\//, "").split("/")) {
    const token = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[token];
    if (node === undefined) return undefined;
  }
  return node;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
