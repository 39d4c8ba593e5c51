/**
 * `diffBundles`: every method of two bundles compared in the direction its messages travel, and
 * each finding named by the methods through which it is reached.
 */
import { Comparer, type BundleSide, type RawFinding } from "./compare.js";
import { loadBundle, pairResults, type BundleMethod, type SchemaLoc } from "./load.js";
import { audiencesBroken, directionArrow, type Audience, type Direction, type RuleId, type Severity } from "./rules.js";

export interface Finding {
  rule: RuleId;
  /** "breaking" when it breaks any audience (`breaks` is then non-empty). */
  severity: Severity;
  /** Who it breaks: old clients with the new server, new clients with older servers, or both. */
  breaks: Audience[];
  direction: Direction;
  /** The method through which the change is reached (first by name), or "(type)" when only an unplaced type reaches it. */
  method: string;
  /** Every method that reaches the change. */
  methods: string[];
  /** JSON pointer of the change, in the bundle named by `bundle`. */
  pointer: string;
  bundle: BundleSide;
  message: string;
  details: Record<string, unknown>;
}

export interface DiffSummary {
  breaking: number;
  nonBreaking: number;
  methodsCompared: number;
  methodsAdded: number;
  methodsRemoved: number;
}

export interface DiffResult {
  findings: Finding[];
  summary: DiffSummary;
}

/** Label used for findings reached only through a type that no method names (upstream `*Response` orphans). */
export const TYPE_ONLY = "(type)";

interface Root {
  unitKey: string;
  /** Method name, or undefined for an orphan type. */
  method: string | undefined;
  typeName: string | undefined;
  /** No compatibility promise was made for it: the method was experimental in the old bundle. */
  experimental: boolean;
  /** Alternatives of the params union that carry no promise either. */
  experimentalVariants: ReadonlySet<string>;
}

interface Reach {
  raw: RawFinding;
  direction: Direction;
  /** method → reached through at least one stable path */
  methods: Map<string, boolean>;
  types: Map<string, boolean>;
}

function opposite(direction: Direction): Direction {
  return direction === "clientToServer" ? "serverToClient" : "clientToServer";
}

function methodFinding(rule: "method-removed" | "method-added", bundle: BundleSide, method: BundleMethod): Finding {
  const removed = rule === "method-removed";
  const experimental = removed && method.experimental;
  const details: Record<string, unknown> = { kind: method.kind, effect: removed ? "both" : "none" };
  if (experimental) details.experimentalOnly = true;
  // Old clients still call (or handle) a removed method; an older server still sends a removed
  // server→client message, which new clients no longer know.
  const breaks: Audience[] = removed && !experimental ? (method.direction === "serverToClient" ? ["oldClients", "newClients"] : ["oldClients"]) : [];
  return {
    rule,
    severity: breaks.length > 0 ? "breaking" : "non-breaking",
    breaks,
    direction: method.direction,
    method: method.method,
    methods: [method.method],
    pointer: method.pointer,
    bundle,
    message: `${directionArrow(method.direction)} ${method.kind} "${method.method}" ${removed ? "removed" : "added"}${experimental ? " (it was experimental)" : ""}`,
    details,
  };
}

export function diffBundles(oldJson: unknown, newJson: unknown, options: { oldLabel?: string; newLabel?: string } = {}): DiffResult {
  const oldBundle = loadBundle(oldJson, options.oldLabel ?? "old bundle");
  const newBundle = loadBundle(newJson, options.newLabel ?? "new bundle");
  const results = pairResults(oldBundle, newBundle);
  const comparer = new Comparer(oldBundle.root, newBundle.root);
  const direct: Finding[] = [];
  const roots: Root[] = [];
  let methodsCompared = 0;

  const compare = (unitKey: string, direction: Direction, before: SchemaLoc, after: SchemaLoc, root: Omit<Root, "unitKey">) => {
    comparer.compareRoot(unitKey, direction, before, after);
    roots.push({ unitKey, ...root });
  };

  const keys = new Set([...oldBundle.methods.keys(), ...newBundle.methods.keys()]);
  for (const key of keys) {
    const before = oldBundle.methods.get(key);
    const after = newBundle.methods.get(key);
    if (before === undefined) {
      direct.push(methodFinding("method-added", "new", after!));
      continue;
    }
    if (after === undefined) {
      direct.push(methodFinding("method-removed", "old", before));
      continue;
    }
    methodsCompared++;
    const experimental = before.experimental;
    compare(`root ${key} params`, before.direction, before.params, after.params, {
      method: before.method,
      typeName: undefined,
      experimental,
      experimentalVariants: new Set([...before.experimentalVariants, ...after.experimentalVariants]),
    });
    const oldResult = results.old.get(key);
    const newResult = results.new.get(key);
    if (oldResult !== undefined && newResult !== undefined) {
      compare(`root ${key} result`, opposite(before.direction), oldResult, newResult, {
        method: before.method,
        typeName: undefined,
        experimental,
        experimentalVariants: new Set(),
      });
    }
  }

  for (const name of new Set([...results.orphansOld.keys(), ...results.orphansNew.keys()])) {
    const oldPointer = results.orphansOld.get(name);
    const newPointer = results.orphansNew.get(name);
    if (oldPointer === undefined || newPointer === undefined) {
      const rule = oldPointer === undefined ? "type-added" : "type-removed";
      direct.push({
        rule,
        severity: "non-breaking",
        breaks: [],
        direction: "serverToClient",
        method: TYPE_ONLY,
        methods: [],
        pointer: (oldPointer ?? newPointer)!,
        bundle: oldPointer === undefined ? "new" : "old",
        message: `${name}: ${oldPointer === undefined ? "added" : "removed"} (a *Response type no method is paired with by name)`,
        details: { type: name, effect: "none" },
      });
      continue;
    }
    compare(
      `root ${TYPE_ONLY} ${name}`,
      "serverToClient",
      { node: { $ref: `#${oldPointer}` }, pointer: oldPointer },
      { node: { $ref: `#${newPointer}` }, pointer: newPointer },
      { method: undefined, typeName: name, experimental: false, experimentalVariants: new Set() },
    );
  }

  const reached = attribute(comparer, roots);
  const findings = [...direct, ...[...reached.values()].map(toFinding)].sort(compareFindings);
  const breaking = findings.filter((f) => f.severity === "breaking").length;
  return {
    findings,
    summary: {
      breaking,
      nonBreaking: findings.length - breaking,
      methodsCompared,
      methodsAdded: direct.filter((f) => f.rule === "method-added").length,
      methodsRemoved: direct.filter((f) => f.rule === "method-removed").length,
    },
  };
}

/**
 * Walks the unit graph from every root. The first union alternative met on the way (or, inside a
 * unit, the one the finding sits in) decides whether `experimentalVariants` exempts it.
 */
function attribute(comparer: Comparer, roots: Root[]): Map<string, Reach> {
  const reached = new Map<string, Reach>();
  for (const root of roots) {
    const visited = new Set<string>();
    const stack: Array<{ key: string; variant: string | undefined }> = [{ key: root.unitKey, variant: undefined }];
    while (stack.length > 0) {
      const { key, variant } = stack.pop()!;
      const visit = `${key}\n${variant ?? ""}`;
      if (visited.has(visit)) continue;
      visited.add(visit);
      const unit = comparer.units.get(key);
      if (unit === undefined) continue;
      for (const raw of unit.findings) {
        const label = variant ?? raw.variant;
        const stable = !root.experimental && !(label !== undefined && root.experimentalVariants.has(label));
        const id = `${raw.rule}\n${unit.direction}\n${raw.bundle}\n${raw.pointer}`;
        let entry = reached.get(id);
        if (entry === undefined) {
          entry = { raw, direction: unit.direction, methods: new Map(), types: new Map() };
          reached.set(id, entry);
        }
        const into = root.method !== undefined ? entry.methods : entry.types;
        const name = root.method ?? root.typeName!;
        into.set(name, (into.get(name) ?? false) || stable);
      }
      for (const edge of unit.edges.values()) stack.push({ key: edge.to, variant: variant ?? edge.variant });
    }
  }
  return reached;
}

function toFinding(reach: Reach): Finding {
  const { raw, direction } = reach;
  const methods = [...reach.methods.keys()].sort(byString);
  const types = [...reach.types.keys()].sort(byString);
  const stable = [...reach.methods.values(), ...reach.types.values()].some(Boolean);
  const details: Record<string, unknown> = { ...raw.details, effect: raw.effect };
  if (types.length > 0) details.types = types;
  let breaks = audiencesBroken(raw.effect, direction);
  if (!stable) {
    details.experimentalOnly = true;
    breaks = [];
  }
  return {
    rule: raw.rule,
    severity: breaks.length > 0 ? "breaking" : "non-breaking",
    breaks,
    direction,
    method: methods[0] ?? TYPE_ONLY,
    methods,
    pointer: raw.pointer,
    bundle: raw.bundle,
    message: raw.message,
    details,
  };
}

/** Plain code-unit order: the same on every machine, whatever its locale. */
function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareFindings(a: Finding, b: Finding): number {
  const typeLast = (f: Finding) => (f.method === TYPE_ONLY ? 1 : 0);
  return (
    typeLast(a) - typeLast(b) ||
    byString(a.method, b.method) ||
    byString(a.direction, b.direction) ||
    byString(a.pointer, b.pointer) ||
    byString(a.rule, b.rule)
  );
}
