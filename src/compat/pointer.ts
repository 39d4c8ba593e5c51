import { CompatError } from "./errors.js";

/** Escapes one reference token of a JSON pointer (RFC 6901). */
export function escapeToken(token: string | number): string {
  return String(token).replace(/~/g, "~0").replace(/\//g, "~1");
}

export function childPointer(base: string, ...tokens: Array<string | number>): string {
  return base + tokens.map((t) => `/${escapeToken(t)}`).join("");
}

export function pointerTokens(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new CompatError("COMPAT_REF_UNRESOLVED", `not a JSON pointer: "${pointer}"`);
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** The value at `pointer` inside `root`, or undefined when the path does not exist. */
export function resolvePointer(root: unknown, pointer: string): unknown {
  let node: unknown = root;
  for (const token of pointerTokens(pointer)) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (node !== null && typeof node === "object") {
      node = Object.prototype.hasOwnProperty.call(node, token) ? (node as Record<string, unknown>)[token] : undefined;
    } else return undefined;
  }
  return node;
}

/** `#/definitions/v2/X` → `/definitions/v2/X`. Only same-document refs are supported: bundles are self-contained. */
export function refToPointer(ref: string): string {
  if (!ref.startsWith("#")) {
    throw new CompatError("COMPAT_REF_UNRESOLVED", `external $ref "${ref}" is not supported: pass a bundled schema`);
  }
  return decodeURIComponent(ref.slice(1));
}

/** The last token of a pointer: the type name for `/definitions/v2/AuthMode`. */
export function lastToken(pointer: string): string {
  const tokens = pointerTokens(pointer);
  return tokens[tokens.length - 1] ?? "";
}

/**
 * A short, readable name for a place in a bundle: `/definitions/v2/Foo/properties/bar/items` →
 * `Foo.bar[]`. Union branches, enum positions and wrappers are left out; the pointer stays exact.
 */
export function locationName(pointer: string): string {
  const tokens = pointerTokens(pointer);
  let index = tokens.indexOf("definitions");
  if (index === -1) return pointer === "" ? "(root)" : pointer;
  index++;
  if (/^v\d+$/.test(tokens[index] ?? "") && tokens.length > index + 1) index++;
  let name = tokens[index] ?? "(definitions)";
  for (let i = index + 1; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === "properties" && i + 1 < tokens.length) name += `.${tokens[++i]!}`;
    else if (token === "items") name += "[]";
    else if (token === "additionalProperties" && i + 1 < tokens.length) name += "{}";
    else if (token === "oneOf" || token === "anyOf" || token === "allOf" || token === "enum") i++;
  }
  return name;
}
