import type { ValidationError } from "../../generated/validator.js";

/**
 * Turns the first validator error into the wording Codex clients already match on (serde's),
 * e.g. "missing field `apiKey`", "unknown variant `bogus`, expected one of `apiKey`, `chatgpt`",
 * "invalid type: string \"yes\", expected a boolean".
 */
export function describeValidationError(errors: readonly ValidationError[] | null | undefined, data: unknown): string {
  const error = errors?.[0];
  if (!error) return "invalid value";
  const at = error.instancePath ? ` at ${error.instancePath}` : "";
  switch (error.keyword) {
    case "required":
      return `missing field \`${String(error.params.missingProperty)}\``;
    case "discriminator": {
      const tag = String(error.params.tag);
      if (error.params.error === "mapping") {
        const value = valueAt(data, error.instancePath);
        const tagValue = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[tag] : undefined;
        return `unknown variant \`${String(tagValue)}\`${at}`;
      }
      return `missing field \`${tag}\`${at}`;
    }
    case "type":
      return `invalid type: ${describeValue(valueAt(data, error.instancePath))}, expected ${describeExpected(String(error.params.type))}${at}`;
    case "enum":
    case "const":
      return `unknown variant ${describeValue(valueAt(data, error.instancePath))}${at}`;
    case "additionalProperties":
      return `unknown field \`${String(error.params.additionalProperty)}\`${at}`;
    default:
      return `${error.instancePath || "value"} ${error.message ?? "is invalid"}`;
  }
}

function valueAt(data: unknown, pointer: string): unknown {
  if (!pointer) return data;
  let node = data;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[token];
  }
  return node;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "sequence";
  switch (typeof value) {
    case "string":
      return `string ${JSON.stringify(value)}`;
    case "number":
      return Number.isInteger(value) ? `integer \`${value}\`` : `floating point \`${value}\``;
    case "boolean":
      return `boolean \`${value}\``;
    case "object":
      return "map";
    default:
      return "nothing";
  }
}

function describeExpected(types: string): string {
  const names: Record<string, string> = { boolean: "a boolean", string: "a string", integer: "an integer", number: "a number", object: "a map", array: "a sequence", null: "null" };
  return types
    .split(",")
    .map((t) => names[t] ?? t)
    .join(" or ");
}
