import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { methods, validateAccountUpdatedNotification, validateGetAuthStatusResponse } from "../../src/protocol/index.js";

/**
 * v1 (`getAuthStatus`) and v2 (`account/updated`) must report the same AuthMode values: a client
 * switching on one must be able to switch on the other. Checked on the schemas (the contract)
 * and on the generated code (what clients compile against and what the server validates with).
 */

type Schema = Record<string, unknown>;
const root = path.resolve("schemas/app-server");
const load = (relative: string): Schema => JSON.parse(readFileSync(path.join(root, relative), "utf8")) as Schema;

/** The string values a schema (following $refs across our files) accepts. */
function stringValues(schema: unknown, file: string, seen = new Set<string>()): Set<string> {
  const node = schema as Schema;
  const out = new Set<string>();
  if (!node || typeof node !== "object") return out;
  if (typeof node.$ref === "string") {
    const [target = "", pointer = ""] = node.$ref.split("#");
    const targetFile = target ? path.normalize(path.join(path.dirname(file), target)) : file;
    const key = `${targetFile}#${pointer}`;
    if (seen.has(key)) return out;
    seen.add(key);
    let resolved: unknown = load(targetFile);
    for (const token of pointer.split("/").filter(Boolean)) resolved = (resolved as Schema)[token];
    return stringValues(resolved, targetFile, seen);
  }
  if (Array.isArray(node.enum)) for (const v of node.enum) if (typeof v === "string") out.add(v);
  if (typeof node.const === "string") out.add(node.const);
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    if (Array.isArray(node[key])) for (const sub of node[key] as unknown[]) for (const v of stringValues(sub, file, seen)) out.add(v);
  }
  return out;
}

function schemaProperty(file: string, typeName: string, property: string): unknown {
  const definitions = load(file).definitions as Record<string, Schema>;
  return (definitions[typeName]!.properties as Record<string, unknown>)[property];
}

describe("AuthMode parity between v1 and v2", () => {
  const v1File = "v1/get-auth-status.json";
  const v2File = "v2/account-notifications.json";
  const v1Modes = stringValues(schemaProperty(v1File, "GetAuthStatusResponse", "authMethod"), v1File);
  const v2Modes = stringValues(schemaProperty(v2File, "AccountUpdatedNotification", "authMode"), v2File);

  it("the schemas reach the same values from getAuthStatus.authMethod and account/updated.authMode", () => {
    expect(v1Modes.size).toBeGreaterThan(0);
    expect([...v1Modes].sort()).toEqual([...v2Modes].sort());
    expect([...v1Modes].sort()).toEqual(["agentIdentity", "apikey", "chatgpt", "chatgptAuthTokens", "personalAccessToken"]);
  });

  it("the method table routes both through those types", () => {
    expect(methods.getAuthStatus.resultType).toBe("GetAuthStatusResponse");
    expect(methods["account/updated"].paramsType).toBe("AccountUpdatedNotification");
  });

  it("the generated validators accept exactly the same values in v1 and v2", () => {
    const candidates = [...v1Modes, "apiKey", "bedrockApiKey", "headers", "hostProvided", "personal_access_token", ""];
    for (const mode of candidates) {
      const v1 = validateGetAuthStatusResponse({ authMethod: mode, authToken: null, requiresOpenaiAuth: true });
      const v2 = validateAccountUpdatedNotification({ authMode: mode, planType: null });
      expect({ mode, accepted: v1 }).toEqual({ mode, accepted: v2 });
      expect({ mode, accepted: v1 }).toEqual({ mode, accepted: v1Modes.has(mode) });
    }
  });

  it("the generated types declare AuthMode once and v1/v2 import it", () => {
    const common = readFileSync("generated/protocol/common.ts", "utf8");
    const v1 = readFileSync("generated/protocol/v1.ts", "utf8");
    const v2 = readFileSync("generated/protocol/v2.ts", "utf8");
    expect(common).toMatch(/export type AuthMode =/);
    for (const versioned of [v1, v2]) {
      expect(versioned).not.toMatch(/export type AuthMode\b/);
      expect(versioned).toMatch(/import type \{[^}]*\bAuthMode\b[^}]*\} from "\.\/common\.js";/);
    }
    expect(common + v1 + v2).not.toMatch(/\b(AuthMode|PlanType)\d\b/);
    const union = /export type AuthMode =([^;]+);/.exec(common)![1]!;
    const generatedModes = [...union.matchAll(/"([^"]+)"/g)].map((m) => m[1]).sort();
    expect(generatedModes).toEqual([...v1Modes].sort());
  });
});
