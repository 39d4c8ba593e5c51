import { request as httpRequest, type IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { validateWhoAmIResponse } from "../../generated/http/authapi.validators.js";
import { validateUsagePayload } from "../../generated/http/backend.validators.js";
import { validateDeviceTokenResponse, validateDeviceUserCodeResponse, validateTokenResponse } from "../../generated/http/oauth.validators.js";
import type { Validator } from "../../generated/validator.js";
import { validateAuthApiError } from "../../generated/http/authapi.validators.js";
import type { DevServer, NetworkFault } from "../../src/dev-server/index.js";
import { call, start, until } from "./support.js";

/**
 * Network fault injection: each fault is checked on the wire with a plain HTTP client (what bytes
 * and which connection events a client sees), plus counts, clearing, the control plane and close().
 */

const WHOAMI = "/api/accounts/v1/user-auth-credential/whoami";
const USAGE = "/backend-api/wham/usage";

interface Raw {
  status: number | null;
  headers: IncomingMessage["headers"];
  body: Buffer;
  /** How the exchange ended: "end" (complete body), "error:<code>" (connection error), "aborted" (we gave up). */
  outcome: string;
}

/** One GET with node:http, so resets and partial bodies are visible as such; gives up after `giveUpMs`. */
function rawGet(server: DevServer, path: string, options: { bearer?: string; giveUpMs?: number; method?: string; maxBytes?: number } = {}): Promise<Raw> {
  return new Promise((resolve) => {
    const result: Raw = { status: null, headers: {}, body: Buffer.alloc(0), outcome: "" };
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (outcome: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      result.body = Buffer.concat(chunks);
      result.outcome = outcome;
      resolve(result);
    };
    const req = httpRequest(`${server.url}${path}`, {
      method: options.method ?? "GET",
      headers: { ...(options.bearer ? { authorization: `Bearer ${options.bearer}` } : {}), "content-type": "application/json" },
    });
    const timer = setTimeout(() => {
      finish("aborted");
      req.destroy();
    }, options.giveUpMs ?? 5_000);
    req.on("response", (response) => {
      result.status = response.statusCode ?? null;
      result.headers = response.headers;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (options.maxBytes === undefined || size <= options.maxBytes) chunks.push(chunk);
      });
      response.on("end", () => finish("end"));
      response.on("error", (error: NodeJS.ErrnoException) => finish(`error:${error.code ?? error.message}`));
      response.on("aborted", () => finish("error:aborted"));
    });
    req.on("error", (error: NodeJS.ErrnoException) => finish(`error:${error.code ?? error.message}`));
    req.end(options.method === "POST" ? "{}" : undefined);
  });
}

async function control(server: DevServer, path: string, body: unknown) {
  return call(server, "POST", `/__dev/${path}`, { json: body });
}

describe("dev-server network faults", () => {
  it("hang: the request is read and never answered; it is logged as closed before answering", async () => {
    const { server, logLines } = await start();
    server.injectFault(WHOAMI, { kind: "hang" });
    const raw = await rawGet(server, WHOAMI, { bearer: "at-demo-valid", giveUpMs: 300 });
    expect(raw).toMatchObject({ status: null, outcome: "aborted" });
    expect(server.count("GET", WHOAMI)).toBe(1);
    expect(server.requests[0]!.status).toBe(0);
    expect(logLines).toContain(`dev-server: injecting hang into GET ${WHOAMI}`);
    // One use (the default count): the next request is answered normally.
    expect((await call(server, "GET", WHOAMI, { bearer: "at-demo-valid" })).status).toBe(200);
    expect(server.faults).toEqual([]);
  });

  it("status: a JSON error body in the API's error schema, an empty body, or a proxy's HTML page", async () => {
    const { server } = await start();
    server.injectFault(WHOAMI, { kind: "status", status: 503 });
    const json = await call(server, "GET", WHOAMI, { bearer: "at-demo-valid" });
    expect(json.status).toBe(503);
    expect(validateAuthApiError(json.body)).toBe(true);
    expect(json.body).toMatchObject({ error: { code: "injected_fault" } });

    server.injectFault(WHOAMI, { kind: "status", status: 502, body: "empty" });
    const empty = await rawGet(server, WHOAMI, { bearer: "at-demo-valid" });
    expect(empty).toMatchObject({ status: 502, outcome: "end" });
    expect(empty.body.length).toBe(0);

    server.injectFault(USAGE, { kind: "status", status: 504, body: "html" });
    const html = await rawGet(server, USAGE, { bearer: "at-demo-valid" });
    expect(html).toMatchObject({ status: 504, outcome: "end", headers: { "content-type": "text/html; charset=utf-8" } });
    expect(html.body.toString()).toContain("<h1>504</h1>");
    expect(server.requests.map((r) => r.status)).toEqual([503, 502, 504]);
  });

  it("malformed: 200 application/json whose body does not parse", async () => {
    const { server } = await start();
    server.injectFault(WHOAMI, { kind: "malformed" });
    const raw = await rawGet(server, WHOAMI, { bearer: "at-demo-valid" });
    expect(raw).toMatchObject({ status: 200, outcome: "end", headers: { "content-type": "application/json" } });
    expect(() => JSON.parse(raw.body.toString())).toThrow(SyntaxError);
  });

  it("contract: 200 JSON that parses but fails each route's response schema (and a custom body)", async () => {
    const { server, logLines } = await start();
    const routes: Array<[string, string, Validator<unknown>]> = [
      ["GET", WHOAMI, validateWhoAmIResponse as Validator<unknown>],
      ["POST", "/oauth/token", validateTokenResponse as Validator<unknown>],
      ["POST", "/api/accounts/deviceauth/usercode", validateDeviceUserCodeResponse as Validator<unknown>],
      ["POST", "/api/accounts/deviceauth/token", validateDeviceTokenResponse as Validator<unknown>],
      ["GET", USAGE, validateUsagePayload as Validator<unknown>],
    ];
    for (const [method, path, validate] of routes) {
      server.injectFault(path, { kind: "contract" });
      const raw = await rawGet(server, path, { method, bearer: "at-demo-valid" });
      expect(raw.status, path).toBe(200);
      const body: unknown = JSON.parse(raw.body.toString());
      expect(validate(body), `${path} body should break its schema`).toBe(false);
    }
    expect(logLines.filter((line) => line.includes("BUG"))).toEqual([]);

    server.injectFault(WHOAMI, { kind: "contract", body: { email: "x@example.com" } });
    const custom = await rawGet(server, WHOAMI, { bearer: "at-demo-valid" });
    expect(JSON.parse(custom.body.toString())).toEqual({ email: "x@example.com" });
  });

  it("oversized: a complete JSON body of exactly the requested size (default 50 MB declared)", async () => {
    const { server } = await start();
    server.injectFault(USAGE, { kind: "oversized", bytes: 3 * 1024 * 1024 + 7 });
    const raw = await rawGet(server, USAGE, { bearer: "at-demo-valid" });
    expect(raw).toMatchObject({ status: 200, outcome: "end", headers: { "content-length": String(3 * 1024 * 1024 + 7) } });
    expect(raw.body.length).toBe(3 * 1024 * 1024 + 7);
    expect(JSON.parse(raw.body.toString())).toEqual({ padding: "x".repeat(3 * 1024 * 1024 + 7 - 14) });

    // The default: 50 MB, streamed with backpressure (read here in full, keeping only the first KiB).
    server.injectFault(USAGE, { kind: "oversized" });
    const capped = await rawGet(server, USAGE, { bearer: "at-demo-valid", maxBytes: 1024, giveUpMs: 10_000 });
    expect(capped).toMatchObject({ status: 200, outcome: "end", headers: { "content-length": String(50 * 1024 * 1024) } });
  });

  it("reset: an RST before any answer, or after the headers and part of the body", async () => {
    const { server } = await start();
    server.injectFault(WHOAMI, { kind: "reset" });
    const before = await rawGet(server, WHOAMI, { bearer: "at-demo-valid" });
    expect(before.status).toBeNull();
    expect(before.outcome).toMatch(/^error:(ECONNRESET|socket hang up)$/);

    server.injectFault(WHOAMI, { kind: "reset", afterBytes: 5 });
    const during = await rawGet(server, WHOAMI, { bearer: "at-demo-valid" });
    expect(during.status).toBe(200);
    expect(during.outcome).toMatch(/^error:(ECONNRESET|aborted)$/);
    expect(during.body.toString()).toBe('{"pad');
    expect(server.requests.map((r) => r.status)).toEqual([0, 200]);
  });

  it("drip: headers at once, then a byte at a time that never completes", async () => {
    const { server } = await start();
    server.injectFault(USAGE, { kind: "drip", intervalMs: 5 });
    const raw = await rawGet(server, USAGE, { bearer: "at-demo-valid", giveUpMs: 300 });
    expect(raw).toMatchObject({ status: 200, outcome: "aborted" });
    expect(raw.body.toString()).toMatch(/^\{"padding":"x+$/);
  });

  it("counts, Infinity, clearing, and precedence over failNext", async () => {
    const { server } = await start();
    server.failNext(WHOAMI, 500);
    server.injectFault(WHOAMI, { kind: "status", status: 502, body: "empty" }, { count: 2 });
    expect(server.faults).toEqual([{ path: WHOAMI, fault: { kind: "status", status: 502, body: "empty" }, description: "status 502 (empty body)", remaining: 2 }]);
    expect((await rawGet(server, WHOAMI, { bearer: "at-demo-valid" })).status).toBe(502);
    expect((await rawGet(server, WHOAMI, { bearer: "at-demo-valid" })).status).toBe(502);
    expect((await rawGet(server, WHOAMI, { bearer: "at-demo-valid" })).status).toBe(500); // failNext's turn
    expect((await rawGet(server, WHOAMI, { bearer: "at-demo-valid" })).status).toBe(200);

    server.injectFault(`${server.url}${USAGE}`, { kind: "malformed" }, { count: Infinity });
    for (let i = 0; i < 3; i++) expect((await rawGet(server, USAGE, { bearer: "at-demo-valid" })).status).toBe(200);
    expect(server.faults).toMatchObject([{ path: USAGE, remaining: null }]);
    expect(server.snapshot().faults).toMatchObject([{ path: USAGE, description: "malformed" }]);
    server.clearFaults(USAGE);
    expect(server.faults).toEqual([]);
    expect(() => server.injectFault(WHOAMI, { kind: "status", status: 200 })).toThrow("fault.status must be a non-2xx status (300-599)");
    expect(() => server.injectFault(WHOAMI, { kind: "explode" } as unknown as NetworkFault)).toThrow(/fault.kind must be one of hang, status/);
  });

  it("is controlled over /__dev/fault and /__dev/fault/clear", async () => {
    const { server } = await start();
    expect((await control(server, "fault", { path: USAGE, fault: { kind: "reset" }, count: "always" })).body).toEqual({ ok: true });
    expect(server.faults).toMatchObject([{ path: USAGE, fault: { kind: "reset" }, remaining: null }]);
    expect((await control(server, "fault", { path: USAGE, fault: { kind: "drip", intervalMs: 0 } })).status).toBe(400);
    expect((await control(server, "fault", { path: USAGE, fault: { kind: "nope" } })).body).toMatchObject({ error: expect.stringMatching(/^fault.kind must be one of/) });
    expect((await control(server, "fault", { fault: { kind: "hang" } })).body).toEqual({ error: "path is required" });
    expect((await control(server, "fault/clear", {})).body).toEqual({ ok: true });
    expect(server.faults).toEqual([]);
  });

  it("close() ends hanging, dripping and oversized responses at once", async () => {
    const { server } = await start();
    server.injectFault(WHOAMI, { kind: "hang" }, { count: Infinity });
    server.injectFault(USAGE, { kind: "drip", intervalMs: 10 }, { count: Infinity });
    const pending = [
      rawGet(server, WHOAMI, { bearer: "at-demo-valid", giveUpMs: 20_000 }),
      rawGet(server, USAGE, { bearer: "at-demo-valid", giveUpMs: 20_000 }),
    ];
    await until(() => server.count("GET", WHOAMI) === 1 && server.count("GET", USAGE) === 1, "both requests to arrive");
    await server.close();
    const outcomes = await Promise.all(pending);
    for (const outcome of outcomes) expect(outcome.outcome).toMatch(/^error:/);
  });
});
