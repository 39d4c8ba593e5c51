/**
 * The walk: compares an old and a new schema node for one direction and records what changed.
 *
 * Work is split into *units*: a unit is one pair (old node, new node, direction) reached through a
 * `$ref` on either side, compared once and remembered. A unit records its own findings and the
 * units it leads to, so recursive types stop at the first repeated pair, and a shared type reached
 * from many methods is compared once; `diff.ts` later walks the unit graph from each method to
 * say which methods reach which findings.
 */
import { isPlainObject, type SchemaLoc } from "./load.js";
import { matchArrays, matchObjects } from "./match.js";
import { childPointer, locationName } from "./pointer.js";
import { combineEffects, type Direction, type Effect, type RuleId } from "./rules.js";
import {
  canonicalJson,
  collectShape,
  deref,
  isAnnotation,
  isReference,
  unwrap,
  UNMODELLED_MEMBERS,
  type ObjectView,
  type ScalarBucket,
  type ScalarKind,
  type Shape,
} from "./shape.js";

export type BundleSide = "old" | "new";

export interface RawFinding {
  rule: RuleId;
  effect: Effect;
  /** JSON pointer of the change, in the bundle named by `bundle` (the old one for things that are gone). */
  pointer: string;
  bundle: BundleSide;
  message: string;
  details: Record<string, unknown>;
  /** The outermost union alternative the change sits in, within its unit (see `experimentalVariants`). */
  variant?: string;
}

interface Unpaired {
  pointer: string;
  label: string;
  variant: string;
}

export interface UnitEdge {
  to: string;
  /** The union alternative through which the edge leaves, when there is one. */
  variant: string | undefined;
}

export interface Unit {
  key: string;
  direction: Direction;
  findings: RawFinding[];
  edges: Map<string, UnitEdge>;
}

const LOWER_BOUNDS = ["minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"];
const UPPER_BOUNDS = ["maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"];

const CONSTRAINTS_BY_KIND: Record<ScalarKind | "object" | "array", readonly string[]> = {
  string: ["minLength", "maxLength", "pattern", "format"],
  number: ["minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "multipleOf", "format"],
  boolean: [],
  literal: [],
  object: ["minProperties", "maxProperties"],
  array: ["minItems", "maxItems", "uniqueItems"],
};

function typeLabel(kind: string, bucket?: ScalarBucket): string {
  return kind === "number" && bucket?.integerOnly ? "integer" : kind;
}

export class Comparer {
  readonly units = new Map<string, Unit>();
  private unit: Unit | undefined;
  private variant: string | undefined;

  constructor(
    private readonly oldRoot: unknown,
    private readonly newRoot: unknown,
  ) {}

  /** Compares the schema of one method part (its params or its result) in a unit of its own. */
  compareRoot(key: string, direction: Direction, oldLoc: SchemaLoc, newLoc: SchemaLoc): void {
    const unit: Unit = { key, direction, findings: [], edges: new Map() };
    this.units.set(key, unit);
    this.within(unit, undefined, () => this.compareNode(oldLoc, newLoc));
  }

  private within(unit: Unit, variant: string | undefined, work: () => void): void {
    const saved = [this.unit, this.variant] as const;
    this.unit = unit;
    this.variant = variant;
    try {
      work();
    } finally {
      [this.unit, this.variant] = saved;
    }
  }

  private get current(): Unit {
    if (this.unit === undefined) throw new Error("Comparer used outside a unit");
    return this.unit;
  }

  private add(
    rule: RuleId,
    effect: Effect,
    bundle: BundleSide,
    pointer: string,
    what: string,
    details: Record<string, unknown> = {},
    variant?: string,
  ): void {
    const finding: RawFinding = { rule, effect, pointer, bundle, message: `${locationName(pointer)}: ${what}`, details };
    const outermost = this.variant ?? variant;
    if (outermost !== undefined) finding.variant = outermost;
    this.current.findings.push(finding);
  }

  private compareNode(oldLoc: SchemaLoc, newLoc: SchemaLoc): void {
    if (!isReference(oldLoc) && !isReference(newLoc)) {
      this.compareShapes(unwrap(oldLoc), unwrap(newLoc));
      return;
    }
    const oldTarget = deref(this.oldRoot, oldLoc);
    const newTarget = deref(this.newRoot, newLoc);
    const { direction } = this.current;
    const key = `${direction} ${oldTarget.pointer} ${newTarget.pointer}`;
    this.current.edges.set(`${key} ${this.variant ?? ""}`, { to: key, variant: this.variant });
    if (this.units.has(key)) return; // compared already, or being compared further up (a cycle)
    const unit: Unit = { key, direction, findings: [], edges: new Map() };
    this.units.set(key, unit);
    this.within(unit, undefined, () => this.compareShapes(oldTarget, newTarget));
  }

  private compareShapes(oldLoc: SchemaLoc, newLoc: SchemaLoc): void {
    const before = collectShape(this.oldRoot, oldLoc);
    const after = collectShape(this.newRoot, newLoc);

    if (before.opaque.length > 0 || after.opaque.length > 0) {
      if (canonicalJson(before.opaque.map((l) => l.node)) !== canonicalJson(after.opaque.map((l) => l.node))) {
        this.add("unsupported-change", "both", "new", after.opaque[0]?.pointer ?? after.pointer, "a part the checker does not model (allOf, not, if/then/else...) changed; review it by hand");
      }
    }
    if (before.any || after.any) {
      if (!before.any) this.add("type-widened", "widen", "new", after.pointer, "now accepts any value");
      else if (!after.any) this.add("type-narrowed", "narrow", "new", after.pointer, "accepted any value; now restricted");
      return;
    }

    if (before.nullPointer === null && after.nullPointer !== null) {
      this.add("nullable-added", "widen", "new", after.nullPointer, "now accepts null");
    } else if (before.nullPointer !== null && after.nullPointer === null) {
      this.add("nullable-removed", "narrow", "old", before.nullPointer, "no longer accepts null");
    }

    this.compareKinds(before, after);
    for (const [kind, oldBucket] of before.scalars) {
      const newBucket = after.scalars.get(kind);
      if (newBucket !== undefined) this.compareScalars(kind, oldBucket, newBucket);
    }
    this.compareAlternatives("object", before, after);
    this.compareAlternatives("array", before, after);
  }

  /** Which JSON types are accepted at all. */
  private compareKinds(before: Shape, after: Shape): void {
    const kinds = (shape: Shape): Map<string, { pointer: string; label: string }> => {
      const found = new Map<string, { pointer: string; label: string }>();
      for (const [kind, bucket] of shape.scalars) found.set(kind, { pointer: bucket.pointer, label: typeLabel(kind, bucket) });
      if (shape.objects[0]) found.set("object", { pointer: shape.objects[0].loc.pointer, label: "object" });
      if (shape.arrays[0]) found.set("array", { pointer: shape.arrays[0].pointer, label: "array" });
      return found;
    };
    const oldKinds = kinds(before);
    const newKinds = kinds(after);
    for (const [kind, at] of newKinds) {
      if (!oldKinds.has(kind)) this.add("type-widened", "widen", "new", at.pointer, `now accepts ${at.label} values`, { type: at.label });
    }
    for (const [kind, at] of oldKinds) {
      if (!newKinds.has(kind)) this.add("type-narrowed", "narrow", "old", at.pointer, `no longer accepts ${at.label} values`, { type: at.label });
    }
  }

  private compareScalars(kind: ScalarKind, before: ScalarBucket, after: ScalarBucket): void {
    const label = typeLabel(kind, before);
    if (before.values === null && after.values === null) {
      if (before.integerOnly && !after.integerOnly) {
        this.add("type-widened", "widen", "new", after.pointer, "integer → number", { from: "integer", to: "number" });
      } else if (!before.integerOnly && after.integerOnly) {
        this.add("type-narrowed", "narrow", "new", after.pointer, "number → integer", { from: "number", to: "integer" });
      }
      const [oldNode] = before.constraintNodes;
      const [newNode] = after.constraintNodes;
      if (before.constraintNodes.length === 1 && after.constraintNodes.length === 1 && oldNode && newNode) {
        this.compareConstraints(oldNode, newNode, CONSTRAINTS_BY_KIND[kind]);
      }
      return;
    }
    if (before.values === null && after.values !== null) {
      const values = [...after.values.keys()];
      this.add("enum-constraint-added", "narrow", "new", after.pointer, `any ${label} → only ${values.join(", ")}`, { values: values.map((v) => JSON.parse(v) as unknown) });
      return;
    }
    if (before.values !== null && after.values === null) {
      this.add("enum-constraint-removed", "widen", "new", after.pointer, `only listed values → any ${label}`);
      return;
    }
    if (before.values === null || after.values === null) return;
    for (const [value, pointer] of after.values) {
      if (!before.values.has(value)) this.add("enum-value-added", "widen", "new", pointer, `value ${value} added`, { value: JSON.parse(value) as unknown });
    }
    for (const [value, pointer] of before.values) {
      if (!after.values.has(value)) this.add("enum-value-removed", "narrow", "old", pointer, `value ${value} removed`, { value: JSON.parse(value) as unknown });
    }
  }

  private compareAlternatives(kind: "object" | "array", before: Shape, after: Shape): void {
    if (kind === "object") {
      if (before.objects.length === 0 || after.objects.length === 0) return; // the type itself appeared or went: compareKinds said so
      const match = matchObjects(this.oldRoot, this.newRoot, before.objects, after.objects);
      this.reportUnpaired(match.removed.map((u) => ({ ...u, pointer: u.item.loc.pointer })), match.added.map((u) => ({ ...u, pointer: u.item.loc.pointer })));
      const isUnion = before.objects.length > 1 || after.objects.length > 1;
      for (const pair of match.pairs) {
        this.inVariant(isUnion ? pair.variant : undefined, () => {
          // A reference is compared as a unit (remembered, cycle-safe); a merged alternative only exists as its view.
          if ((pair.old.ref !== undefined || pair.new.ref !== undefined) && !pair.old.merged && !pair.new.merged) {
            this.compareNode(pair.old.loc, pair.new.loc);
          } else {
            this.compareObjects(pair.old.view, pair.new.view);
          }
        });
      }
      return;
    }
    if (before.arrays.length === 0 || after.arrays.length === 0) return;
    const match = matchArrays(this.oldRoot, this.newRoot, before.arrays, after.arrays);
    this.reportUnpaired(match.removed.map((u) => ({ ...u, pointer: u.item.pointer })), match.added.map((u) => ({ ...u, pointer: u.item.pointer })));
    const isUnion = before.arrays.length > 1 || after.arrays.length > 1;
    for (const pair of match.pairs) {
      this.inVariant(isUnion ? pair.variant : undefined, () => {
        if (isReference(pair.old) || isReference(pair.new)) this.compareNode(pair.old, pair.new);
        else this.compareArrays(unwrap(pair.old), unwrap(pair.new));
      });
    }
  }

  private reportUnpaired(removed: Unpaired[], added: Unpaired[]): void {
    for (const gone of removed) {
      this.add("variant-removed", "narrow", "old", gone.pointer, `alternative "${gone.label}" removed`, { variant: gone.variant, label: gone.label }, gone.variant);
    }
    for (const more of added) {
      this.add("variant-added", "widen", "new", more.pointer, `alternative "${more.label}" added`, { variant: more.variant, label: more.label }, more.variant);
    }
  }

  /** Runs `work` inside a union alternative; only the outermost alternative of a unit is remembered. */
  private inVariant(label: string | undefined, work: () => void): void {
    this.within(this.current, this.variant ?? label, work);
  }

  private compareObjects(before: ObjectView, after: ObjectView): void {
    const oldClosed = before.additionalProperties?.node === false;
    const newClosed = after.additionalProperties?.node === false;
    const requiredPointer = childPointer(after.pointer, "required");
    const names = new Set([...before.properties.keys(), ...after.properties.keys(), ...before.required, ...after.required]);
    for (const name of names) {
      const oldProperty = before.properties.get(name);
      const newProperty = after.properties.get(name);
      if (oldProperty !== undefined && newProperty === undefined) {
        const wasRequired = before.required.has(name);
        const why = [wasRequired ? "it was required" : "", newClosed ? "the object is closed, so old writers that send it are rejected" : ""].filter(Boolean);
        this.add("field-removed", combineEffects(wasRequired, newClosed), "old", oldProperty.pointer, `property removed${why.length ? ` (${why.join("; ")})` : ""}`, {
          property: name,
          wasRequired,
          closed: newClosed,
        });
        continue;
      }
      if (oldProperty === undefined && newProperty !== undefined) {
        const isRequired = after.required.has(name);
        const why = [isRequired ? "required" : "optional", oldClosed ? "the old object was closed" : ""].filter(Boolean);
        this.add("field-added", combineEffects(oldClosed, isRequired), "new", newProperty.pointer, `property added (${why.join("; ")})`, {
          property: name,
          required: isRequired,
          oldClosed,
        });
        continue;
      }
      if (oldProperty !== undefined && newProperty !== undefined) this.compareNode(oldProperty, newProperty);
      if (!before.required.has(name) && after.required.has(name)) {
        this.add("field-required", "narrow", "new", newProperty?.pointer ?? requiredPointer, "property became required", { property: name });
      } else if (before.required.has(name) && !after.required.has(name)) {
        this.add("field-optional", "widen", "new", newProperty?.pointer ?? requiredPointer, "property became optional", { property: name });
      }
    }

    this.compareAdditionalProperties(before, after);
    this.compareUnmodelledMembers(before.node, after.node, after.pointer);
    this.compareConstraints({ node: before.node, pointer: before.pointer }, { node: after.node, pointer: after.pointer }, CONSTRAINTS_BY_KIND.object);
  }

  private compareAdditionalProperties(before: ObjectView, after: ObjectView): void {
    const read = (loc: SchemaLoc | undefined): "open" | "closed" | "schema" => {
      if (loc === undefined || loc.node === true) return "open";
      if (loc.node === false) return "closed";
      // `{}` (or annotations only) accepts anything, like `true`.
      return isPlainObject(loc.node) && Object.keys(loc.node).every(isAnnotation) ? "open" : "schema";
    };
    const from = read(before.additionalProperties);
    const to = read(after.additionalProperties);
    if (from === "schema" && to === "schema") {
      this.compareNode(before.additionalProperties!, after.additionalProperties!);
      return;
    }
    if (from === to) return;
    const describe = (kind: string) => (kind === "open" ? "allowed" : kind === "closed" ? "false" : "a schema");
    const text = `additionalProperties ${describe(from)} → ${describe(to)}`;
    const pointer = after.additionalProperties?.pointer ?? after.pointer;
    if (from === "open" || to === "closed") this.add("additional-properties-tightened", "narrow", "new", pointer, text, { from, to });
    else this.add("additional-properties-loosened", "widen", "new", pointer, text, { from, to });
  }

  private compareArrays(oldLoc: SchemaLoc, newLoc: SchemaLoc): void {
    const before = isPlainObject(oldLoc.node) ? oldLoc.node : {};
    const after = isPlainObject(newLoc.node) ? newLoc.node : {};
    const oldPointer = childPointer(oldLoc.pointer, "items");
    const newPointer = childPointer(newLoc.pointer, "items");
    if (Array.isArray(before.items) || Array.isArray(after.items)) {
      // Tuples: compared for equality only.
      if (canonicalJson(before.items) !== canonicalJson(after.items)) {
        this.add("unsupported-change", "both", "new", newPointer, "tuple items changed; review it by hand");
      }
    } else {
      this.compareNode({ node: before.items ?? true, pointer: oldPointer }, { node: after.items ?? true, pointer: newPointer });
    }
    this.compareUnmodelledMembers(before, after, newLoc.pointer);
    this.compareConstraints(oldLoc, newLoc, CONSTRAINTS_BY_KIND.array);
  }

  private compareUnmodelledMembers(before: Record<string, unknown>, after: Record<string, unknown>, newPointer: string): void {
    for (const keyword of UNMODELLED_MEMBERS) {
      if (canonicalJson(before[keyword]) !== canonicalJson(after[keyword])) {
        this.add("unsupported-change", "both", "new", childPointer(newPointer, keyword), `${keyword} changed; review it by hand`);
      }
    }
  }

  /** Bounds, formats and patterns of two nodes that accept the same JSON type. */
  private compareConstraints(oldLoc: SchemaLoc, newLoc: SchemaLoc, keywords: readonly string[]): void {
    const before = isPlainObject(oldLoc.node) ? oldLoc.node : {};
    const after = isPlainObject(newLoc.node) ? newLoc.node : {};
    for (const keyword of keywords) {
      // `uniqueItems: false` and no `uniqueItems` mean the same.
      const from = keyword === "uniqueItems" ? before[keyword] === true || undefined : before[keyword];
      const to = keyword === "uniqueItems" ? after[keyword] === true || undefined : after[keyword];
      if (canonicalJson(from) === canonicalJson(to)) continue;
      const pointer = to === undefined ? newLoc.pointer : childPointer(newLoc.pointer, keyword);
      const text = `${keyword} ${from === undefined ? "(none)" : JSON.stringify(from)} → ${to === undefined ? "(none)" : JSON.stringify(to)}`;
      const details = { keyword, from: from ?? null, to: to ?? null };
      let tightened: boolean | undefined;
      if (from === undefined) tightened = true;
      else if (to === undefined) tightened = false;
      else if (LOWER_BOUNDS.includes(keyword) && typeof from === "number" && typeof to === "number") tightened = to > from;
      else if (UPPER_BOUNDS.includes(keyword) && typeof from === "number" && typeof to === "number") tightened = to < from;
      else tightened = undefined; // a different pattern, format or multipleOf: neither contains the other
      if (tightened === undefined) this.add("constraint-changed", "both", "new", pointer, text, details);
      else if (tightened) this.add("constraint-tightened", "narrow", "new", pointer, text, details);
      else this.add("constraint-loosened", "widen", "new", pointer, text, details);
    }
  }
}
