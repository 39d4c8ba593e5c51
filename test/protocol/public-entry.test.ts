import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  methods,
  validateClientRequest,
  type AuthMode,
  type ClientRequestMethod,
  type ClientRequests,
  type GetAccountResponse,
  type LoginAccountParams,
  type ParamsArgs,
} from "codex-auth/protocol";

/** A downstream client's typed call, built only from the public protocol entry. */
function request<M extends ClientRequestMethod>(
  method: M,
  ...params: ParamsArgs<ClientRequests[M]["params"]>
): { message: unknown; result: Promise<ClientRequests[M]["result"]> } {
  const message = params.length ? { id: 1, method, params: params[0] } : { id: 1, method };
  return { message, result: new Promise(() => {}) };
}

describe("codex-auth/protocol (public entry)", () => {
  it("types a client call from the registry and the message validates at run time", () => {
    const login = request("account/login/start", { type: "apiKey", apiKey: "sk-example" });
    expectTypeOf(login.result).resolves.toEqualTypeOf<ClientRequests["account/login/start"]["result"]>();
    expect(validateClientRequest(login.message)).toBe(true);

    const read = request("account/read", { refreshToken: false });
    expectTypeOf(read.result).resolves.toEqualTypeOf<GetAccountResponse>();
    expect(validateClientRequest(read.message)).toBe(true);

    const logout = request("account/logout");
    expect(validateClientRequest(logout.message)).toBe(true);

    // Optional params: absent, null or an object.
    expect(validateClientRequest(request("account/rateLimits/read").message)).toBe(true);
    expect(validateClientRequest(request("account/rateLimits/read", { excludeResetCreditDetails: true }).message)).toBe(true);

    // @ts-expect-error apiKey is required for the apiKey variant
    const missing: LoginAccountParams = { type: "apiKey" };
    // @ts-expect-error there is no personalAccessToken login variant
    request("account/login/start", { type: "personalAccessToken" });
    // @ts-expect-error account/logout takes no params
    request("account/logout", {});
    // @ts-expect-error unknown method
    request("account/unknown", {});
    expect(validateClientRequest({ id: 1, method: "account/login/start", params: missing })).toBe(false);
  });

  it("exposes the method registry with directions and validators", () => {
    expect(methods["account/chatgptAuthTokens/refresh"]).toMatchObject({ direction: "serverToClient", kind: "request" });
    expect(methods["account/login/start"].experimentalVariants).toEqual(["chatgptAuthTokens"]);
    expectTypeOf<AuthMode>().toEqualTypeOf<"apikey" | "chatgpt" | "chatgptAuthTokens" | "agentIdentity" | "personalAccessToken">();
  });

  it("does not pull in Node built-ins, the CLI or the auth core", () => {
    const entry = path.resolve("dist/src/protocol/index.js");
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, "utf8");
      for (const match of source.matchAll(/(?:import|export)[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) {
        const specifier = (match[1] ?? match[2])!;
        expect(specifier, `${path.relative(process.cwd(), file)} imports ${specifier}`).not.toMatch(/^node:|^(fs|path|child_process|os|crypto|module)$/);
        if (specifier.startsWith(".")) visit(path.resolve(path.dirname(file), specifier));
        else expect(specifier, `${file} imports ${specifier}`).toMatch(/^ajv\//);
      }
    };
    visit(entry);
    expect([...seen].some((f) => f.includes("/src/auth/") || f.includes("/src/cli/"))).toBe(false);
    expect(seen.size).toBeGreaterThan(3);
  });
});

describe("codex-auth (package root)", () => {
  it("exports the protocol and the typed client", async () => {
    const root = await import("codex-auth");
    expect(typeof root.AppServerClient).toBe("function");
    expect(typeof root.validateClientRequest).toBe("function");
    expect(root.methods["account/read"].kind).toBe("request");
  });
});
