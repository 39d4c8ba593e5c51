/** Every failure of the compatibility checker carries a stable code a caller can branch on. */
export type CompatErrorCode =
  /** An input is not a JSON Schema bundle the checker understands. */
  | "COMPAT_INPUT_INVALID"
  /** A `$ref` does not resolve inside its bundle (bundles must be self-contained). */
  | "COMPAT_REF_UNRESOLVED"
  /** `schemas/compat-allowlist.json` is malformed. */
  | "COMPAT_ALLOWLIST_INVALID"
  /** The baseline (git ref or folder) cannot be read. */
  | "COMPAT_BASELINE_UNAVAILABLE"
  /** Bad command-line arguments. */
  | "COMPAT_USAGE";

export class CompatError extends Error {
  override readonly name = "CompatError";
  constructor(
    readonly code: CompatErrorCode,
    message: string,
  ) {
    super(message);
  }
}
