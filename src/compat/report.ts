/** What `schema:diff` and `schema:check` print: text for people, one JSON object for machines. */
import type { AllowlistOutcome, CheckedFinding, StaleEntry } from "./allowlist.js";
import { TYPE_ONLY, type DiffResult } from "./diff.js";
import { audienceLabel, directionArrow, whoBreaks, type Audience, type Effect } from "./rules.js";

export interface ReportSummary {
  breaking: number;
  /** Breaking findings per audience (a finding may break both). */
  breakingFor: Record<Audience, number>;
  allowlisted: number;
  /** Breaking findings no allowlist entry covers: any of these fails the run. */
  unallowedBreaking: number;
  nonBreaking: number;
  methodsAdded: number;
  methodsRemoved: number;
  staleAllowlistEntries: number;
}

export interface Report {
  ok: boolean;
  old: string;
  new: string;
  notes: string[];
  summary: ReportSummary;
  findings: CheckedFinding[];
  staleAllowlistEntries: StaleEntry[];
}

export function buildReport(input: {
  oldLabel: string;
  newLabel: string;
  notes?: string[];
  result: DiffResult;
  /** Absent for a plain diff: every breaking finding then counts. */
  allowlist?: AllowlistOutcome;
}): Report {
  const { result, allowlist } = input;
  const findings: CheckedFinding[] = allowlist?.findings ?? result.findings;
  const stale = allowlist?.stale ?? [];
  const allowlisted = findings.filter((f) => f.allowlisted !== undefined).length;
  const unallowedBreaking = result.summary.breaking - allowlisted;
  return {
    ok: unallowedBreaking === 0 && stale.length === 0,
    old: input.oldLabel,
    new: input.newLabel,
    notes: input.notes ?? [],
    summary: {
      breaking: result.summary.breaking,
      breakingFor: {
        oldClients: findings.filter((f) => f.breaks.includes("oldClients")).length,
        newClients: findings.filter((f) => f.breaks.includes("newClients")).length,
      },
      allowlisted,
      unallowedBreaking,
      nonBreaking: result.summary.nonBreaking,
      methodsAdded: result.summary.methodsAdded,
      methodsRemoved: result.summary.methodsRemoved,
      staleAllowlistEntries: stale.length,
    },
    findings,
    staleAllowlistEntries: stale,
  };
}

export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

interface Palette {
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

function palette(color: boolean): Palette {
  const wrap = (code: number, reset: number) => (text: string) => (color ? `\x1b[${code}m${text}\x1b[${reset}m` : text);
  return { red: wrap(31, 39), yellow: wrap(33, 39), green: wrap(32, 39), dim: wrap(2, 22), bold: wrap(1, 22) };
}

function plural(count: number, word: string, many = `${word}s`): string {
  return `${count} ${count === 1 ? word : many}`;
}

/** Findings grouped by method, breaking first; added methods folded into one list at the end. */
export function renderText(report: Report, options: { color: boolean; verdict?: boolean }): string {
  const c = palette(options.color);
  const lines: string[] = [c.bold(`Schema compatibility: ${report.old} → ${report.new}`)];
  for (const note of report.notes) lines.push(c.dim(`note: ${note}`));

  const added = report.findings.filter((f) => f.rule === "method-added");
  const groups = new Map<string, CheckedFinding[]>();
  for (const finding of report.findings) {
    if (finding.rule === "method-added") continue;
    const group = groups.get(finding.method) ?? [];
    group.push(finding);
    groups.set(finding.method, group);
  }
  const rank = (f: CheckedFinding) => (f.severity !== "breaking" ? 2 : f.allowlisted ? 1 : 0);
  const ordered = [...groups].sort(
    ([a, fa], [b, fb]) => Math.min(...fa.map(rank)) - Math.min(...fb.map(rank)) || (a === TYPE_ONLY ? 1 : 0) - (b === TYPE_ONLY ? 1 : 0) || (a < b ? -1 : a > b ? 1 : 0),
  );
  for (const [method, findings] of ordered) {
    lines.push("", c.bold(method === TYPE_ONLY ? `${TYPE_ONLY} types no method is paired with` : method));
    for (const finding of [...findings].sort((a, b) => rank(a) - rank(b))) {
      const marker =
        finding.severity !== "breaking" ? c.dim("· info    ") : finding.allowlisted ? c.yellow("✓ allowed ") : c.red("✖ BREAKING");
      lines.push(`  ${marker} ${finding.rule}  ${c.dim(directionArrow(finding.direction))}  ${finding.message}`);
      if (finding.severity !== "breaking") continue;
      lines.push(c.dim(`             ${finding.pointer} (${finding.bundle} bundle)`));
      for (const audience of finding.breaks) {
        lines.push(c.dim(`             breaks ${audienceLabel(audience)}: ${finding.rule === "method-removed" ? (audience === "oldClients" ? "old clients still use it" : "older servers still send it") : whoBreaks(finding.details.effect as Effect, finding.direction, audience)}`));
      }
      const others = finding.methods.filter((m) => m !== finding.method);
      if (others.length > 0) lines.push(c.dim(`             also reached through: ${others.join(", ")}`));
      if (finding.allowlisted) lines.push(c.yellow(`             allowlisted: ${finding.allowlisted.reason}`));
    }
  }
  if (added.length > 0) {
    lines.push("", c.bold(`Methods added (${added.length}):`), `  ${added.map((f) => f.method).join(", ")}`);
  }
  if (report.staleAllowlistEntries.length > 0) {
    lines.push("", c.red(c.bold("Stale allowlist entries (they cover no breaking change against this baseline; remove them):")));
    for (const { index, entry } of report.staleAllowlistEntries) {
      lines.push(`  entries[${index}] ${entry.rule} ${entry.pointer}${entry.method ? ` (${entry.method})` : ""}${entry.breaks ? ` [breaks ${entry.breaks}]` : ""}: ${entry.reason}`);
    }
  }

  const s = report.summary;
  lines.push(
    "",
    `${plural(s.breaking, "breaking change")} (${s.allowlisted} allowlisted; ${s.breakingFor.oldClients} for old clients with the new server, ` +
      `${s.breakingFor.newClients} for new clients with older servers), ${s.nonBreaking} non-breaking; ` +
      `${plural(s.methodsAdded, "method")} added, ${s.methodsRemoved} removed` +
      (s.staleAllowlistEntries > 0 ? `; ${plural(s.staleAllowlistEntries, "stale allowlist entry", "stale allowlist entries")}` : "") +
      ".",
  );
  if (options.verdict === false) {
    // A report, not a gate (the upstream gap): no OK/FAIL line.
  } else if (report.ok) lines.push(c.green("OK"));
  else {
    const why = [
      s.unallowedBreaking > 0 ? `${plural(s.unallowedBreaking, "breaking change")} not allowlisted` : "",
      s.staleAllowlistEntries > 0 ? plural(s.staleAllowlistEntries, "stale allowlist entry", "stale allowlist entries") : "",
    ].filter(Boolean);
    lines.push(c.red(c.bold(`FAIL: ${why.join(", ")}`)));
  }
  return `${lines.join("\n")}\n`;
}
