import { existsSync } from "node:fs";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ChatgptLoginError } from "../../../src/auth/chatgpt/errors.js";
import { loginPorts, startChatgptLogin, type ChatgptLoginHandle, type ChatgptLoginServerOptions } from "../../../src/auth/chatgpt/login-server.js";
import { ENTITLEMENT_MESSAGE } from "../../../src/auth/chatgpt/pages.js";
import { FileAuthStore } from "../../../src/auth/store/file-store.js";
import type { DevServer } from "../../../src/dev-server/index.js";
import { start } from "../../dev-server/support.js";
import { CapturedStreams } from "../../support/secrets.js";
import { agentIdentityJwt } from "../jwt.js";
import {
  authPath,
  fileMode,
  followCallback,
  freePort,
  json,
  readAuth,
  recordingServer,
  submitAuthorizePage,
  tempHome,
  visitAuthorizeUrl,
} from "./support.js";

const handles: ChatgptLoginHandle[] = [];
const blockers: TcpServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const handle of handles.splice(0)) handle.cancel();
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const blocker of blockers.splice(0)) await new Promise<void>((resolve) => blocker.close(() => resolve()));
});

/** A TCP listener that accepts connections and never answers (a port held by something else). */
async function holdPort(port: number, onData: (line: string) => void = () => {}): Promise<void> {
  const blocker = createTcpServer((socket) => {
    sockets.push(socket);
    socket.on("data", (data) => onData(data.toString("utf8").split("\r\n")[0]!));
  });
  blockers.push(blocker);
  await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
}

async function login(server: DevServer | { issuerUrl: string }, home: string, options: Partial<ChatgptLoginServerOptions> = {}): Promise<ChatgptLoginHandle> {
  const store = new FileAuthStore(home);
  const handle = await startChatgptLogin({ issuer: server.issuerUrl, port: 0, persist: (auth) => store.save(auth), ...options });
  handles.push(handle);
  return handle;
}

async function failure(promise: Promise<unknown>): Promise<ChatgptLoginError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ChatgptLoginError);
    return error as ChatgptLoginError;
  }
  throw new Error("expected the login to fail");
}

function stateOf(authUrl: string): string {
  return new URL(authUrl).searchParams.get("state")!;
}

describe("browser login: the local callback server", () => {
  it("signs in end to end: exchange, API-key exchange, auth.json (0600), 302 to /success, success page", async () => {
    const { server } = await start();
    server.setAuthorizeMode("approve");
    const home = tempHome();
    const handle = await login(server, home);
    expect(handle.redirectUri).toBe(`http://127.0.0.1:${handle.port}/auth/callback`);
    expect(new URL(handle.authUrl).searchParams.get("redirect_uri")).toBe(handle.redirectUri);

    const visit = await visitAuthorizeUrl(handle.authUrl);
    expect(visit.callback.status).toBe(302);
    expect(visit.callback.headers.get("location")).toBe(`http://127.0.0.1:${handle.port}/success`);
    expect(visit.callback.headers.get("connection")).toBe("close");
    expect(visit.success?.status).toBe(200);
    expect(visit.success?.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(visit.success?.text).toContain("Signed in to Codex");

    const result = await handle.done;
    expect(result).toEqual({ accountId: "acct-demo", userId: "user-demo", email: "demo@example.com", planType: "plus", isFedramp: false, apiKeyExchanged: true });
    const auth = readAuth(home);
    expect(Object.keys(auth)).toEqual(["auth_mode", "OPENAI_API_KEY", "tokens", "last_refresh"]);
    expect(auth.auth_mode).toBe("chatgpt");
    expect(auth.OPENAI_API_KEY).toMatch(/^sk-dev-/);
    expect(Object.keys(auth.tokens!)).toEqual(["id_token", "access_token", "refresh_token", "oauth_provenance", "login_owner_id", "account_id"]);
    expect(auth.tokens!.account_id).toBe("acct-demo");
    expect(auth.last_refresh).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z$/);
    expect(fileMode(authPath(home))).toBe(0o600);
    expect(server.count("POST", "/oauth/token")).toBe(2);

    // The server is gone once the login is done.
    await expect(fetch(`http://127.0.0.1:${handle.port}/success`)).rejects.toThrow();

    const streams = new CapturedStreams();
    streams.add("authUrl", handle.authUrl);
    streams.add("callback", `${visit.callbackUrl.replace(/code=[^&]*/, "")} ${JSON.stringify([...visit.callback.headers])} ${visit.callback.text}`);
    streams.add("success", visit.success!.text);
    streams.add("result", JSON.stringify(result));
    streams.assertNoSecrets([auth.tokens!.id_token, auth.tokens!.access_token, auth.tokens!.refresh_token, auth.OPENAI_API_KEY!]);
  });

  it("works through the authorize page's form (a person clicking Approve)", async () => {
    const { server } = await start();
    const home = tempHome();
    const handle = await login(server, home);
    const callbackUrl = await submitAuthorizePage(server.issuerUrl, handle.authUrl, "approve");
    await followCallback(callbackUrl);
    await expect(handle.done).resolves.toMatchObject({ accountId: "acct-demo" });
    expect(readAuth(home).tokens?.account_id).toBe("acct-demo");
  });

  it("answers a state mismatch with a plain 400 and keeps waiting", async () => {
    const { server } = await start();
    server.setAuthorizeMode("approve");
    const home = tempHome();
    const handle = await login(server, home);
    const wrong = await fetch(`${handle.redirectUri}?code=forged&state=not-the-state`);
    expect(wrong.status).toBe(400);
    expect(wrong.headers.get("content-type")).toBe("text/plain; charset=UTF-8");
    expect(await wrong.text()).toBe("State mismatch");
    expect(server.count("POST", "/oauth/token")).toBe(0);

    await visitAuthorizeUrl(handle.authUrl);
    await expect(handle.done).resolves.toMatchObject({ accountId: "acct-demo" });
  });

  it("shows the issuer's refusal and fails the login (deny)", async () => {
    const { server } = await start();
    server.setAuthorizeMode("deny");
    const home = tempHome();
    const handle = await login(server, home);
    const visit = await visitAuthorizeUrl(handle.authUrl);
    expect(visit.callback.status).toBe(200);
    expect(visit.callback.headers.get("connection")).toBe("close");
    expect(visit.callback.text).toContain("<title>Codex Sign-in Error</title>");
    expect(visit.callback.text).toContain("Sign-in failed: The user denied the sign-in request.");
    expect(visit.callback.text).toContain("<code>access_denied</code>");
    const error = await failure(handle.done);
    expect(error).toMatchObject({ code: "ACCESS_DENIED", message: "Sign-in failed: The user denied the sign-in request." });
    expect(existsSync(authPath(home))).toBe(false);
  });

  it("explains a missing Codex entitlement", async () => {
    const { server } = await start();
    const handle = await login(server, tempHome());
    const visit = await followCallback(
      `${handle.redirectUri}?error=access_denied&error_description=missing_codex_entitlement&state=${stateOf(handle.authUrl)}`,
    );
    expect(visit.callback.text).toContain("You do not have access to Codex");
    expect(visit.callback.text).toContain(ENTITLEMENT_MESSAGE);
    const error = await failure(handle.done);
    expect(error.message).toBe("Codex is not enabled for your workspace. Contact your workspace administrator to request access to Codex.");
  });

  it("uses the error code when there is no description, and escapes what the issuer sent", async () => {
    const { server } = await start();
    const handle = await login(server, tempHome());
    const visit = await followCallback(`${handle.redirectUri}?error=%3Cscript%3Ex%3C%2Fscript%3E&state=${stateOf(handle.authUrl)}`);
    expect(visit.callback.text).not.toContain("<script>x");
    expect(visit.callback.text).toContain("&lt;script&gt;x&lt;/script&gt;");
    expect((await failure(handle.done)).message).toBe("Sign-in failed: <script>x</script>");
  });

  it("fails on a callback without a code", async () => {
    const { server } = await start();
    const handle = await login(server, tempHome());
    const visit = await followCallback(`${handle.redirectUri}?state=${stateOf(handle.authUrl)}`);
    expect(visit.callback.text).toContain("<code>missing_authorization_code</code>");
    expect(await failure(handle.done)).toMatchObject({ code: "MISSING_CODE", message: "Missing authorization code. Sign-in could not be completed." });
  });

  it("enforces forced_chatgpt_workspace_id before saving: one allowed_workspace_id parameter, page and message", async () => {
    const { server } = await start();
    server.setAuthorizeMode("approve");
    const home = tempHome();
    const handle = await login(server, home, { forcedWorkspaceIds: ["ws-1", "ws-2"] });
    expect(new URL(handle.authUrl).searchParams.getAll("allowed_workspace_id")).toEqual(["ws-1,ws-2"]);
    const visit = await visitAuthorizeUrl(handle.authUrl);
    expect(visit.callback.text).toContain("Login is restricted to workspace id(s) ws-1, ws-2.");
    expect(visit.callback.text).toContain("<code>workspace_restriction</code>");
    expect(await failure(handle.done)).toMatchObject({ code: "WORKSPACE_RESTRICTED", message: "Login is restricted to workspace id(s) ws-1, ws-2." });
    expect(existsSync(authPath(home))).toBe(false);
    // No API-key exchange for a refused account.
    expect(server.count("POST", "/oauth/token")).toBe(1);
  });

  it("accepts any listed workspace", async () => {
    const { server } = await start();
    server.setAuthorizeMode("approve");
    server.setNextAccount({ accountId: "ws-2" });
    const home = tempHome();
    const handle = await login(server, home, { forcedWorkspaceIds: ["ws-1", "ws-2"] });
    await visitAuthorizeUrl(handle.authUrl);
    await expect(handle.done).resolves.toMatchObject({ accountId: "ws-2" });
    expect(readAuth(home).tokens?.account_id).toBe("ws-2");
  });

  it("refuses a restricted login whose id_token has no account claim", async () => {
    const idToken = agentIdentityJwt({ email: "x@y.z" });
    const issuer = await recordingServer((_request, response) => json(response, 200, { id_token: idToken, access_token: "at", refresh_token: "rt" }));
    const home = tempHome();
    const handle = await login({ issuerUrl: issuer.url }, home, { forcedWorkspaceIds: ["ws-1"] });
    await followCallback(`${handle.redirectUri}?code=c&state=${stateOf(handle.authUrl)}`);
    expect((await failure(handle.done)).message).toBe(
      "Login is restricted to a specific workspace, but the token did not include an chatgpt_account_id claim.",
    );
    expect(existsSync(authPath(home))).toBe(false);
  });

  it("reports a failed code exchange as Codex does", async () => {
    const { server } = await start();
    server.setAuthorizeMode("approve");
    server.failNext("/oauth/token", 500);
    const handle = await login(server, tempHome());
    const visit = await visitAuthorizeUrl(handle.authUrl);
    expect(visit.callback.text).toContain("<code>token_exchange_failed</code>");
    const error = await failure(handle.done);
    expect(error.code).toBe("TOKEN_EXCHANGE_FAILED");
    expect(error.message).toMatch(/^Token exchange failed: token endpoint returned status 500 Internal Server Error: /);
  });

  it("still logs in when the API-key exchange fails (OPENAI_API_KEY null)", async () => {
    const { server } = await start();
    server.setAuthorizeMode("approve");
    server.failApiKeyExchange(500);
    const home = tempHome();
    const handle = await login(server, home);
    await visitAuthorizeUrl(handle.authUrl);
    await expect(handle.done).resolves.toMatchObject({ apiKeyExchanged: false });
    expect(readAuth(home).OPENAI_API_KEY).toBeNull();
  });

  it("shows the persist failure page when the credential cannot be saved", async () => {
    const { server } = await start();
    server.setAuthorizeMode("approve");
    const handle = await login(server, tempHome(), {
      persist: async () => {
        throw new Error("disk full");
      },
    });
    const visit = await visitAuthorizeUrl(handle.authUrl);
    expect(visit.callback.text).toContain("Sign-in completed but credentials could not be saved locally.");
    expect(visit.callback.text).toContain("<code>persist_failed</code>");
    expect(await failure(handle.done)).toMatchObject({ code: "PERSIST_FAILED", message: "disk full" });
  });

  it("cancel() ends the wait with `Login was not completed` and frees the port", async () => {
    const { server } = await start();
    const handle = await login(server, tempHome());
    handle.cancel();
    expect(await failure(handle.done)).toMatchObject({ code: "CANCELLED", message: "Login was not completed" });
    await expect(fetch(`${handle.redirectUri}?state=x`)).rejects.toThrow();
  });

  it("an AbortSignal and a timeout end it the same way", async () => {
    const { server } = await start();
    const controller = new AbortController();
    const aborted = await login(server, tempHome(), { signal: controller.signal });
    controller.abort();
    expect(await failure(aborted.done)).toMatchObject({ code: "CANCELLED", message: "Login was not completed" });
    const timed = await login(server, tempHome(), { timeoutMs: 20 });
    expect(await failure(timed.done)).toMatchObject({ code: "TIMED_OUT", message: "Login was not completed" });
  });

  it("GET /cancel answers `Login cancelled` and ends the login; /success before sign-in and other paths are 404", async () => {
    const { server } = await start();
    const handle = await login(server, tempHome());
    const early = await fetch(`http://127.0.0.1:${handle.port}/success`);
    expect([early.status, await early.text()]).toEqual([404, "Not Found"]);
    const other = await fetch(`http://127.0.0.1:${handle.port}/favicon.ico`);
    expect([other.status, await other.text()]).toEqual([404, "Not Found"]);
    const cancel = await fetch(`http://127.0.0.1:${handle.port}/cancel`);
    expect([cancel.status, cancel.headers.get("connection"), await cancel.text()]).toEqual([200, "close", "Login cancelled"]);
    expect(await failure(handle.done)).toMatchObject({ code: "CANCELLED", message: "Login cancelled" });
  });

  it("reports success for a cancel that comes after the credential was saved", async () => {
    const { server } = await start();
    server.setAuthorizeMode("approve");
    const handle = await login(server, tempHome(), { successGraceMs: 60_000 });
    await visitAuthorizeUrl(handle.authUrl, { followSuccess: false });
    handle.cancel();
    await expect(handle.done).resolves.toMatchObject({ accountId: "acct-demo" });
  });

  it("finishes after a grace period when the browser does not load /success (the credential is saved)", async () => {
    const { server } = await start();
    server.setAuthorizeMode("approve");
    const home = tempHome();
    const handle = await login(server, home, { successGraceMs: 10 });
    await visitAuthorizeUrl(handle.authUrl, { followSuccess: false });
    await expect(handle.done).resolves.toMatchObject({ accountId: "acct-demo" });
    expect(readAuth(home).auth_mode).toBe("chatgpt");
  });
});

describe("browser login: the callback port", () => {
  it("uses 1455 then 1457 by default; an explicit port has no fallback unless given", () => {
    expect(loginPorts({})).toEqual({ preferredPort: 1455, fallbackPort: 1457 });
    expect(loginPorts({ port: 1455 })).toEqual({ preferredPort: 1455, fallbackPort: 1457 });
    expect(loginPorts({ port: 0 })).toEqual({ preferredPort: 0, fallbackPort: null });
    expect(loginPorts({ port: 4000, fallbackPort: 4001 })).toEqual({ preferredPort: 4000, fallbackPort: 4001 });
    expect(loginPorts({ fallbackPort: null })).toEqual({ preferredPort: 1455, fallbackPort: null });
  });

  it("cancels an earlier login that holds the port and takes the port over", async () => {
    const { server } = await start();
    const port = await freePort();
    const first = await login(server, tempHome(), { port });
    const second = await login(server, tempHome(), { port, busyPort: { retryDelayMs: 20 } });
    expect(second.port).toBe(port);
    expect(await failure(first.done)).toMatchObject({ code: "CANCELLED", message: "Login cancelled" });
  });

  it("falls back when the holder does not give the port up (one GET /cancel, then retries)", async () => {
    const { server } = await start();
    const [busy, fallback] = [await freePort(), await freePort()];
    const seen: string[] = [];
    await holdPort(busy, (line) => seen.push(line));

    const handle = await login(server, tempHome(), { port: busy, fallbackPort: fallback, busyPort: { cancelTimeoutMs: 200, retryDelayMs: 10, retries: 3 } });
    expect(handle.port).toBe(fallback);
    expect(handle.redirectUri).toBe(`http://127.0.0.1:${fallback}/auth/callback`);
    expect(seen).toEqual(["GET /cancel HTTP/1.1"]);
  });

  it("fails with Codex's message when the fallback is busy too", async () => {
    const { server } = await start();
    const [busy, fallback] = [await freePort(), await freePort()];
    await holdPort(busy);
    await holdPort(fallback);
    const error = await failure(login(server, tempHome(), { port: busy, fallbackPort: fallback, busyPort: { cancelTimeoutMs: 100, retryDelayMs: 5, retries: 2 } }));
    expect(error).toMatchObject({ code: "PORT_IN_USE", message: `Port 127.0.0.1:${fallback} is already in use` });
  });
});
