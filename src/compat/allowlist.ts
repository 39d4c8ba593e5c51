/**
 * `schemas/compat-allowlist.json`: breaking changes made on purpose, each with its reason.
 *
 * An entry matches a finding by rule and JSON pointer (and, when given, message direction, method
 * and `breaks`: the audience it accepts breaking, `oldClients` or `newClients`; without it, both).
 * A finding that breaks both audiences is allowed only when both are covered.
 * It only ever covers breaking findings, and an entry that covers none is *stale* and fails the
 * check: the allowlist describes the difference with the current baseline, so once a release
 * (or the next schema change, before the first release) makes the change part of the baseline,
 * its entry must go.
 */
import type { Finding } from "./diff.js";
import { CompatError } from "./errors.js";
import { isPlainObject } from "./load.js";
import { isAudience, isRuleId, RULE_IDS, type Audience, type Direction, type RuleId } from "./rules.js";

export interface AllowlistEntry {
  rule: RuleId;
  pointer: string;
  reason: string;
  direction?: Direction;
  method?: string;
  breaks?: Audience;
}

export interface Allowlist {
  entries: AllowlistEntry[];
}

export interface CheckedFinding extends Finding {
  /** Set on a breaking finding an allowlist entry covers. */
  allowlisted?: { reason: string; entry: number };
}

export interface StaleEntry {
  index: number;
  entry: AllowlistEntry;
}

export interface AllowlistOutcome {
  findings: CheckedFinding[];
  stale: StaleEntry[];
  /** Breaking findings no entry covers. */
  unallowed: number;
}

const ROOT_KEYS = new Set(["entries", "$comment", "$schema"]);
const ENTRY_KEYS = new Set(["rule", "pointer", "reason", "direction", "method", "breaks"]);

export const EMPTY_ALLOWLIST: Allowlist = { entries: [] };

/** Validates the whole file and reports every problem at once. */
export function parseAllowlist(json: unknown, source: string): Allowlist {
  const problems: string[] = [];
  if (!isPlainObject(json) || !Array.isArray(json.entries)) {
    throw new CompatError("COMPAT_ALLOWLIST_INVALID", `${source}: expected an object {"entries": [...]}`);
  }
  for (const key of Object.keys(json)) if (!ROOT_KEYS.has(key)) problems.push(`unknown key "${key}" (expected "entries")`);
  const entries: AllowlistEntry[] = [];
  const seen = new Map<string, number>();
  json.entries.forEach((raw, index) => {
    const at = `entries[${index}]`;
    if (!isPlainObject(raw)) {
      problems.push(`${at}: expected an object`);
      return;
    }
    const before = problems.length;
    for (const key of Object.keys(raw)) if (!ENTRY_KEYS.has(key)) problems.push(`${at}: unknown key "${key}"`);
    const { rule, pointer, reason, direction, method, breaks } = raw;
    if (!isRuleId(rule)) problems.push(`${at}: "rule" must be one of ${RULE_IDS.join(", ")}`);
    if (typeof pointer !== "string" || (pointer !== "" && !pointer.startsWith("/"))) problems.push(`${at}: "pointer" must be a JSON pointer such as "/definitions/AuthMode/enum/5"`);
    if (typeof reason !== "string" || reason.trim() === "") problems.push(`${at}: "reason" is required: say why this breaking change is acceptable`);
    if (direction !== undefined && direction !== "clientToServer" && direction !== "serverToClient") problems.push(`${at}: "direction" must be clientToServer or serverToClient`);
    if (method !== undefined && (typeof method !== "string" || method === "")) problems.push(`${at}: "method" must be a method name`);
    if (breaks !== undefined && !isAudience(breaks)) problems.push(`${at}: "breaks" must be oldClients (old clients with the new server) or newClients (new clients with older servers)`);
    if (problems.length > before) return;
    const entry: AllowlistEntry = { rule: rule as RuleId, pointer: pointer as string, reason: (reason as string).trim() };
    if (direction !== undefined) entry.direction = direction as Direction;
    if (method !== undefined) entry.method = method as string;
    if (breaks !== undefined) entry.breaks = breaks as Audience;
    const identity = JSON.stringify([entry.rule, entry.pointer, entry.direction ?? null, entry.method ?? null, entry.breaks ?? null]);
    const first = seen.get(identity);
    if (first !== undefined) problems.push(`${at}: same as entries[${first}]`);
    else seen.set(identity, index);
    entries.push(entry);
  });
  if (problems.length > 0) {
    throw new CompatError("COMPAT_ALLOWLIST_INVALID", `${source} is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  return { entries };
}

function covers(entry: AllowlistEntry, finding: Finding, audience: Audience): boolean {
  return (
    (entry.breaks === undefined || entry.breaks === audience) &&
    entry.rule === finding.rule &&
    entry.pointer === finding.pointer &&
    (entry.direction === undefined || entry.direction === finding.direction) &&
    (entry.method === undefined || finding.method === entry.method || finding.methods.includes(entry.method))
  );
}

export function applyAllowlist(findings: readonly Finding[], allowlist: Allowlist): AllowlistOutcome {
  const used = new Set<number>();
  let unallowed = 0;
  const checked = findings.map((finding): CheckedFinding => {
    if (finding.severity !== "breaking") return finding;
    // Every entry that covers the finding for some audience is in use, not only the first.
    allowlist.entries.forEach((entry, i) => finding.breaks.some((audience) => covers(entry, finding, audience)) && used.add(i));
    const indexes = finding.breaks.map((audience) => allowlist.entries.findIndex((entry) => covers(entry, finding, audience)));
    if (indexes.some((index) => index === -1)) {
      unallowed++;
      return finding;
    }
    const index = indexes[0]!;
    return { ...finding, allowlisted: { reason: allowlist.entries[index]!.reason, entry: index } };
  });
  const stale = allowlist.entries.flatMap((entry, index) => (used.has(index) ? [] : [{ index, entry }]));
  return { findings: checked, stale, unallowed };
}
