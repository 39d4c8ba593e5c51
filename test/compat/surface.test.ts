import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bundleProtocolSchemas } from "../../scripts/codegen/bundle.js";
import { diffBundles, restrictToMethods } from "../../src/compat/index.js";
import { CODEX_VERSION } from "../support/codex-reference.js";
import { codexFixture } from "../support/fixtures.js";

/**
 * The gap report (`npm run upstream:gap`): our schemas against the pinned Codex's main bundle,
 * restricted to our method table. With `reason` taken out of our AccountUpdatedNotification (the
 * state before 0.171.0 was adopted), the report names exactly that field.
 */
const REPO = path.resolve(".");
const methods = new Set((JSON.parse(readFileSync(path.join(REPO, "schemas/app-server/methods.json"), "utf8")) as { methods: Array<{ method: string }> }).methods.map((m) => m.method));
const upstream = () => JSON.parse(readFileSync(codexFixture("upstream-codex", CODEX_VERSION, "codex_app_server_protocol.schemas.json"), "utf8")) as unknown;

describe(`gap between schemas/ and Codex ${CODEX_VERSION}, on our surface`, () => {
  let ours: Record<string, any>;
  beforeAll(async () => {
    ours = (await bundleProtocolSchemas(path.join(REPO, "schemas"))) as Record<string, any>;
  });

  it("keeps only findings reached through our methods, and no added methods", () => {
    const full = diffBundles(ours, upstream());
    const gap = restrictToMethods(full, methods);
    expect(full.findings.length).toBeGreaterThan(gap.findings.length * 3);
    expect(gap.findings.length).toBeGreaterThan(0);
    for (const finding of gap.findings) {
      expect(finding.methods.length).toBeGreaterThan(0);
      expect(finding.methods.every((m) => methods.has(m))).toBe(true);
      expect(finding.rule).not.toBe("method-added");
    }
    expect(gap.summary.methodsAdded).toBe(0);
  });

  it("names account/updated.reason when our schema lacks it, and nothing about it once adopted", () => {
    const mentionsReason = (bundle: unknown) =>
      restrictToMethods(diffBundles(bundle, upstream()), methods).findings.filter((f) => f.method === "account/updated" && f.pointer.endsWith("/reason"));
    const before = structuredClone(ours);
    delete before.definitions.AccountUpdatedNotification.properties.reason;
    expect(mentionsReason(before).map((f) => [f.rule, f.severity, f.breaks, f.message])).toEqual([
      ["field-added", "non-breaking", [], "AccountUpdatedNotification.reason: property added (optional)"],
    ]);
    expect(mentionsReason(ours)).toEqual([]);
  });
});
