/** Every failure of the generator names the file and the JSON pointer it is about. */
export type CodegenErrorCode =
  | "READ_FAILED"
  | "INVALID_JSON"
  | "INVALID_YAML"
  | "BROKEN_REF"
  | "UNKNOWN_KEYWORD"
  | "REF_WITH_SIBLINGS"
  | "DUPLICATE_DEFINITION"
  | "INVALID_METHOD_TABLE"
  | "INVALID_SCHEMA";

export class CodegenError extends Error {
  override readonly name = "CodegenError";
  constructor(
    readonly code: CodegenErrorCode,
    /** Path of the offending file, relative to the working directory when possible. */
    readonly file: string,
    /** JSON pointer inside that file ("" for the whole document). */
    readonly pointer: string,
    readonly detail: string,
  ) {
    super(`${file}#${pointer}: ${detail}`);
  }
}

/** Escapes one reference token of a JSON pointer (RFC 6901). */
export function escapePointerToken(token: string | number): string {
  return String(token).replace(/~/g, "~0").replace(/\//g, "~1");
}

export function joinPointer(base: string, ...tokens: Array<string | number>): string {
  return base + tokens.map((t) => `/${escapePointerToken(t)}`).join("");
}
