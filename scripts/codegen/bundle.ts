import $RefParser from "@apidevtools/json-schema-ref-parser";
import { Ajv } from "ajv";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { CodegenError, joinPointer } from "./errors.js";
import { checkKeywords, checkRefSiblings, checkRefs, clearReadCache, isObject } from "./lint.js";
import { displayPath, readDocument } from "./read.js";

/** The folders of the app-server protocol, in the order their types are generated. */
export const PROTOCOL_GROUPS = ["common", "v1", "v2"] as const;
export type ProtocolGroup = (typeof PROTOCOL_GROUPS)[number];

export interface MethodEntry {
  method: string;
  direction: "clientToServer" | "serverToClient";
  kind: "request" | "notification";
  version: "v1" | "v2";
  params: string | null;
  /** The params object may be absent or null. */
  optionalParams?: boolean;
  result: string | null;
  experimental: boolean;
  experimentalVariants?: string[];
}

export interface DefinitionSource {
  group: ProtocolGroup;
  /** Absolute path of the file that defines the type. */
  file: string;
}

export interface ProtocolSchemas {
  /** Upstream-shaped bundle: every type under `definitions`, plus the four message unions and `x-methods`. */
  bundle: Record<string, unknown> & { definitions: Record<string, unknown> };
  sources: Map<string, DefinitionSource>;
  methods: MethodEntry[];
}

/** Accepts the repository's `schemas/` folder or its `app-server/` subfolder. */
export function protocolRoot(schemasRoot: string): string {
  const nested = path.join(schemasRoot, "app-server");
  return existsSync(path.join(nested, "methods.json")) ? nested : schemasRoot;
}

export interface LoadOptions {
  /**
   * Apply the lint rules that exist for code generation (a `$ref` with siblings). On by default;
   * the compatibility gate turns it off for a baseline, which was written before a newer rule.
   */
  codegenLint?: boolean;
}

export async function bundleProtocolSchemas(schemasRoot: string, options: LoadOptions = {}): Promise<ProtocolSchemas["bundle"]> {
  return (await loadProtocolSchemas(schemasRoot, options)).bundle;
}

export async function loadProtocolSchemas(schemasRoot: string, options: LoadOptions = {}): Promise<ProtocolSchemas> {
  // Each load reads the files afresh: in one process (tests, the gate) they may have changed since.
  clearReadCache();
  const root = protocolRoot(schemasRoot);
  const sources = new Map<string, DefinitionSource>();
  const rootRefs: Record<string, { $ref: string }> = {};

  for (const group of PROTOCOL_GROUPS) {
    const folder = path.join(root, group);
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder).filter((f) => f.endsWith(".json")).sort()) {
      const file = path.join(folder, name);
      const document = await readDocument(file);
      if (!isObject(document) || !isObject(document.definitions)) {
        throw new CodegenError("INVALID_SCHEMA", displayPath(file), "", 'expected an object with "definitions"');
      }
      checkKeywords(document, file, "", "draft-07");
      if (options.codegenLint !== false) checkRefSiblings(document, file, "");
      await checkRefs(document, file, "");
      for (const typeName of Object.keys(document.definitions)) {
        const previous = sources.get(typeName);
        if (previous) {
          throw new CodegenError(
            "DUPLICATE_DEFINITION",
            displayPath(file),
            joinPointer("/definitions", typeName),
            `type "${typeName}" is already defined in ${displayPath(previous.file)}; define each type once`,
          );
        }
        sources.set(typeName, { group, file });
      }
    }
  }

  for (const typeName of [...sources.keys()].sort()) {
    const { group, file } = sources.get(typeName)!;
    rootRefs[typeName] = { $ref: `./${group}/${path.basename(file)}#/definitions/${typeName}` };
  }

  // Bundling from a root whose definitions point at every type makes json-schema-ref-parser
  // inline each type at #/definitions/<Name> and rewrite every other $ref to point there.
  const bundled = (await $RefParser.bundle(path.join(root, "__bundle__.json"), { definitions: rootRefs }, {
    resolve: { http: false },
  })) as { definitions: Record<string, unknown> };

  const methods = await loadMethodTable(root, sources);
  const all: Record<string, unknown> = { ...bundled.definitions, ...messageUnions(methods) };
  const definitions: Record<string, unknown> = {};
  for (const typeName of Object.keys(all).sort()) definitions[typeName] = all[typeName];

  const bundle = {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "CodexAuthAppServerProtocol",
    definitions,
    "x-methods": methods,
  };
  return { bundle, sources, methods };
}

async function loadMethodTable(root: string, sources: Map<string, DefinitionSource>): Promise<MethodEntry[]> {
  const file = path.join(root, "methods.json");
  const table = await readDocument(file);
  const shape = await readDocument(path.join(root, "methods.schema.json"));
  const ajv = new Ajv({ strict: true, allErrors: false });
  const validate = ajv.compile(shape as object);
  if (!validate(table)) {
    const error = validate.errors![0]!;
    throw new CodegenError("INVALID_METHOD_TABLE", displayPath(file), error.instancePath, `method table ${error.message ?? "is invalid"}`);
  }
  const methods = (table as { methods: MethodEntry[] }).methods;
  const seen = new Set<string>();
  methods.forEach((entry, index) => {
    const at = joinPointer("/methods", index);
    if (seen.has(entry.method)) {
      throw new CodegenError("INVALID_METHOD_TABLE", displayPath(file), joinPointer(at, "method"), `method "${entry.method}" is listed twice`);
    }
    seen.add(entry.method);
    for (const role of ["params", "result"] as const) {
      const typeName = entry[role];
      if (typeName !== null && !sources.has(typeName)) {
        throw new CodegenError("INVALID_METHOD_TABLE", displayPath(file), joinPointer(at, role), `unknown type "${typeName}"`);
      }
    }
    if (entry.optionalParams && entry.params === null) {
      throw new CodegenError("INVALID_METHOD_TABLE", displayPath(file), joinPointer(at, "optionalParams"), "optionalParams needs a params type");
    }
    if (entry.kind === "notification" && entry.result !== null) {
      throw new CodegenError("INVALID_METHOD_TABLE", displayPath(file), joinPointer(at, "result"), "a notification has no result");
    }
  });
  return methods;
}

/** Title upstream gives a union member: "account/read" → "Account/readRequest". */
function memberTitle(method: string, suffix: string): string {
  return method.charAt(0).toUpperCase() + method.slice(1) + suffix;
}

/** The ClientRequest / ClientNotification / ServerRequest / ServerNotification unions, built the way Codex's bundles are. */
function messageUnions(methods: MethodEntry[]): Record<string, unknown> {
  const unions: Record<string, unknown> = {};
  const specs = [
    ["ClientRequest", "clientToServer", "request", "Request"],
    ["ClientNotification", "clientToServer", "notification", "Notification"],
    ["ServerRequest", "serverToClient", "request", "Request"],
    ["ServerNotification", "serverToClient", "notification", "Notification"],
  ] as const;
  for (const [unionName, direction, kind, suffix] of specs) {
    const members = methods
      .filter((m) => m.direction === direction && m.kind === kind)
      .map((m) => {
        const properties: Record<string, unknown> = {};
        if (kind === "request") properties.id = { $ref: "#/definitions/RequestId" };
        properties.method = { type: "string", enum: [m.method] };
        const paramsRef = m.params ? { $ref: `#/definitions/${m.params}` } : undefined;
        properties.params = !paramsRef
          ? { type: ["object", "null"], additionalProperties: false }
          : m.optionalParams
            ? { anyOf: [paramsRef, { type: "null" }] }
            : paramsRef;
        const required = kind === "request" ? ["id", "method"] : ["method"];
        if (m.params && !m.optionalParams) required.push("params");
        return { title: memberTitle(m.method, suffix), type: "object", properties, required };
      });
    unions[unionName] = members.length ? { title: unionName, type: "object", discriminator: { propertyName: "method" }, oneOf: members } : { title: unionName, not: {} };
  }
  return unions;
}
