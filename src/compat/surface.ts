/**
 * A diff restricted to one surface: the methods a project serves (its method table) and the types
 * they reach. Used by the gap report (`npm run upstream:gap`): of Codex's ~200 methods, only the
 * dozen in schemas/app-server/methods.json are ours to adopt.
 */
import { TYPE_ONLY, type DiffResult, type Finding } from "./diff.js";

export interface SurfaceResult extends DiffResult {
  /** Methods of the surface that the other bundle does not have at all. */
  missing: string[];
}

export function restrictToMethods(result: DiffResult, methods: ReadonlySet<string>): SurfaceResult {
  const findings: Finding[] = [];
  const missing: string[] = [];
  for (const finding of result.findings) {
    if (finding.method === TYPE_ONLY) continue;
    const ours = finding.methods.filter((method) => methods.has(method));
    if (ours.length === 0) continue;
    if (finding.rule === "method-added") continue;
    if (finding.rule === "method-removed") missing.push(finding.method);
    findings.push({ ...finding, method: ours[0]!, methods: ours });
  }
  const breaking = findings.filter((f) => f.severity === "breaking").length;
  return {
    findings,
    missing,
    summary: { ...result.summary, breaking, nonBreaking: findings.length - breaking, methodsAdded: 0, methodsRemoved: missing.length },
  };
}
