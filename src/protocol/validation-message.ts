import type { ValidationError } from "../../generated/validator.js";

export interface DescribeOptions {
  /**
   * serde quotes string values. A long string in the wrong field may be a credential (an API key
   * pasted into `includeToken`, a token in a malformed auth.json), so only strings up to this
   * length are quoted; longer ones read "a string". Default 16; 0 quotes none.
   */
  maxQuoted?: number;
}

const DEFAULT_MAX_QUOTED = 16;

/**
 * Turns the first validator error into the wording Codex clients already match on (serde's),
 * e.g. "missing field `apiKey`", "unknown variant `bogus`, expected one of `apiKey`, `chatgpt`",
 * "invalid type: string \"yes\", expected a boolean".
 */
export function describeValidationError(errors: readonly ValidationError[] | null | undefined, data: unknown, options: DescribeOptions = {}): string {
  const describeValue = (value: unknown) => describeJsonValue(value, options);
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
        return `unknown variant ${typeof tagValue === "string" ? quoteVariant(tagValue, options) : describeValue(tagValue)}${at}`;
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

/** serde's names for JSON values in `invalid type` messages, with long strings left unquoted. */
export function describeJsonValue(value: unknown, options: DescribeOptions = {}): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "sequence";
  switch (typeof value) {
    case "string":
      return value.length <= (options.maxQuoted ?? DEFAULT_MAX_QUOTED) ? `string ${JSON.stringify(value)}` : "a string";
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

function quoteVariant(value: string, options: DescribeOptions): string {
  return value.length <= (options.maxQuoted ?? DEFAULT_MAX_QUOTED) ? `\`${value}\`` : "a string";
}
