import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CODEX_VERSION } from "../../support/codex-reference.js";
import { Bench, CELL_MS, login, readAuthFile, startAppServer, status, STORES, TOOLS, type Tool, useBench } from "./support.js";

/**
 * One ChatGPT login refreshed by both tools in turn, offline against the dev-server: Codex's
 * refresh (app-server `account/read {refreshToken: true}`, which also runs its workspace routing
 * discovery, `GET wham/accounts/check`) and codex-auth's, each spending the refresh token the other
 * wrote. The members Codex adds (`oauth_provenance`, `login_owner_id`) survive every rewrite, and
 * nothing either tool asks for in login, refresh or status is missing from the dev-server.
 * (Both refreshing at once, under the shared locks, is test/e2e/beside-codex-locks.test.ts.)
 */
const FILE = STORES[0]!;

describe(`refresh beside Codex ${CODEX_VERSION}`, { timeout: CELL_MS }, () => {
  let bench: Bench;
  useBench({ secretService: false, checks: "contract" }, (started) => (bench = started));

  async function refresh(tool: Tool, home: string) {
    const server = startAppServer(tool, bench.config(FILE), bench.env(FILE, home));
    try {
      return await server.request("account/read", { refreshToken: true });
    } finally {
      await server.close();
    }
  }

  it.each(TOOLS)("a device-code login written by %s: Codex refreshes, codex-auth refreshes, Codex refreshes again", async (writer) => {
    const home = bench.home();
    const refreshesBefore = bench.dev.count("POST", "/oauth/token");
    expect((await login(bench, writer, "deviceCode", FILE, home)).code).toBe(0);
    const written = readAuthFile(home)!;
    const { oauth_provenance, login_owner_id } = written.tokens!;
    expect(oauth_provenance).toEqual({ issuer: bench.dev.issuerUrl, client_id: expect.any(String) });

    let previous = written;
    for (const tool of ["codex", "codex-auth", "codex"] as const) {
      const read = await refresh(tool, home);
      expect(read.error, `${tool}: ${JSON.stringify(read.error)}`).toBeUndefined();
      expect(read.result).toMatchObject({ account: { type: "chatgpt", email: "demo@example.com", planType: "plus" } });
      const now = readAuthFile(home)!;
      expect(now.tokens!.refresh_token, `${tool} rotated the refresh token`).not.toBe(previous.tokens!.refresh_token);
      expect(now.tokens).toMatchObject({ oauth_provenance, login_owner_id, account_id: "acct-demo" });
      previous = now;
    }
    for (const tool of TOOLS) expect((await status(bench, tool, FILE, home)).stderr).toBe("Logged in using ChatGPT\n");

    // Three refreshes plus the login's code exchange, every one accepted (none reused).
    const tokenRequests = bench.dev.requests.filter((request) => request.path === "/oauth/token").slice(refreshesBefore);
    expect(tokenRequests.map((request) => [request.grantType, request.status])).toEqual([
      ["authorization_code", 200],
      ["refresh_token", 200],
      ["refresh_token", 200],
      ["refresh_token", 200],
    ]);
    // Codex's workspace routing discovery was answered.
    expect(bench.dev.requests.some((request) => request.path === "/backend-api/wham/accounts/check" && request.status === 200)).toBe(true);
  });

  it("no request of either tool in login, refresh or status is unknown to the dev-server", () => {
    expect(bench.unknownRequests()).toEqual([]);
  });
});
