/** The schema compatibility checker: pure functions over parsed JSON Schema bundles. */
export { diffBundles, TYPE_ONLY, type DiffResult, type DiffSummary, type Finding } from "./diff.js";
export { CompatError, type CompatErrorCode } from "./errors.js";
export { loadBundle, type BundleMethod, type LoadedBundle } from "./load.js";
export { RULES, RULE_IDS, isRuleId, severityOf, type Direction, type Effect, type RuleId, type Severity } from "./rules.js";
export { restrictToMethods, type SurfaceResult } from "./surface.js";
export { AUDIENCES, audiencesBroken, isAudience, type Audience } from "./rules.js";
