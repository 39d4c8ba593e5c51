import { describe, expect, it } from "vitest";
import { toPlanType, validatePlanType } from "../../src/protocol/index.js";

describe("toPlanType (the one raw-plan mapping of the auth core and the app-server)", () => {
  it("keeps every contract value, case- and space-insensitively", () => {
    for (const plan of ["free", "plus", "pro", "team", "business", "enterprise", "edu", "unknown"]) {
      expect(toPlanType(plan)).toBe(plan);
      expect(toPlanType(` ${plan.toUpperCase()} `)).toBe(plan);
    }
  });

  it("maps Codex's aliases and reports anything else as unknown", () => {
    expect(toPlanType("hc")).toBe("enterprise");
    expect(toPlanType("education")).toBe("edu");
    for (const raw of ["platinum", "", null, 42, undefined]) expect(toPlanType(raw)).toBe("unknown");
  });

  it("only ever returns values the generated PlanType validator accepts", () => {
    for (const raw of ["hc", "education", "weird", "sci_plus"]) expect(validatePlanType(toPlanType(raw))).toBe(true);
  });
});
