import { createRequire } from "node:module";
import path from "node:path";
import { CodegenError, joinPointer } from "./errors.js";
import { checkKeywords, isObject, walkSchema } from "./lint.js";
import { displayPath, readDocument } from "./read.js";
import { generateValidatorDeclarations, validatorName } from "./validator-names.js";
import { generateValidatorModule } from "./validators.js";

/**
 * One OpenAPI 3.1 spec → three modules: openapi-typescript types, standalone validators for
 * every component schema, and a typed openapi-fetch client factory with a table of response
 * validators per operation and status.
 */

export interface OpenApiModules {
  /** Base name of the spec file, e.g. `authapi` for `authapi.openapi.yaml`. */
  name: string;
  types: string;
  validators: string;
  validatorDeclarations: string;
  client: string;
}

const require = createRequire(import.meta.url);

const HTTP_METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;

export async function generateOpenApiModules(file: string): Promise<OpenApiModules> {
  const name = path.basename(file).replace(/\.openapi\.ya?ml$|\.openapi\.json$/i, "");
  const spec = await readDocument(file);
  if (!isObject(spec) || typeof spec.openapi !== "string" || !spec.openapi.startsWith("3.1")) {
    throw new CodegenError("INVALID_SCHEMA", displayPath(file), "/openapi", "expected an OpenAPI 3.1 document");
  }
  const components = isObject(spec.components) && isObject(spec.components.schemas) ? spec.components.schemas : {};
  for (const [schemaName, schema] of Object.entries(components)) {
    checkKeywords(schema, file, joinPointer("/components/schemas", schemaName), "openapi-3.1");
  }
  checkInternalRefs(spec, file);

  const clientName = typeof (spec.info as Record<string, unknown> | undefined)?.["x-client-name"] === "string"
    ? String((spec.info as Record<string, unknown>)["x-client-name"])
    : pascalCase(name);

  // openapi-typescript pulls in the TypeScript compiler and Redocly: load it only here, and as
  // CommonJS. Its ES build imports typescript.js (9 MB) and Redocly across the ESM/CommonJS
  // boundary, where Node 20 parses each once more to detect its format and list its exports:
  // ~2x the load time (~1.2 s against ~0.6 s on this machine). The two builds are the same code.
  const { default: openapiTS, astToString } = require("openapi-typescript") as typeof import("openapi-typescript");
  const ast = await openapiTS(structuredClone(spec) as never, { rootTypes: true, rootTypesNoSchemaPrefix: true, silent: true });
  const types = astToString(ast);

  // Ajv compiles the component schemas from a synthetic 2020-12 document whose $defs are the
  // components (OpenAPI's own top-level keys are not JSON Schema keywords).
  const document = { $defs: rewriteComponentRefs(structuredClone(components)) as Record<string, unknown> };
  const schemaNames = Object.keys(components).sort();
  const validators = generateValidatorModule({
    id: `urn:codex-auth:${name}`,
    document,
    dialect: "2020-12",
    exports: schemaNames.map((schemaName) => ({ name: schemaName, pointer: joinPointer("/$defs", schemaName) })),
    sourceOf: (schemaName) => ({ file, pointer: joinPointer("/components/schemas", schemaName) }),
  });
  const validatorDeclarations = generateValidatorDeclarations(schemaNames, () => `./${name}.js`, "../validator.js");

  return { name, types, validators, validatorDeclarations, client: clientModule(name, clientName, spec) };
}

function clientModule(name: string, clientName: string, spec: Record<string, unknown>): string {
  const table: string[] = [];
  const used = new Set<string>();
  const paths = isObject(spec.paths) ? spec.paths : {};
  for (const route of Object.keys(paths).sort()) {
    const item = paths[route];
    if (!isObject(item)) continue;
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!isObject(operation) || !isObject(operation.responses)) continue;
      const statuses: string[] = [];
      for (const status of Object.keys(operation.responses).sort()) {
        const response = operation.responses[status];
        const schemaRef = isObject(response) && isObject(response.content) && isObject(response.content["application/json"])
          ? (response.content["application/json"] as Record<string, unknown>).schema
          : undefined;
        const target = isObject(schemaRef) && typeof schemaRef.$ref === "string" ? /^#\/components\/schemas\/(.+)$/.exec(schemaRef.$ref)?.[1] : undefined;
        if (!target) continue;
        used.add(target);
        statuses.push(`    "${status}": ${validatorName(target)},`);
      }
      if (statuses.length) table.push(`  "${method.toUpperCase()} ${route}": {\n${statuses.join("\n")}\n  },`);
    }
  }
  const validatorImports = [...used].sort().map(validatorName);
  return [
    `import createClient, { type Client, type ClientOptions } from "openapi-fetch";`,
    `import type { paths } from "./${name}.js";`,
    validatorImports.length ? `import { ${validatorImports.join(", ")} } from "./${name}.validators.js";` : "",
    `import type { Validator } from "../validator.js";`,
    "",
    `export type ${clientName}Paths = paths;`,
    `export type ${clientName}Client = Client<paths>;`,
    "",
    `/** A typed openapi-fetch client for ${String((spec.info as Record<string, unknown>)?.title ?? name)}. */`,
    `export function create${clientName}Client(options: ClientOptions = {}): ${clientName}Client {`,
    `  return createClient<paths>(options);`,
    `}`,
    "",
    `/** Response body validators by "METHOD /path" and status, for JSON responses the spec declares. */`,
    `export const ${lowerFirst(clientName)}ResponseValidators: Record<string, Record<string, Validator<unknown>>> = {`,
    ...table,
    `};`,
    "",
  ]
    .filter((line, index, lines) => !(line === "" && lines[index - 1] === ""))
    .join("\n");
}

function checkInternalRefs(spec: Record<string, unknown>, file: string): void {
  const components = (spec.components as Record<string, unknown> | undefined)?.schemas as Record<string, unknown> | undefined;
  const visit = (node: unknown, pointer: string): void => {
    if (Array.isArray(node)) return node.forEach((item, i) => visit(item, joinPointer(pointer, i)));
    if (!isObject(node)) return;
    if (typeof node.$ref === "string") {
      const target = /^#\/components\/schemas\/(.+)$/.exec(node.$ref)?.[1];
      if (!target || !components || !(target in components)) {
        throw new CodegenError("BROKEN_REF", displayPath(file), joinPointer(pointer, "$ref"), `$ref "${node.$ref}" does not resolve`);
      }
    }
    for (const [key, value] of Object.entries(node)) visit(value, joinPointer(pointer, key));
  };
  visit(spec, "");
}

function rewriteComponentRefs(node: unknown): unknown {
  walkSchema({ $defs: node }, "", (schema) => {
    if (typeof schema.$ref === "string") schema.$ref = schema.$ref.replace(/^#\/components\/schemas\//, "#/$defs/");
  });
  return node;
}

function pascalCase(name: string): string {
  return name.replace(/(^|[-_.])(\w)/g, (_m, _sep, ch: string) => ch.toUpperCase());
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
