import { compile, type Options } from "json-schema-to-typescript";
import { isObject } from "./lint.js";

/**
 * TypeScript declarations with json-schema-to-typescript. Types of one group (file) that use
 * types of another group import them instead of redeclaring them, so there is exactly one
 * `AuthMode` and no `AuthMode1`.
 */

const ROOT_NAME = "CodegenRoot";

const OPTIONS: Partial<Options> = {
  bannerComment: "",
  unreachableDefinitions: true,
  additionalProperties: false,
  declareExternallyReferenced: true,
  enableConstEnums: false,
  strictIndexSignatures: false,
  format: true,
  style: { printWidth: 110, singleQuote: false, trailingComma: "all" },
};

export interface TypeGroupInput {
  /** Definitions declared by this group. */
  definitions: Record<string, unknown>;
  /** For a type declared elsewhere: the module to import it from. */
  externalModule: (typeName: string) => string | undefined;
  format?: boolean;
}

export async function generateTypeDeclarations(input: TypeGroupInput): Promise<string> {
  const imports = new Map<string, Set<string>>();
  const definitions: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(input.definitions)) {
    definitions[name] = rewriteExternalRefs(withTitle(schema, name), input, imports);
  }
  const root = { title: ROOT_NAME, type: "object", additionalProperties: false, properties: {}, definitions };
  const compiled = await compile(root as never, ROOT_NAME, { ...OPTIONS, format: input.format ?? true });
  const body = stripRootDeclaration(compiled);

  const importLines = [...imports.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([module, names]) => `import type { ${[...names].sort().join(", ")} } from "${module}";`);
  return (importLines.length ? `${importLines.join("\n")}\n\n` : "") + body;
}

/**
 * The definition's name becomes its title; nested titles are dropped, so every declaration is
 * named after a definition and no `Foo1` appears (third-party bundles title their subschemas).
 */
function withTitle(schema: unknown, name: string): unknown {
  return isObject(schema) ? { ...(stripNestedTitles(schema) as Record<string, unknown>), title: name } : schema;
}

function stripNestedTitles(node: unknown, depth = 0): unknown {
  if (Array.isArray(node)) return node.map((item) => stripNestedTitles(item, depth + 1));
  if (!isObject(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "title" && depth > 0 && typeof value === "string") continue;
    // Inside `properties` the keys are member names, so a member called "title" is kept.
    out[key] = key === "enum" || key === "const" || key === "default" || key === "examples" ? value : stripNestedTitles(value, depth + 1);
  }
  return out;
}

/** Replaces `$ref`s to types declared in other groups with a named reference plus an import. */
function rewriteExternalRefs(schema: unknown, input: TypeGroupInput, imports: Map<string, Set<string>>): unknown {
  if (Array.isArray(schema)) return schema.map((item) => rewriteExternalRefs(item, input, imports));
  if (!isObject(schema)) return schema;
  if (typeof schema.$ref === "string") {
    const match = /^#\/definitions\/([^/]+)$/.exec(schema.$ref);
    const target = match?.[1];
    if (target && !(target in input.definitions)) {
      const module = input.externalModule(target);
      if (module) {
        let names = imports.get(module);
        if (!names) imports.set(module, (names = new Set()));
        names.add(target);
        const { $ref: _ignored, ...rest } = schema;
        return { ...rest, tsType: target };
      }
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    // `enum`/`const`/`default`/`examples` hold data, not schemas.
    out[key] = key === "enum" || key === "const" || key === "default" || key === "examples" ? value : rewriteExternalRefs(value, input, imports);
  }
  return out;
}

/** Drops the synthetic root interface and json-schema-to-typescript's "referenced by" notes. */
function stripRootDeclaration(code: string): string {
  return code
    .replace(new RegExp(`export interface ${ROOT_NAME} \\{\\}\\n?`), "")
    .replace(/ \*\n \* This interface was referenced by `\w+`'s JSON-Schema\n \* via the `definition` "[^"]+"\.\n/g, "")
    .replace(/\/\*\*\n \* This interface was referenced by `\w+`'s JSON-Schema\n \* via the `definition` "[^"]+"\.\n \*\/\n/g, "")
    .trimStart();
}
