import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AppServerClient } from "../../src/client/index.js";
import { startDevServer, type DevServer } from "../../src/dev-server/index.js";

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../dist/src/cli/main.js");

/**
 * The app-server part of `npm run demo`: a parent app spawns `codex-auth app-server`, logs in with
 * its own ChatGPT tokens (`chatgptAuthTokens`), reads usage, the backend answers 401 (the tokens
 * were revoked), the server asks the parent app for new tokens, the demo's refresh handler mints
 * them, and the read succeeds. Tokens are shown only as short fingerprints.
 *
 * Needs a build (`npm run build`). `scripts/demo.ts` runs it; test/e2e/app-server-demo.test.ts keeps it working.
 */
export interface AppServerDemoOptions {
  log(line: string): void;
  /** Use this dev server instead of starting one. */
  devServer?: DevServer;
}

export interface AppServerDemoResult {
  refreshRequests: number;
  usedPercent: number | null;
}

const fingerprint = (token: string) => `token#${createHash("sha256").update(token).digest("hex").slice(0, 8)}`;

export async function runAppServerDemo(options: AppServerDemoOptions): Promise<AppServerDemoResult> {
  const { log } = options;
  const dev = options.devServer ?? (await startDevServer());
  const home = mkdtempSync(path.join(tmpdir(), "codex-auth-demo-app-server-"));
  const client = AppServerClient.spawn(process.execPath, [CLI, "app-server", ...dev.configOverrides()], {
    env: { ...process.env, ...dev.env(), CODEX_HOME: home, CODEX_ACCESS_TOKEN: "", CODEX_API_KEY: "" },
    stderr: "ignore",
  });
  let refreshRequests = 0;
  try {
    log(`app-server: spawned \`codex-auth app-server\` (CODEX_HOME ${path.basename(home)}, backend ${dev.chatgptBaseUrl})`);
    const init = await client.initialize({ clientInfo: { name: "demo_parent_app", title: "Demo parent app", version: "1.0.0" }, capabilities: { experimentalApi: true } });
    log(`app-server: initialized as ${init.userAgent}`);
    client.on("account/login/completed", (params) => log(`app-server: <- account/login/completed success=${params.success}`));
    client.on("account/updated", (params) => log(`app-server: <- account/updated authMode=${params.authMode} planType=${params.planType}`));

    const first = dev.issueTokens({ accountId: "acct-demo" });
    log(`parent app: logging in with its own ChatGPT tokens (${fingerprint(first.accessToken)}, workspace acct-demo)`);
    await client.request("account/login/start", { type: "chatgptAuthTokens", accessToken: first.accessToken, chatgptAccountId: "acct-demo", chatgptPlanType: "plus" });
    const account = await client.request("account/read", {});
    log(`app-server: account/read -> ${JSON.stringify(account.account)}`);

    client.onServerRequest("account/chatgptAuthTokens/refresh", (params) => {
      refreshRequests++;
      const fresh = dev.issueTokens({ accountId: "acct-demo" });
      log(`parent app: server asked for new tokens (reason=${params.reason}, previousAccountId=${params.previousAccountId}); answering with ${fingerprint(fresh.accessToken)}`);
      return { accessToken: fresh.accessToken, chatgptAccountId: "acct-demo", chatgptPlanType: "plus" };
    });
    dev.backend.revokeBearer(first.accessToken);
    log(`dev server: revoked ${fingerprint(first.accessToken)}: the next usage read gets a 401`);

    const limits = await client.request("account/rateLimits/read");
    const primary = limits.rateLimits.primary;
    log(
      `app-server: account/rateLimits/read -> plan ${limits.rateLimits.planType}, ${primary ? `${primary.usedPercent}% of a ${primary.windowDurationMins}-minute window used` : "no window"} (after ${refreshRequests} refresh request)`,
    );
    const status = await client.request("getAuthStatus", {});
    log(`app-server: getAuthStatus -> authMethod=${status.authMethod} (tokens stay in the server's memory only)`);
    await client.request("account/logout");
    log("app-server: logged out; external tokens cleared");
    return { refreshRequests, usedPercent: primary?.usedPercent ?? null };
  } finally {
    await client.close();
    rmSync(home, { recursive: true, force: true });
    if (!options.devServer) await dev.close();
  }
}
