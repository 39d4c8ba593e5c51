import type { AuthMode } from "../../generated/protocol/common.js";
import { validateAuthMode } from "../../generated/protocol/validators.js";

export function isAuthMode(value: unknown): value is AuthMode {
  return validateAuthMode(value);
}
