/** The checker on our own contract: the bundle the codegen writes, and changes made to it. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bundleProtocolSchemas } from "../../scripts/codegen/bundle.js";
import { diffBundles } from "../../src/compat/index.js";

const REPO = path.resolve(import.meta.dirname, "../..");

describe("our bundle", () => {
  let bundle: Record<string, any>;
  beforeAll(async () => {
    bundle = await bundleProtocolSchemas(path.join(REPO, "schemas"));
  });

  it("the committed generated bundle and schemas/ describe the same contract", () => {
    const committed = JSON.parse(readFileSync(path.join(REPO, "generated/protocol/protocol.schemas.json"), "utf8"));
    expect(diffBundles(committed, bundle).findings).toEqual([]);
  });

  it("an AuthMode value added is breaking for every server→client message that carries it", () => {
    const changed = structuredClone(bundle);
    changed.definitions.AuthMode.enum.push("bedrockApiKey");
    const { findings } = diffBundles(bundle, changed);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      rule: "enum-value-added",
      severity: "breaking",
      direction: "serverToClient",
      pointer: `/definitions/AuthMode/enum/${changed.definitions.AuthMode.enum.length - 1}`,
      details: { value: "bedrockApiKey" },
    });
    expect(findings[0]!.methods).toContain("account/updated");
  });

  it("account/login/start's experimental chatgptAuthTokens variant carries no promise; the others do", () => {
    const withoutVariant = (title: string) => {
      const changed = structuredClone(bundle);
      const params = changed.definitions.LoginAccountParams;
      params.oneOf = params.oneOf.filter((branch: { $ref: string }) => branch.$ref !== `#/definitions/${title}`);
      return diffBundles(bundle, changed).findings.filter((f) => f.rule === "variant-removed" && f.method === "account/login/start");
    };
    expect(withoutVariant("ChatgptAuthTokensLoginAccountParams")).toEqual([
      expect.objectContaining({ severity: "non-breaking", details: expect.objectContaining({ variant: "chatgptAuthTokens", experimentalOnly: true }) }),
    ]);
    expect(withoutVariant("ApiKeyLoginAccountParams")).toEqual([expect.objectContaining({ severity: "breaking", details: expect.objectContaining({ variant: "apiKey" }) })]);
  });
});
