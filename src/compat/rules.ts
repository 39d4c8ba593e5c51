/**
 * Rule ids and how each one is judged. A change is described by its *effect* on the set of
 * values a schema accepts; whether that breaks anyone depends on which way the message travels:
 *
 * - server→client types (results, notifications, server-request params) are read by old clients:
 *   accepting MORE values (widen) breaks them, e.g. a new enum value hits their exhaustive switch.
 * - client→server types (request params, server-request responses) are written by old clients:
 *   accepting FEWER values (narrow) breaks them, e.g. a newly required field they never send.
 *
 * That is one audience, `oldClients`: clients built on the old schemas talking to a server on the
 * new ones. The other is `newClients`: clients built on the new schemas (our validating client,
 * downstream apps on our generated types) talking to a server still on the old ones. For them the
 * rule is mirrored: a server→client type that accepts FEWER values (a field made required, an enum
 * value removed) rejects what older servers send, and a client→server type that accepts MORE
 * values lets them send what older servers reject.
 */

export type Direction = "clientToServer" | "serverToClient";
/** Who a change breaks: old clients with the new server, or new clients with older servers. */
export type Audience = "oldClients" | "newClients";
export const AUDIENCES: readonly Audience[] = ["oldClients", "newClients"];

export function isAudience(value: unknown): value is Audience {
  return value === "oldClients" || value === "newClients";
}
export type Severity = "breaking" | "non-breaking";
/** How a change moves the set of accepted values: `both` breaks either way, `none` never does. */
export type Effect = "widen" | "narrow" | "both" | "none";

export interface RuleInfo {
  /** The effect of the change, or `depends` when the rule computes it per finding (see `summary`). */
  effect: Effect | "depends";
  summary: string;
}

export const RULES = {
  "method-removed": { effect: "both", summary: "A method disappeared: old clients still call it or handle it." },
  "method-added": { effect: "none", summary: "A new method (information only)." },
  "type-added": {
    effect: "none",
    summary: "A *Response type not tied to any method by name appeared (upstream bundles only; information).",
  },
  "type-removed": {
    effect: "none",
    summary: "A *Response type not tied to any method by name disappeared (upstream bundles only; information).",
  },
  "field-removed": {
    effect: "depends",
    summary:
      "A property disappeared. Widens when it was required (readers relied on it); narrows when the new object is closed (additionalProperties: false), since old writers still send it.",
  },
  "field-added": {
    effect: "depends",
    summary:
      "A property appeared. Narrows when it is required (old writers never send it); widens when the old object was closed (strict old readers reject it).",
  },
  "field-required": { effect: "narrow", summary: "An optional property became required." },
  "field-optional": { effect: "widen", summary: "A required property became optional." },
  "nullable-added": { effect: "widen", summary: "null is accepted where it was not." },
  "nullable-removed": { effect: "narrow", summary: "null is no longer accepted." },
  "enum-value-added": { effect: "widen", summary: "An enum/const value was added (oneOf-of-single-values counts as an enum)." },
  "enum-value-removed": { effect: "narrow", summary: "An enum/const value was removed." },
  "enum-constraint-added": { effect: "narrow", summary: "A free value (any string, number...) became a fixed list of values." },
  "enum-constraint-removed": { effect: "widen", summary: "A fixed list of values became a free value." },
  "type-widened": { effect: "widen", summary: "A JSON type is accepted that was not (integer → number counts)." },
  "type-narrowed": { effect: "narrow", summary: "A JSON type is no longer accepted." },
  "additional-properties-tightened": {
    effect: "narrow",
    summary: "Unknown properties are restricted where they were allowed (true/absent → false or a schema; schema → false).",
  },
  "additional-properties-loosened": { effect: "widen", summary: "Unknown properties are allowed where they were restricted." },
  "variant-added": { effect: "widen", summary: "A oneOf/anyOf alternative was added." },
  "variant-removed": { effect: "narrow", summary: "A oneOf/anyOf alternative was removed." },
  "constraint-tightened": { effect: "narrow", summary: "A bound or format was added or made stricter (minimum, maxLength, format...)." },
  "constraint-loosened": { effect: "widen", summary: "A bound or format was removed or relaxed." },
  "constraint-changed": { effect: "both", summary: "A pattern, format or multipleOf changed to an incomparable value." },
  "unsupported-change": {
    effect: "both",
    summary: "A keyword the checker does not model (not, if/then/else, allOf of several schemas...) changed: review by hand.",
  },
} as const satisfies Record<string, RuleInfo>;

export type RuleId = keyof typeof RULES;
export const RULE_IDS = Object.keys(RULES) as RuleId[];

export function isRuleId(value: unknown): value is RuleId {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(RULES, value);
}

/** The audiences a change breaks (empty: it breaks nobody). */
export function audiencesBroken(effect: Effect, direction: Direction): Audience[] {
  const out: Audience[] = [];
  if (severityOf(effect, direction) === "breaking") out.push("oldClients");
  if (effect === "both" || (effect === "widen" && direction === "clientToServer") || (effect === "narrow" && direction === "serverToClient")) {
    out.push("newClients");
  }
  return out;
}

/** Severity for old clients with the new server (the audience `severityOf` has always judged). */
export function severityOf(effect: Effect, direction: Direction): Severity {
  switch (effect) {
    case "both":
      return "breaking";
    case "widen":
      return direction === "serverToClient" ? "breaking" : "non-breaking";
    case "narrow":
      return direction === "clientToServer" ? "breaking" : "non-breaking";
    case "none":
      return "non-breaking";
  }
}

export function combineEffects(widens: boolean, narrows: boolean): Effect {
  if (widens && narrows) return "both";
  if (widens) return "widen";
  if (narrows) return "narrow";
  return "none";
}

/** One sentence saying who breaks and how, for people reading a breaking finding. */
export function whoBreaks(effect: Effect, direction: Direction, audience: Audience = "oldClients"): string {
  if (audience === "newClients") {
    if (effect === "both") return "new clients break against older servers whichever way the message travels";
    if (effect === "widen" && direction === "clientToServer") return "new clients may send values older servers reject";
    if (effect === "narrow" && direction === "serverToClient") return "new clients (validating with the new schemas) reject what older servers send";
    return "new clients keep working with older servers";
  }
  if (effect === "both") return "old clients break whichever way the message travels";
  if (effect === "widen" && direction === "serverToClient") return "old clients may receive values they do not handle";
  if (effect === "narrow" && direction === "clientToServer") return "old clients may send values the server now rejects";
  return "old clients keep working";
}

export function audienceLabel(audience: Audience): string {
  return audience === "oldClients" ? "old clients ← new server" : "new clients → older servers";
}

export function directionArrow(direction: Direction): string {
  return direction === "clientToServer" ? "client→server" : "server→client";
}
