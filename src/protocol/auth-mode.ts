import type { AuthMode, PlanType } from "../../generated/protocol/common.js";
import { validateAuthMode, validatePlanType } from "../../generated/protocol/validators.js";

export function isAuthMode(value: unknown): value is AuthMode {
  return validateAuthMode(value);
}

/** Plans the backend reports that the contract does not list are reported as `unknown`. */
export function toPlanType(raw: unknown): PlanType {
  if (typeof raw !== "string") return "unknown";
  const normalized = raw.trim().toLowerCase();
  return validatePlanType(normalized) ? normalized : "unknown";
}
