import type { PlanType } from "../../generated/protocol/common.js";

/**
 * Raw backend plan names → the contract's PlanType: the one mapping, used by the auth core and the
 * app-server alike. Checked against the generated union at compile time (`satisfies`), so a schema
 * change breaks the build instead of drifting. A table rather than the generated validator, because
 * `login status` must not load the 160 kB protocol validators.
 */
const KNOWN_PLAN_TYPES = {
  free: true,
  go: true,
  plus: true,
  pro: true,
  prolite: true,
  promax: true,
  team: true,
  self_serve_business_prolite: true,
  self_serve_business_usage_based: true,
  business: true,
  ent26: true,
  enterprise_cbp_automation: true,
  enterprise_cbp_usage_based: true,
  enterprise: true,
  edu: true,
  edu_plus: true,
  edu_pro: true,
  sci: true,
  sci_plus: true,
  unknown: true,
} as const satisfies Record<PlanType, true>;

/** Raw aliases Codex maps (`hc` is enterprise, `education` is edu). */
const ALIASES: Readonly<Record<string, PlanType>> = { hc: "enterprise", education: "edu" };

/** Plans the contract does not list are reported as `unknown`. */
export function toPlanType(raw: unknown): PlanType {
  if (typeof raw !== "string") return "unknown";
  const normalized = raw.trim().toLowerCase();
  if (Object.hasOwn(KNOWN_PLAN_TYPES, normalized)) return normalized as PlanType;
  return ALIASES[normalized] ?? "unknown";
}
