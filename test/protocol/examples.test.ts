import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { validatorFor } from "../support/generated-validators.js";

const examplesRoot = path.resolve("schemas/examples");

const cases = readdirSync(examplesRoot).flatMap((typeName) =>
  readdirSync(path.join(examplesRoot, typeName))
    .filter((file) => file.endsWith(".json"))
    .map((file) => ({ typeName, file, valid: file.startsWith("valid-") })),
);

describe("schemas/examples validate with the generated validators", () => {
  it("has both valid and invalid examples for every type", () => {
    const byType = new Map<string, Set<boolean>>();
    for (const c of cases) byType.set(c.typeName, (byType.get(c.typeName) ?? new Set()).add(c.valid));
    for (const [typeName, kinds] of byType) expect([typeName, [...kinds].sort()]).toEqual([typeName, [false, true]]);
    for (const c of cases) expect(c.file).toMatch(/^(valid|invalid)-[a-z0-9.-]+\.json$/);
  });

  it.each(cases)("$typeName/$file", ({ typeName, file, valid }) => {
    const example: unknown = JSON.parse(readFileSync(path.join(examplesRoot, typeName, file), "utf8"));
    const validate = validatorFor(typeName);
    const accepted = validate(example);
    expect(accepted, JSON.stringify(validate.errors)).toBe(valid);
    if (!valid) expect(validate.errors?.length ?? 0).toBeGreaterThan(0);
  });
});
