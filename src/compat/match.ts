/**
 * Pairing the alternatives of a union between two versions, so that each surviving alternative is
 * compared with itself and only the others count as added or removed.
 *
 * 1. A discriminator, when every alternative pins one property to a single value
 *    (`type: {enum: ["apiKey"]}`), is authoritative: alternatives with different values are
 *    different alternatives, whatever their names. Alternatives sharing a value (upstream splits
 *    one variant into an `anyOf` of forms) are then paired within their group by the next steps.
 * 2. Otherwise, and within such a group, each step pairs what is still unpaired, using a key only
 *    where it is unique on both sides: the `$ref` target's name; the `title`; serde's external tag
 *    (a single required property); then the most similar property sets (Jaccard ≥ 0.5); then the
 *    last old and last new alternative, when exactly one of each is left.
 */
import { isPlainObject, type SchemaLoc } from "./load.js";
import { lastToken, refToPointer } from "./pointer.js";
import { deref, stableJson, unwrap, type ObjectAlternative, type ObjectView } from "./shape.js";

export interface Paired<T> {
  old: T;
  new: T;
  /** Shown to people. */
  label: string;
  /** Matched against `experimentalVariants`: the discriminator value when there is one, else the label. */
  variant: string;
}

export interface Unpaired<T> {
  item: T;
  label: string;
  variant: string;
}

export interface AlternativeMatch<T> {
  pairs: Array<Paired<T>>;
  removed: Array<Unpaired<T>>;
  added: Array<Unpaired<T>>;
}

interface Candidate<T> {
  item: T;
  index: number;
  ref: string | undefined;
  title: string | undefined;
  literals: Map<string, unknown>;
  propertyNames: string[];
  /** Properties used to name an untitled alternative. */
  ownProperties: string[];
  required: string[];
}

const PREFERRED_DISCRIMINATORS = ["type", "kind", "method"];
const MIN_SIMILARITY = 0.5;

function literalsOf(root: unknown, view: ObjectView): Map<string, unknown> {
  const literals = new Map<string, unknown>();
  for (const [name, loc] of view.properties) {
    const property = deref(root, loc).node;
    if (!isPlainObject(property)) continue;
    if ("const" in property) literals.set(name, property.const);
    else if (Array.isArray(property.enum) && property.enum.length === 1) literals.set(name, property.enum[0]);
  }
  return literals;
}

function objectCandidate(root: unknown, item: ObjectAlternative, index: number): Candidate<ObjectAlternative> {
  return {
    item,
    index,
    ref: item.ref,
    title: item.view.title,
    literals: literalsOf(root, item.view),
    propertyNames: [...item.view.properties.keys()],
    ownProperties: item.view.ownProperties,
    required: [...item.view.required],
  };
}

function plainCandidate(root: unknown, item: SchemaLoc, index: number): Candidate<SchemaLoc> {
  const unwrapped = unwrap(item).node;
  const target = deref(root, item).node;
  return {
    item,
    index,
    ref: isPlainObject(unwrapped) && typeof unwrapped.$ref === "string" ? lastToken(refToPointer(unwrapped.$ref)) : undefined,
    title: isPlainObject(target) && typeof target.title === "string" ? target.title : undefined,
    literals: new Map(),
    propertyNames: [],
    ownProperties: [],
    required: [],
  };
}

function rank(name: string): number {
  const index = PREFERRED_DISCRIMINATORS.indexOf(name);
  return index === -1 ? PREFERRED_DISCRIMINATORS.length : index;
}

function discriminatorOf<T>(all: Array<Candidate<T>>): string | undefined {
  const first = all[0];
  if (first === undefined) return undefined;
  const shared = [...first.literals.keys()].filter((name) => all.every((c) => c.literals.has(name)));
  const distinct = (name: string) => new Set(all.map((c) => stableJson(c.literals.get(name)))).size;
  shared.sort((a, b) => rank(a) - rank(b) || distinct(b) - distinct(a) || (a < b ? -1 : 1));
  return shared[0];
}

function externalTag<T>(c: Candidate<T>): string | undefined {
  return c.propertyNames.length === 1 && c.required.length === 1 && c.required[0] === c.propertyNames[0] ? c.propertyNames[0] : undefined;
}

/** A name for an untitled alternative: its first properties, or what it accepts. */
function shapeLabel<T>(c: Candidate<T>): string {
  if (c.ownProperties.length === 0) return `#${c.index} (no declared properties)`;
  const shown = c.ownProperties.slice(0, 3).join(", ");
  return `{${shown}${c.ownProperties.length > 3 ? ", …" : ""}}`;
}

function jaccard(a: string[], b: string[]): number {
  if (a.length === 0 && b.length === 0) return 1;
  const left = new Set(a);
  const shared = b.filter((x) => left.has(x)).length;
  return shared / (left.size + b.length - shared);
}

/** Keys present once on a side; a key seen twice is useless for pairing and dropped. */
function keyed<T>(items: Array<Candidate<T>>, keyOf: (c: Candidate<T>) => string | undefined): Map<string, Candidate<T>> {
  const found = new Map<string, Candidate<T> | null>();
  for (const item of items) {
    const key = keyOf(item);
    if (key !== undefined) found.set(key, found.has(key) ? null : item);
  }
  return new Map([...found].filter((entry): entry is [string, Candidate<T>] => entry[1] !== null));
}

function pairWithin<T>(olds: Array<Candidate<T>>, news: Array<Candidate<T>>): { pairs: Array<[Candidate<T>, Candidate<T>]>; olds: Array<Candidate<T>>; news: Array<Candidate<T>> } {
  const pairs: Array<[Candidate<T>, Candidate<T>]> = [];
  let oldLeft = olds;
  let newLeft = news;
  const take = (o: Candidate<T>, n: Candidate<T>) => {
    pairs.push([o, n]);
    oldLeft = oldLeft.filter((c) => c !== o);
    newLeft = newLeft.filter((c) => c !== n);
  };
  if (oldLeft.length === 1 && newLeft.length === 1) {
    take(oldLeft[0]!, newLeft[0]!);
    return { pairs, olds: oldLeft, news: newLeft };
  }
  for (const keyOf of [(c: Candidate<T>) => c.ref, (c: Candidate<T>) => c.title, externalTag]) {
    const newKeys = keyed(newLeft, keyOf);
    for (const [key, o] of keyed(oldLeft, keyOf)) {
      const n = newKeys.get(key);
      if (n !== undefined) take(o, n);
    }
  }
  // Most similar property sets first, greedily.
  const scored = oldLeft
    .flatMap((o) => newLeft.map((n) => ({ o, n, score: jaccard(o.propertyNames, n.propertyNames) })))
    .filter((s) => s.score >= MIN_SIMILARITY && (s.o.propertyNames.length > 0 || s.n.propertyNames.length > 0))
    .sort((a, b) => b.score - a.score || a.o.index - b.o.index || a.n.index - b.n.index);
  for (const { o, n } of scored) if (oldLeft.includes(o) && newLeft.includes(n)) take(o, n);
  if (oldLeft.length === 1 && newLeft.length === 1) take(oldLeft[0]!, newLeft[0]!);
  return { pairs, olds: oldLeft, news: newLeft };
}

function matchCandidates<T>(olds: Array<Candidate<T>>, news: Array<Candidate<T>>): AlternativeMatch<T> {
  // Two single objects are one type that changed, not a union whose alternatives changed.
  const isUnion = olds.length > 1 || news.length > 1;
  const discriminator = isUnion ? discriminatorOf([...olds, ...news]) : undefined;
  const valueOf = (c: Candidate<T>) => (discriminator === undefined ? undefined : c.literals.get(discriminator));
  const name = (c: Candidate<T>) => c.ref ?? c.title ?? externalTag(c) ?? shapeLabel(c);
  const groups = new Map<string, { olds: Array<Candidate<T>>; news: Array<Candidate<T>> }>();
  const group = (c: Candidate<T>) => {
    const key = discriminator === undefined ? "" : stableJson(valueOf(c));
    let found = groups.get(key);
    if (found === undefined) groups.set(key, (found = { olds: [], news: [] }));
    return found;
  };
  for (const c of olds) group(c).olds.push(c);
  for (const c of news) group(c).news.push(c);

  const result: AlternativeMatch<T> = { pairs: [], removed: [], added: [] };
  for (const { olds: groupOld, news: groupNew } of groups.values()) {
    // Alternatives sharing a discriminator value are told apart by name.
    const shared = groupOld.length > 1 || groupNew.length > 1;
    const describe = (c: Candidate<T>) => {
      const value = valueOf(c);
      if (value === undefined) return { label: name(c), variant: name(c) };
      const variant = typeof value === "string" ? value : stableJson(value);
      return { label: shared ? `${variant} (${name(c)})` : variant, variant };
    };
    const within = pairWithin(groupOld, groupNew);
    for (const [o, n] of within.pairs) result.pairs.push({ old: o.item, new: n.item, ...describe(n) });
    for (const o of within.olds) result.removed.push({ item: o.item, ...describe(o) });
    for (const n of within.news) result.added.push({ item: n.item, ...describe(n) });
  }
  return result;
}

export function matchObjects(oldRoot: unknown, newRoot: unknown, olds: ObjectAlternative[], news: ObjectAlternative[]): AlternativeMatch<ObjectAlternative> {
  return matchCandidates(
    olds.map((item, i) => objectCandidate(oldRoot, item, i)),
    news.map((item, i) => objectCandidate(newRoot, item, i)),
  );
}

export function matchArrays(oldRoot: unknown, newRoot: unknown, olds: SchemaLoc[], news: SchemaLoc[]): AlternativeMatch<SchemaLoc> {
  return matchCandidates(
    olds.map((item, i) => plainCandidate(oldRoot, item, i)),
    news.map((item, i) => plainCandidate(newRoot, item, i)),
  );
}
