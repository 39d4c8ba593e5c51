import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/** `codex-auth/client` as a consumer gets it (the package's own `exports`, from dist/). */
describe("codex-auth/client", () => {
  it("exports the client, the connection and the error classes", async () => {
    const entry = (await import("codex-auth/client" as string)) as Record<string, unknown>;
    for (const name of ["AppServerClient", "AppServerConnection", "AppServerError", "AppServerProtocolError", "AppServerClosedError", "AppServerTimeoutError"]) {
      expect(typeof entry[name], name).toBe("function");
    }
  });

  it("keeps the stream-wrapping core free of Node imports (only the spawn helper uses them)", () => {
    for (const file of ["connection", "streams", "errors"]) {
      const source = readFileSync(path.resolve("src/client", `${file}.ts`), "utf8");
      const imports = [...source.matchAll(/from\s+"([^"]+)"/g)].map((match) => match[1]);
      expect(imports.filter((specifier) => !specifier!.startsWith("../protocol/") && !specifier!.startsWith("./")), file).toEqual([]);
      expect(imports.filter((specifier) => specifier!.startsWith("./") && !["./errors.js", "./streams.js"].includes(specifier!)), file).toEqual([]);
    }
  });
});
