import { Ajv, type AnySchemaObject, type Options as AjvOptions } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import formatsPlugin from "ajv-formats";
import standalone from "ajv/dist/standalone/index.js";
import { CodegenError } from "./errors.js";
import { validatorName } from "./validator-names.js";
import { displayPath } from "./read.js";

const addFormats = formatsPlugin.default;
const standaloneCode = standalone.default;

/**
 * Standalone Ajv validators: plain ES modules that validate without loading or compiling Ajv at
 * run time (importing them costs ~10 ms; compiling at start-up costs ~150-200 ms).
 */

export interface ValidatorModuleInput {
  /** `$id` used while compiling; never appears at run time. */
  id: string;
  /** The document holding the definitions (a bundle, or a synthetic `$defs` document). */
  document: Record<string, unknown>;
  dialect: "draft-07" | "2020-12";
  /** Definition name → JSON pointer of the schema inside `document`. */
  exports: Array<{ name: string; pointer: string }>;
  /** Where each definition came from, for errors. */
  sourceOf: (name: string) => { file: string; pointer: string };
  /** Formats that are documentation only (e.g. Rust's `int64`) in third-party bundles. */
  annotationFormats?: string[];
  /**
   * Third-party bundles (Codex's own) are not written for Ajv's strictTypes/strictTuples rules;
   * unknown keywords still fail.
   */
  thirdParty?: boolean;
}

export function generateValidatorModule(input: ValidatorModuleInput): string {
  // The schemas given to this instance (not the meta-schemas Ajv validates them with).
  const ownRoots = new Set<unknown>();
  // Our validators compiled since the last `process` call: Ajv has set their source by the next.
  const compiled: CompiledEnv[] = [];
  const compactSources = (): void => {
    for (const env of compiled.splice(0)) {
      const source = env.validate?.source;
      if (source && typeof source.validateCode === "string") source.validateCode = flattened(source.validateCode);
    }
  };
  const options: AjvOptions = {
    strict: true,
    strictRequired: false,
    // `type: ["string", "null"]` is how the schemas spell nullable members.
    allowUnionTypes: true,
    allErrors: false,
    discriminator: true,
    // Shared types compile once and are called by reference instead of being inlined everywhere.
    inlineRefs: false,
    // Our own modules are small and read by people: line breaks and Ajv's optimizer pass. A
    // 700-definition third-party bundle compiles ~2x faster without them.
    code: {
      source: true,
      esm: true,
      lines: !input.thirdParty,
      optimize: !input.thirdParty,
      // Called with each validator's code before Ajv evaluates it: see SOURCE_ONLY and flattened().
      process: (source, env) => {
        compactSources();
        if (!env || !ownRoots.has(env.root.schema)) return source;
        compiled.push(env as CompiledEnv);
        return SOURCE_ONLY;
      },
    },
    // A third-party bundle was lint-checked for unknown keywords (lint.ts); validating the whole
    // document against the draft-07 meta-schema as well costs a pass over ~20,000 nodes.
    ...(input.thirdParty ? { strictTypes: false, strictTuples: false, validateSchema: false } : {}),
  };
  const ajv = input.dialect === "2020-12" ? new Ajv2020(options) : new Ajv(options);
  if (input.thirdParty) addFormats(ajv, ["date-time", "uri", "email"]);
  else {
    // Our schemas use formats Ajv can inline as regular expressions. ajv-formats' function
    // formats would make the module import its CommonJS runtime, which costs the CLI ~10 ms at
    // start-up (`login status` loads the auth.json validator).
    for (const [name, pattern] of Object.entries(INLINE_FORMATS)) ajv.addFormat(name, pattern);
  }
  for (const format of input.annotationFormats ?? []) ajv.addFormat(format, true);
  const split = input.thirdParty ? splitDefinitions(input) : undefined;
  if (split) for (const schema of split.schemas.values()) ownRoots.add(schema);
  else ownRoots.add(input.document);
  if (split) for (const [id, schema] of split.schemas) ajv.addSchema(schema as AnySchemaObject, id);
  else ajv.addSchema(input.document, input.id);

  const refs: Record<string, string> = {};
  for (const { name, pointer } of input.exports) {
    const ref = split?.idOf.get(pointer) ?? `${input.id}#${pointer}`;
    try {
      ajv.getSchema(ref);
    } catch (error) {
      const source = input.sourceOf(name);
      throw new CodegenError("INVALID_SCHEMA", displayPath(source.file), source.pointer, (error as Error).message);
    }
    refs[validatorName(name)] = ref;
  }
  compactSources();
  return toPortableEsm(standaloneCode(ajv, refs));
}

interface CompiledEnv {
  validate?: { source?: { validateCode: string } };
}

/**
 * `text` with its characters in one piece. Ajv builds each validator's source by concatenation, so
 * V8 holds it as a rope: for Codex's bundle ~400,000 small string objects that live until the
 * module is written, and that every minor GC had to copy (a third of the run was GC). Converting
 * a string to a number makes V8 flatten it in place (as the flatstr package does); the rope's
 * pieces then die young. Only memory layout changes, never the text.
 */
function flattened(text: string): string {
  Number(text);
  return text;
}

/**
 * What Ajv turns into a live function (`new Function`) for each validator of ours: a function that
 * is never called. standaloneCode needs only each validator's source, which Ajv keeps before this
 * step; evaluating ~780 validators' code (3.4 MB for Codex's bundle) cost ~15% of the run and kept
 * it all in memory. Meta-schemas still compile for real: Ajv runs them to check our schemas.
 */
const SOURCE_ONLY = "return function sourceOnly() { throw new Error(\"codegen: compiled for its source only\"); }";

const SPLIT_BASE = "https://codex-auth.invalid/definitions/";

/**
 * A bundle whose refs all name whole definitions (`#/definitions/Name`, as Codex's do) is given to
 * Ajv as one schema per definition, the refs rewritten to their ids. Compiled as fragments of one
 * document, a definition reached both as an export and through another's `$ref` is compiled twice
 * (Ajv caches the two separately): ~1,200 functions instead of ~780 for Codex's main bundle, and
 * about twice the time. Undefined when some ref points elsewhere (then the document is compiled
 * as it is).
 */
function splitDefinitions(input: ValidatorModuleInput): { schemas: Map<string, unknown>; idOf: Map<string, string> } | undefined {
  const definitions = input.document.definitions;
  if (typeof definitions !== "object" || definitions === null || Array.isArray(definitions)) return undefined;
  const names = new Set(Object.keys(definitions));
  const idOf = new Map<string, string>();
  for (const name of names) idOf.set(`/definitions/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`, `${SPLIT_BASE}${encodeURIComponent(name)}.json`);
  if (!input.exports.every(({ pointer }) => idOf.has(pointer))) return undefined;
  let foreign = false;
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (typeof node !== "object" || node === null) return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") {
        const id = idOf.get(value.startsWith("#") ? decodeURIComponent(value.slice(1)) : "");
        if (id === undefined) foreign = true;
        out[key] = id ?? value;
      } else if (key === "$id" || key === "$schema") {
        if (key === "$id") foreign = true;
      } else out[key] = key === "enum" || key === "const" || key === "default" || key === "examples" ? value : rewrite(value);
    }
    return out;
  };
  const schemas = new Map<string, unknown>();
  for (const name of names) schemas.set(`${SPLIT_BASE}${encodeURIComponent(name)}.json`, rewrite((definitions as Record<string, unknown>)[name]));
  return foreign ? undefined : { schemas, idOf };
}

/** RFC 3339 date-time (what Codex writes for `last_refresh`: any fraction, `Z` or an offset). */
const INLINE_FORMATS: Record<string, RegExp> = {
  "date-time":
    /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[Tt](?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d+)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/,
};


/**
 * Ajv's "ESM" output still calls `require()` for its runtime helpers (ucs2length, formats).
 * Hoist each into an `import`, so the module runs under Node ESM and in bundlers without a
 * `createRequire` shim (which would tie the protocol entry to Node).
 */
function toPortableEsm(code: string): string {
  const specifiers: string[] = [];
  const body = code
    .replace(/^"use strict";\s*/, "")
    .replace(/require\("([^"]+)"\)/g, (_match, specifier: string) => {
      let index = specifiers.indexOf(specifier);
      if (index < 0) index = specifiers.push(specifier) - 1;
      return `__runtime${index}`;
    });
  const imports = specifiers.map((specifier, index) => `import __runtime${index} from "${withJsExtension(specifier)}";`);
  return (imports.length ? `${imports.join("\n")}\n` : "") + body;
}

function withJsExtension(specifier: string): string {
  return /\.[cm]?js$/.test(specifier) ? specifier : `${specifier}.js`;
}
