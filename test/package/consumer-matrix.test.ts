import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Readable, Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appServerArgv } from "../support/app-server-process.js";
import { BIN, DEADLINE_MS, linkNodeTypes, npm, ok, onlyFile, ROOT, run, scratchDir, writeTree } from "./consumer.js";

/**
 * The consumer matrix (issue #14): the tarball `npm pack` makes, installed as a downstream app
 * installs it, then used from an ESM NodeNext project (strict, exactOptionalPropertyTypes,
 * skipLibCheck false), a CommonJS project with node16 types, and browser bundles of the
 * connection and of the protocol; attw and publint on the tarball. The install from a git
 * checkout is in git-install.test.ts.
 */

const STRICT = { strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: false, target: "ES2022" };

const ESM_APP = `
import { AppServerClient, AppServerError, type ExitStatus } from "codex-auth/client";
import { ErrorCode, validateGetAccountResponse, type AuthMode, type GetAccountResponse } from "codex-auth/protocol";
import { startDevServer } from "codex-auth/dev-server";

/** An exhaustive switch: a new AuthMode in the package is a compile error here. */
function label(mode: AuthMode): string {
  switch (mode) {
    case "apikey": return "API key";
    case "chatgpt": return "ChatGPT";
    case "chatgptAuthTokens": return "external ChatGPT tokens";
    case "agentIdentity": return "agent identity";
    case "personalAccessToken": return "personal access token";
    default: {
      const unhandled: never = mode;
      return unhandled;
    }
  }
}

const dev = await startDevServer();
// No PATH: spawn() runs the package's own server through process.execPath.
const env = { ...dev.env(), CODEX_HOME: process.argv[2] ?? "", PATH: "" };
const client = AppServerClient.spawn({ env, stderr: "ignore", requestTimeoutMs: 30_000 });
const init = await client.initialize({ clientInfo: { name: "consumer_esm", version: "1.0.0" }, capabilities: { experimentalApi: true, capabilityFromANewerCodex: true } });
const before: GetAccountResponse = await client.request("account/read", {});
const updated = client.nextNotification("account/updated", { timeoutMs: 30_000 });
await client.request("account/login/start", { type: "apiKey", apiKey: "sk-consumer-esm-0123456789" });
const mode = (await updated).authMode;
let untyped: unknown;
try {
  await client.sendRequest("model/list", {});
} catch (error) {
  untyped = error instanceof AppServerError ? error.code : String(error);
}
const after: unknown = await client.request("account/read", { refreshToken: false });
await client.request("account/logout");
const exit: ExitStatus | null = await client.close();
await dev.close();
console.log(JSON.stringify({
  userAgent: init.userAgent.split("/")[0],
  before: before.account,
  mode: mode === null ? null : label(mode),
  untyped,
  invalidRequest: ErrorCode.InvalidRequest,
  after: validateGetAccountResponse(after) ? after.account : "invalid",
  exit,
}));
`;

const CJS_APP = `
import { AppServerClient } from "codex-auth/client";
import { METHOD_NOT_FOUND, validateGetAuthStatusResponse } from "codex-auth/protocol";
import type { AuthMode } from "codex-auth/protocol";

async function main(): Promise<void> {
  const client = AppServerClient.spawn({ env: { CODEX_HOME: process.argv[2] ?? "" }, stderr: "ignore", requestTimeoutMs: 30_000 });
  await client.initialize({ clientInfo: { name: "consumer_cjs", version: "1.0.0" } });
  const status: unknown = await client.request("getAuthStatus", {});
  const mode: AuthMode | null = validateGetAuthStatusResponse(status) ? status.authMethod : null;
  const exit = await client.close();
  console.log(JSON.stringify({
    resolved: path(require.resolve("codex-auth/protocol")),
    format: typeof module === "object" ? "commonjs" : "esm",
    mode,
    valid: validateGetAuthStatusResponse(status),
    methodNotFound: METHOD_NOT_FOUND,
    exit,
  }));
}

function path(file: string): string {
  return file.slice(file.lastIndexOf("node_modules/") + "node_modules/".length);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
`;

const BROWSER_CONNECTION = `
import { AppServerConnection, AppServerError } from "codex-auth/connection";
import { AppServerConnection as ViaClientEntry } from "codex-auth/client";
import type { GetAccountResponse } from "codex-auth/protocol";

/** A session over WHATWG streams (e.g. a WebSocket or worker bridge), as a browser app runs it. */
export async function readAccount(readable: ReadableStream<Uint8Array>, writable: WritableStream<Uint8Array>): Promise<GetAccountResponse["account"]> {
  const connection = new AppServerConnection(readable, writable, { requestTimeoutMs: 30_000 });
  await connection.initialize({ clientInfo: { name: "consumer_browser", version: "1.0.0" } });
  try {
    await connection.sendRequest("model/list", {});
  } catch (error) {
    if (!(error instanceof AppServerError)) throw error;
  }
  const { account } = await connection.request("account/read", {});
  await connection.end();
  return account;
}

export const sameClass = ViaClientEntry === AppServerConnection;
`;

const BROWSER_PROTOCOL = `
import * as protocol from "codex-auth/protocol";
export default protocol;
`;

/** The size target (≤ 5 KB) is for one small validator; a response validator is reported beside it. */
const ONE_VALIDATOR = `
import { validateAuthMode } from "codex-auth/protocol";
export const valid = (value: unknown): boolean => validateAuthMode(value);
`;

const RESPONSE_VALIDATOR = `
import { validateGetAccountResponse } from "codex-auth/protocol";
export const valid = (value: unknown): boolean => validateGetAccountResponse(value);
`;

let scratch: ReturnType<typeof scratchDir>;
let tarball: string;
let consumer: string;

beforeAll(async () => {
  appServerArgv(); // waits for a complete dist/
  await ok(process.execPath, ["scripts/package/build-cjs.mjs"], { cwd: ROOT });
  scratch = scratchDir("consumer-matrix");
  await npm(["pack", "--ignore-scripts", "--pack-destination", scratch.dir], ROOT);
  tarball = onlyFile(scratch.dir, ".tgz");
  consumer = path.join(scratch.dir, "consumer");
  writeTree(consumer, {
    "package.json": JSON.stringify({ name: "consumer", private: true, dependencies: { "codex-auth": `file:${tarball}` } }),
    "esm/package.json": JSON.stringify({ type: "module" }),
    "esm/app.ts": ESM_APP,
    "esm/tsconfig.json": JSON.stringify({ compilerOptions: { ...STRICT, module: "NodeNext", moduleResolution: "NodeNext", types: ["node"], outDir: "out" }, files: ["app.ts"] }),
    "cjs/package.json": JSON.stringify({ type: "commonjs" }),
    "cjs/app.ts": CJS_APP,
    "cjs/tsconfig.json": JSON.stringify({ compilerOptions: { ...STRICT, module: "node16", moduleResolution: "node16", types: ["node"], outDir: "out" }, files: ["app.ts"] }),
    "browser/connection.ts": BROWSER_CONNECTION,
    "browser/protocol.ts": BROWSER_PROTOCOL,
    "browser/one-validator.ts": ONE_VALIDATOR,
    "browser/response-validator.ts": RESPONSE_VALIDATOR,
    // No @types/node and the DOM lib: the browser-safe entries must not need Node's types.
    "browser/tsconfig.json": JSON.stringify({
      compilerOptions: { ...STRICT, module: "ESNext", moduleResolution: "bundler", customConditions: ["browser"], lib: ["ES2022", "DOM"], types: [], noEmit: true },
      files: ["connection.ts", "protocol.ts", "one-validator.ts", "response-validator.ts"],
    }),
  });
  // From the npm cache where it can (no audit, no scripts: a downstream install of a tarball runs none of ours).
  await npm(["install", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"], consumer);
  linkNodeTypes(consumer);
}, DEADLINE_MS);

afterAll(() => scratch?.remove());

describe("the packed tarball, as downstream apps install it", () => {
  it("ships the LICENSE, the downstream guide and both module formats, and no tests", async () => {
    const listing = (await ok("tar", ["-tzf", tarball], { cwd: scratch.dir })).stdout.split("\n");
    expect(listing).toEqual(expect.arrayContaining(["package/LICENSE", "package/docs/downstream.md", "package/dist/src/protocol/index.js", "package/dist/cjs/src/protocol/index.cjs", "package/dist/cjs/src/protocol/index.d.cts"]));
    expect(listing.filter((file) => file.startsWith("package/test/") || file.includes(".test."))).toEqual([]);
    expect(readFileSync(path.join(consumer, "node_modules/codex-auth/LICENSE"), "utf8")).toContain("Apache License");
  }, DEADLINE_MS);

  it("ESM NodeNext, strict with exactOptionalPropertyTypes and skipLibCheck false: compiles and runs a session against the package's own server", async () => {
    await ok(path.join(BIN, "tsc"), ["-p", "esm"], { cwd: consumer });
    const home = scratchDir("consumer-esm-home");
    try {
      const { stdout } = await ok(process.execPath, ["esm/out/app.js", home.dir], { cwd: consumer });
      expect(JSON.parse(stdout)).toEqual({
        userAgent: "consumer_esm",
        before: null,
        mode: "API key",
        untyped: -32600,
        invalidRequest: -32600,
        after: { type: "apiKey" },
        exit: { code: 0, signal: null },
      });
      expect(stdout).not.toContain("sk-consumer-esm");
    } finally {
      home.remove();
    }
  }, DEADLINE_MS);

  it("CommonJS with module node16: the types resolve and require() loads the CommonJS build", async () => {
    await ok(path.join(BIN, "tsc"), ["-p", "cjs"], { cwd: consumer });
    const home = scratchDir("consumer-cjs-home");
    try {
      const { stdout } = await ok(process.execPath, ["cjs/out/app.js", home.dir], { cwd: consumer });
      expect(JSON.parse(stdout)).toEqual({
        resolved: "codex-auth/dist/cjs/src/protocol/index.cjs",
        format: "commonjs",
        mode: null,
        valid: true,
        methodNotFound: -32601,
        exit: { code: 0, signal: null },
      });
    } finally {
      home.remove();
    }
  }, DEADLINE_MS);

  it("bundles the connection and the protocol for the browser; one validator stays small", async () => {
    await ok(path.join(BIN, "tsc"), ["-p", "browser"], { cwd: consumer });
    const sizes: Record<string, { bytes: number; gzip: number }> = {};
    for (const entry of ["connection", "protocol", "one-validator", "response-validator"]) {
      const result = await build({
        absWorkingDir: consumer,
        entryPoints: [`browser/${entry}.ts`],
        bundle: true,
        minify: true,
        format: "esm",
        platform: "browser",
        write: false,
        logLevel: "silent",
      });
      const code = result.outputFiles[0]!.text;
      expect(code).not.toMatch(/node:|child_process|process\.execPath/);
      sizes[entry] = { bytes: Buffer.byteLength(code), gzip: gzipSync(code).length };
      writeTree(consumer, { [`browser/out/${entry}.mjs`]: code });
    }
    // The browser bundle of the connection, run over WHATWG streams against our real server.
    const bundle = (await import(pathToFileURL(path.join(consumer, "browser/out/connection.mjs")).href)) as {
      readAccount(readable: ReadableStream<Uint8Array>, writable: WritableStream<Uint8Array>): Promise<unknown>;
      sameClass: boolean;
    };
    const { command, args } = appServerArgv();
    const home = scratchDir("consumer-browser-home");
    const server = spawn(command, args, { env: { ...process.env, CODEX_HOME: home.dir }, stdio: ["pipe", "pipe", "ignore"] });
    try {
      const account = await bundle.readAccount(Readable.toWeb(server.stdout) as ReadableStream<Uint8Array>, Writable.toWeb(server.stdin) as WritableStream<Uint8Array>);
      expect(account).toBeNull();
      expect(bundle.sameClass).toBe(true);
    } finally {
      server.kill();
      home.remove();
    }
    console.log(`browser bundles (minified): ${Object.entries(sizes).map(([name, s]) => `${name} ${s.bytes} B (${s.gzip} B gzip)`).join(", ")}`);
    expect(sizes["one-validator"]!.bytes).toBeLessThanOrEqual(5 * 1024);
  }, DEADLINE_MS);

  it("is clean under attw (--profile node16) and publint", async () => {
    const attw = await run(path.join(BIN, "attw"), [tarball, "--profile", "node16", "--format", "json"], { cwd: scratch.dir });
    const report = JSON.parse(attw.stdout) as { problems?: Record<string, Array<{ resolutionKind?: string }>> };
    const problems = Object.values(report.problems ?? {}).flat().filter((problem) => problem.resolutionKind !== "node10");
    expect(problems).toEqual([]);
    expect(attw.code).toBe(0);
    const publint = await run(path.join(BIN, "publint"), ["--strict", "--pack", "false", path.join(consumer, "node_modules/codex-auth")], { cwd: scratch.dir });
    expect(publint.stdout).toContain("All good!");
    expect(publint.code).toBe(0);
  }, DEADLINE_MS);
});
