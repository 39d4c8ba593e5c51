import { readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterEach } from "vitest";
import type { AuthDotJson } from "../../../generated/storage/auth-json.js";
import type { IssuedTokens } from "../../../src/dev-server/index.js";
import { tempDir, type TempDir } from "../../support/cli-process.js";

/**
 * Helpers for the ChatGPT login tests: temp CODEX_HOMEs, auth.json files made from dev-server
 * tokens, a browser stand-in that follows the issuer's redirect to our callback server, and a
 * small recording HTTP server for checking exact request bodies. All real sockets and files.
 */

const homes: TempDir[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const home of homes.splice(0)) home.remove();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

export function tempHome(): string {
  const home = tempDir("codex-auth-chatgpt-");
  homes.push(home);
  return home.dir;
}

export function authPath(home: string): string {
  return path.join(home, "auth.json");
}

export function readAuth(home: string): AuthDotJson {
  return JSON.parse(readFileSync(authPath(home), "utf8")) as AuthDotJson;
}

export function fileMode(file: string): number {
  return statSync(file).mode & 0o777;
}

/** A managed ChatGPT auth.json from minted tokens, written as Codex would. */
export function chatgptAuth(tokens: IssuedTokens, lastRefresh = new Date().toISOString()): AuthDotJson {
  return {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: { id_token: tokens.idToken, access_token: tokens.accessToken, refresh_token: tokens.refreshToken, account_id: tokens.account.accountId },
    last_refresh: lastRefresh,
  };
}

export function writeAuth(home: string, auth: AuthDotJson): void {
  writeFileSync(authPath(home), JSON.stringify(auth, null, 2), { mode: 0o600 });
}

export interface BrowserVisit {
  /** The issuer's redirect to our callback (with code/state or error). */
  callbackUrl: string;
  callback: { status: number; headers: Headers; text: string };
  success?: { status: number; headers: Headers; text: string };
}

/** What a browser does with the authorize URL when the issuer answers at once (dev server "approve"/"deny" mode). */
export async function visitAuthorizeUrl(authUrl: string, options: { followSuccess?: boolean } = {}): Promise<BrowserVisit> {
  const authorize = await fetch(authUrl, { redirect: "manual" });
  await authorize.arrayBuffer();
  const callbackUrl = authorize.headers.get("location");
  if (authorize.status !== 302 || !callbackUrl) throw new Error(`authorize answered ${authorize.status}`);
  return followCallback(callbackUrl, options);
}

export async function followCallback(callbackUrl: string, options: { followSuccess?: boolean } = {}): Promise<BrowserVisit> {
  const response = await fetch(callbackUrl, { redirect: "manual" });
  const visit: BrowserVisit = { callbackUrl, callback: { status: response.status, headers: response.headers, text: await response.text() } };
  const location = response.headers.get("location");
  if (location && options.followSuccess !== false) {
    const success = await fetch(new URL(location, callbackUrl), { redirect: "manual" });
    visit.success = { status: success.status, headers: success.headers, text: await success.text() };
  }
  return visit;
}

/** The authorize page's Approve/Deny form (dev server "page" mode), submitted like a browser would. */
export async function submitAuthorizePage(issuerUrl: string, authUrl: string, decision: "approve" | "deny"): Promise<string> {
  const page = await fetch(authUrl);
  const html = await page.text();
  const requestId = /name="request_id" value="([^"]+)"/.exec(html)?.[1];
  const accountId = /name="account_id" value="([^"]*)"/.exec(html)?.[1] ?? "";
  if (!requestId) throw new Error("no request_id on the authorize page");
  const answer = await fetch(`${issuerUrl}/oauth/authorize/decision`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ request_id: requestId, account_id: accountId, decision }).toString(),
    redirect: "manual",
  });
  await answer.arrayBuffer();
  const location = answer.headers.get("location");
  if (!location) throw new Error(`the decision answered ${answer.status}`);
  return location;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface RecordingServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
}

/** A real HTTP server that records each request and answers with `reply` (to check exact bodies and odd answers). */
export async function recordingServer(
  reply: (request: RecordedRequest, response: ServerResponse) => void = (_request, response) => {
    response.writeHead(200).end();
  },
): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const recorded = { method: request.method ?? "", url: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks).toString("utf8") };
      requests.push(recorded);
      reply(recorded, response);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, requests };
}

export function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) }).end(text);
}

/** A port that was free a moment ago (for tests that must name a port before binding it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
