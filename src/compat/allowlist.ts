/**
 * `schemas/compat-allowlist.json`: breaking changes made on purpose, each with its reason.
 *
 * An entry matches a finding by rule and JSON pointer (and, when given, direction and method).
 * It only ever covers breaking findings, and an entry that covers none is *stale* and fails the
 * check: the allowlist describes the difference with the current baseline, so once a release
 * (or the next schema change, before the first release) makes the change part of the baseline,
 * its entry must go.
 */
import type { Finding } from "./diff.js";
import { CompatError } from "./errors.js";
import { isPlainObject } from "./load.js";
import { isRuleId, RULE_IDS, type Direction, type RuleId } from "./rules.js";

export interface AllowlistEntry {
  rule: RuleId;
  pointer: string;
  reason: string;
  direction?: Direction;
  method?: string;
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
const ENTRY_KEYS = new Set(["rule", "pointer", "reason", "direction", "method"]);

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
    const { rule, pointer, reason, direction, method } = raw;
    if (!isRuleId(rule)) problems.push(`${at}: "rule" must be one of ${RULE_IDS.join(", ")}`);
    if (typeof pointer !== "string" || (pointer !== "" && !pointer.startsWith("/"))) problems.push(`${at}: "pointer" must be a JSON pointer such as "/definitions/AuthMode/enum/5"`);
    if (typeof reason !== "string" || reason.trim() === "") problems.push(`${at}: "reason" is required: say why this breaking change is acceptable`);
    if (direction !== undefined && direction !== "clientToServer" && direction !== "serverToClient") problems.push(`${at}: "direction" must be clientToServer or serverToClient`);
    if (method !== undefined && (typeof method !== "string" || method === "")) problems.push(`${at}: "method" must be a method name`);
    if (problems.length > before) return;
    const entry: AllowlistEntry = { rule: rule as RuleId, pointer: pointer as string, reason: (reason as string).trim() };
    if (direction !== undefined) entry.direction = direction as Direction;
    if (method !== undefined) entry.method = method as string;
    const identity = JSON.stringify([entry.rule, entry.pointer, entry.direction ?? null, entry.method ?? null]);
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

function covers(entry: AllowlistEntry, finding: Finding): boolean {
  return (
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
    const index = allowlist.entries.findIndex((entry) => covers(entry, finding));
    if (index === -1) {
      unallowed++;
      return finding;
    }
    // Every entry that covers the finding is in use, not only the first.
    allowlist.entries.forEach((entry, i) => covers(entry, finding) && used.add(i));
    return { ...finding, allowlisted: { reason: allowlist.entries[index]!.reason, entry: index } };
  });
  const stale = allowlist.entries.flatMap((entry, index) => (used.has(index) ? [] : [{ index, entry }]));
  return { findings: checked, stale, unallowed };
}
