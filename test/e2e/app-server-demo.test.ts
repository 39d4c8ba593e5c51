import { describe, expect, it } from "vitest";
import { runAppServerDemo } from "../../scripts/demo/app-server-session.js";

/** The app-server session of `npm run demo` keeps working (and prints no token). */
describe("app-server demo session", () => {
  it("logs in with external tokens, survives a 401 through one refresh, and reads usage", async () => {
    const lines: string[] = [];
    const result = await runAppServerDemo({ log: (line) => lines.push(line) });
    expect(result.refreshRequests).toBe(1);
    expect(result.usedPercent).toEqual(expect.any(Number));
    expect(lines.some((line) => line.includes("server asked for new tokens (reason=unauthorized, previousAccountId=acct-demo)"))).toBe(true);
    expect(lines.some((line) => line.startsWith("app-server: account/rateLimits/read -> plan plus"))).toBe(true);
    expect(lines.join("\n")).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
  });
});
