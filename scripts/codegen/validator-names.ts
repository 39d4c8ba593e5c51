import { joinPointer } from "./errors.js";

/**
 * Names and declarations of generated validators: plain string work, kept apart from Ajv (which
 * takes ~300 ms to import) so that callers that only need names do not load it.
 */
export function validatorName(typeName: string): string {
  return `validate${typeName.replace(/[^A-Za-z0-9_$]/g, "")}`;
}

/** Declarations for a validator module: one typed guard per exported type. */
export function generateValidatorDeclarations(
  typeNames: string[],
  typeModuleOf: (typeName: string) => string | undefined,
  validatorTypesModule: string,
): string {
  const imports = new Map<string, string[]>();
  for (const name of typeNames) {
    const module = typeModuleOf(name);
    if (!module) continue;
    const list = imports.get(module) ?? [];
    list.push(name);
    imports.set(module, list);
  }
  const lines = [`import type { Validator } from "${validatorTypesModule}";`];
  for (const [module, names] of [...imports.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`import type { ${names.sort().join(", ")} } from "${module}";`);
  }
  lines.push("");
  for (const name of typeNames) {
    const type = typeModuleOf(name) ? name : "unknown";
    lines.push(`export declare const ${validatorName(name)}: Validator<${type}>;`);
  }
  return lines.join("\n") + "\n";
}

export const VALIDATOR_TYPES = `/** One error from a generated validator (the subset of Ajv's ErrorObject that codex-auth uses). */
export interface ValidationError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** A generated standalone validator: a type guard that leaves its errors on \`errors\`. */
export interface Validator<T> {
  (data: unknown): data is T;
  errors?: ValidationError[] | null;
}
`;

export function definitionPointer(name: string, container = "definitions"): string {
  return joinPointer(`/${container}`, name);
}
