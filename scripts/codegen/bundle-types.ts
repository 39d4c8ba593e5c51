import { isObject } from "./lint.js";

/**
 * TypeScript declarations for a third-party draft-07 bundle (Codex's own: ~780 definitions), by a
 * direct walk of the schemas. json-schema-to-typescript took ~2 s of the 3 s budget on such a
 * bundle (dereferencing and normalising every definition); this emitter takes a few ms. Our own
 * schemas/ still go through json-schema-to-typescript (types.ts), where its formatting matters.
 *
 * One declaration per definition, named after it; a `$ref` to a definition is that name, so no
 * numbered duplicate (`Foo1`) can appear. What TypeScript cannot express (formats, bounds,
 * patterns) is left to the validators.
 */
export function generateBundleTypeDeclarations(definitions: Record<string, unknown>): string {
  const names = Object.keys(definitions).sort();
  const known = new Set(names);
  const out: string[] = [];
  for (const name of names) {
    const schema = definitions[name];
    const doc = isObject(schema) ? docComment(schema, "") : "";
    out.push(`${doc}export type ${identifier(name)} = ${typeOf(schema, known, "")};\n`);
  }
  return out.join("\n");
}

function identifier(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_$]/g, "");
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned;
}

function docComment(schema: Record<string, unknown>, indent: string): string {
  const text = typeof schema.description === "string" ? schema.description.trim() : "";
  if (!text) return "";
  const lines = text.replace(/\*\//g, "*\\/").split("\n");
  return `${indent}/**\n${lines.map((line) => `${indent} *${line ? ` ${line}` : ""}`).join("\n")}\n${indent} */\n`;
}

function literal(value: unknown): string {
  return value === null || ["string", "number", "boolean"].includes(typeof value) ? JSON.stringify(value) : "unknown";
}

function union(parts: string[]): string {
  const unique = [...new Set(parts)];
  if (unique.includes("unknown")) return "unknown";
  // `A & B | C` reads as `(A & B) | C`, so members never need parentheses.
  return unique.length === 0 ? "never" : unique.join(" | ");
}

function intersection(parts: string[]): string {
  return parts.map((part) => (hasTopLevelUnion(part) ? `(${part})` : part)).join(" & ");
}

/** True when `type` has a `|` outside brackets and string literals. */
function hasTopLevelUnion(type: string): boolean {
  let depth = 0;
  for (let i = 0; i < type.length; i++) {
    const ch = type[i]!;
    if (ch === '"') {
      for (i++; i < type.length && type[i] !== '"'; i++) if (type[i] === "\\") i++;
    } else if (ch === "{" || ch === "[" || ch === "(") depth++;
    else if (ch === "}" || ch === "]" || ch === ")") depth--;
    else if (ch === "|" && depth === 0) return true;
  }
  return false;
}

const STRUCTURE_KEYS = ["properties", "additionalProperties", "items", "required"];

function typeOf(schema: unknown, known: ReadonlySet<string>, indent: string): string {
  if (schema === true || schema === undefined) return "unknown";
  if (schema === false) return "never";
  if (!isObject(schema)) return "unknown";

  if (typeof schema.$ref === "string") {
    const match = /^#\/definitions\/([^/]+)$/.exec(schema.$ref);
    return match && known.has(decodeURIComponent(match[1]!)) ? identifier(decodeURIComponent(match[1]!)) : "unknown";
  }
  if ("const" in schema) return literal(schema.const);
  if (Array.isArray(schema.enum)) return union(schema.enum.map(literal));

  const alternatives = (Array.isArray(schema.oneOf) ? schema.oneOf : Array.isArray(schema.anyOf) ? schema.anyOf : undefined) as unknown[] | undefined;
  const conjuncts = Array.isArray(schema.allOf) ? (schema.allOf as unknown[]) : [];
  const hasBase = typeof schema.type === "string" || Array.isArray(schema.type) || STRUCTURE_KEYS.some((k) => k in schema);

  const parts: string[] = [];
  if (hasBase) parts.push(baseType(schema, known, indent));
  for (const sub of conjuncts) parts.push(typeOf(sub, known, indent));
  if (alternatives) parts.push(union(alternatives.map((sub) => typeOf(sub, known, indent))));
  const meaningful = parts.filter((p) => p !== "unknown");
  if (meaningful.length === 0) return "unknown";
  return meaningful.length === 1 ? meaningful[0]! : intersection(meaningful);
}

function baseType(schema: Record<string, unknown>, known: ReadonlySet<string>, indent: string): string {
  const declared = Array.isArray(schema.type) ? (schema.type as unknown[]) : typeof schema.type === "string" ? [schema.type] : undefined;
  const types = declared ?? ("properties" in schema || "additionalProperties" in schema ? ["object"] : "items" in schema ? ["array"] : []);
  if (types.length === 0) return "unknown";
  return union(types.map((type) => single(type, schema, known, indent)));
}

function single(type: unknown, schema: Record<string, unknown>, known: ReadonlySet<string>, indent: string): string {
  switch (type) {
    case "string":
      return "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array":
      return arrayType(schema, known, indent);
    case "object":
      return objectType(schema, known, indent);
    default:
      return "unknown";
  }
}

function arrayType(schema: Record<string, unknown>, known: ReadonlySet<string>, indent: string): string {
  if (Array.isArray(schema.items)) return `[${schema.items.map((item) => typeOf(item, known, indent)).join(", ")}]`;
  const item = typeOf(schema.items, known, indent);
  return /^[\w$.]+$/.test(item) ? `${item}[]` : `Array<${item}>`;
}

function objectType(schema: Record<string, unknown>, known: ReadonlySet<string>, indent: string): string {
  const inner = `${indent}  `;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const members: string[] = [];
  const properties = isObject(schema.properties) ? schema.properties : {};
  for (const [name, sub] of Object.entries(properties)) {
    const key = /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
    const doc = isObject(sub) ? docComment(sub, inner) : "";
    members.push(`${doc}${inner}${key}${required.has(name) ? "" : "?"}: ${typeOf(sub, known, inner)};`);
  }
  const extra = schema.additionalProperties;
  if (extra !== undefined && extra !== false) {
    // A declared property must fit the index signature, so next to properties it says `unknown`.
    const value = members.length > 0 ? "unknown" : typeOf(extra, known, inner);
    members.push(`${inner}[k: string]: ${value};`);
  }
  return members.length === 0 ? (extra === false || extra === undefined ? "{}" : "{ [k: string]: unknown }") : `{\n${members.join("\n")}\n${indent}}`;
}
