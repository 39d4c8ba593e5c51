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

  it("codex-auth/connection is the same connection without the Node-only client; codex-auth/dev-server starts the emulator in-process", async () => {
    const connection = (await import("codex-auth/connection" as string)) as Record<string, unknown>;
    const client = (await import("codex-auth/client" as string)) as Record<string, unknown>;
    expect(connection.AppServerConnection).toBe(client.AppServerConnection);
    expect(connection.AppServerError).toBe(client.AppServerError);
    expect(connection.AppServerClient).toBeUndefined();
    const { startDevServer } = (await import("codex-auth/dev-server" as string)) as typeof import("../../src/dev-server/index.js");
    const dev = await startDevServer();
    try {
      expect(Object.keys(dev.env()).sort()).toEqual(["CODEX_AUTHAPI_BASE_URL", "CODEX_AUTH_ISSUER", "CODEX_REFRESH_TOKEN_URL_OVERRIDE", "CODEX_REVOKE_TOKEN_URL_OVERRIDE"]);
      const response = await fetch(`${dev.authApiBaseUrl}/v1/user-auth-credential/whoami`, { headers: { authorization: "Bearer at-demo-revoked" } });
      expect(response.status).toBe(401);
    } finally {
      await dev.close();
    }
  });

  it("keeps the stream-wrapping core free of Node imports (only the spawn helper uses them)", () => {
    for (const file of ["connection", "connection-entry", "streams", "errors"]) {
      const source = readFileSync(path.resolve("src/client", `${file}.ts`), "utf8");
      const imports = [...source.matchAll(/from\s+"([^"]+)"/g)].map((match) => match[1]);
      expect(imports.filter((specifier) => !specifier!.startsWith("../protocol/") && !specifier!.startsWith("./")), file).toEqual([]);
      expect(imports.filter((specifier) => specifier!.startsWith("./") && !["./errors.js", "./streams.js", "./connection.js"].includes(specifier!)), file).toEqual([]);
    }
  });
});
