import { describe, expect, it } from "vitest";
import { isKnownMethod, methods, validateJSONRPCMessage } from "../../src/protocol/index.js";
import { readTranscript, transcriptNames, transcriptVersions } from "../support/transcripts.js";

/**
 * Every server→client message the reference Codex sent in the recorded sessions, for a method in
 * our table, must validate against our schemas: our contract describes what the reference emits.
 * Every recorded version counts, the pinned one and those before it (our validating client talks
 * to older servers too).
 */
function checks(version: string, name: string) {
  const lines = readTranscript(version, name);
  const methodOfRequest = new Map<unknown, string>();
  const out: Array<{ label: string; validate: () => { ok: boolean; errors: unknown } }> = [];
  lines.forEach((line, index) => {
    const msg = line.msg;
    if (!msg) return;
    if (line.dir === "c2s" && typeof msg.method === "string" && "id" in msg) methodOfRequest.set(msg.id, msg.method);
    if (line.dir !== "s2c") return;
    out.push({ label: `line ${index + 1}: envelope`, validate: () => ({ ok: validateJSONRPCMessage(msg), errors: validateJSONRPCMessage.errors }) });
    if (typeof msg.method === "string") {
      if (!isKnownMethod(msg.method)) return;
      const descriptor = methods[msg.method];
      out.push({ label: `line ${index + 1}: ${msg.method} params`, validate: () => ({ ok: descriptor.validateParams(msg.params), errors: descriptor.validateParams.errors }) });
    } else if ("result" in msg) {
      const method = methodOfRequest.get(msg.id);
      if (!method || !isKnownMethod(method)) return;
      const validateResult = methods[method].validateResult;
      if (!validateResult) return;
      out.push({ label: `line ${index + 1}: ${method} result`, validate: () => ({ ok: validateResult(msg.result), errors: validateResult.errors }) });
    }
  });
  return out;
}

const files = transcriptVersions().flatMap((version) => transcriptNames(version).map((name) => ({ version, name })));

describe.each(files)("transcript $version/$name", ({ version, name }) => {
  const cases = checks(version, name);
  it("has server messages for methods in our table", () => {
    expect(cases.length).toBeGreaterThan(0);
  });
  it.each(cases)("$label", ({ validate }) => {
    const { ok, errors } = validate();
    expect(ok, JSON.stringify(errors)).toBe(true);
  });
});
