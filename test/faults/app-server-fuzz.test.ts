import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { isKnownMethod, methods, validateJSONRPCMessage, type MethodDescriptor } from "../../src/protocol/index.js";
import { initializeMessage, RawAppServer } from "../support/app-server-process.js";
import { CapturedStreams, leakFragments } from "../support/secrets.js";
import { FAULTS_RUNS, propertyParameters, waitForDist } from "./support.js";

/**
 * Property-based fuzzing of the app-server's input: ONE spawned server per property, fed batches
 * of generated lines (random JSON, random text with CR/LF and lone surrogates, invalid UTF-8,
 * lines over the size cap, blank lines, and mutations of the registry's messages and examples:
 * dropped/renamed/retyped fields, bad ids, duplicate ids, unknown methods, notifications with ids,
 * answers to server requests nobody sent) in random chunk sizes.
 *
 * Invariants, checked after every batch: every stdout line is a JSON object without `jsonrpc` that
 * the envelope schema (`validateJSONRPCMessage`) accepts, with valid notification params and
 * results valid for a method requested with that id; every request with a valid id (a string or
 * an integer) gets exactly one response (counted per id, so duplicates count), errors are -32600 or
 * -32603; the process stays alive. At the end it still answers `account/read`, exits 0 at EOF, and
 * the API key logged in at the start (getAuthStatus `includeToken: true` is never sent) appears in
 * no output, nor does any long credential the fuzzer sent.
 */

/** A small cap, so lines over it are cheap to generate (the 1 MiB default is covered in e2e). */
const MAX_LINE_BYTES = 8192;
const NEWLINE = 0x0a;
/** Methods the server runs beside its in-order queue (server.ts CONCURRENT_METHODS). */
const CONCURRENT_METHODS: ReadonlySet<string> = new Set(["account/rateLimits/read"]);
const ROOT = path.resolve(import.meta.dirname, "../..");

// ---------------------------------------------------------------------------------------------
// Seeds: every client request of the method registry with the valid and invalid examples of its
// params type (schemas/examples/<Type>/), the client notification, and answers to the one server
// request. Browser and device-code logins are left out: they would start real login flows.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function examples(type: string): Json[] {
  const dir = path.join(ROOT, "schemas/examples", type);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .map((name) => JSON.parse(readFileSync(path.join(dir, name), "utf8")) as Json);
}

const CLIENT_REQUESTS = Object.values(methods as Record<string, MethodDescriptor>).filter((d) => d.direction === "clientToServer" && d.kind === "request");
const SERVER_METHODS = Object.values(methods as Record<string, MethodDescriptor>).filter((d) => d.direction === "serverToClient").map((d) => d.method);

const SEED_MESSAGES: JsonObject[] = CLIENT_REQUESTS.flatMap((descriptor) => {
  const params: Array<Json | undefined> = descriptor.paramsType === null ? [undefined, null, {}] : examples(descriptor.paramsType);
  if (params.length === 0) params.push({});
  return params
    .filter((p) => !(descriptor.method === "account/login/start" && typeof p === "object" && p !== null && !Array.isArray(p) && (p.type === "chatgpt" || p.type === "chatgptDeviceCode")))
    .map((p) => (p === undefined ? { id: 1, method: descriptor.method } : { id: 1, method: descriptor.method, params: p }));
});
SEED_MESSAGES.push({ method: "initialized" });
for (const result of examples("ChatgptAuthTokensRefreshResponse")) SEED_MESSAGES.push({ id: 0, result });
SEED_MESSAGES.push({ id: 3, error: { code: -32000, message: "refused" } });

// ---------------------------------------------------------------------------------------------
// Arbitraries.

const safeInt = fc.integer({ min: -1_000_000, max: 1_000_000 });
const validId: fc.Arbitrary<Json> = fc.oneof(fc.integer({ min: 0, max: 40 }), safeInt, fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER), fc.string({ maxLength: 12 }), fc.constantFrom("", "1", "id-é", "\u2028"));
const wrongId: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 1.5, -0.25, 1e21, 2 ** 53 + 2, [], [1], {}, { id: 1 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n)),
);
const anyJson = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>;
const methodName = fc.oneof(
  fc.constantFrom(...CLIENT_REQUESTS.map((d) => d.method)),
  fc.constantFrom(...SERVER_METHODS, "initialized", "thread/start", "account/", "ACCOUNT/READ", "account/read ", ""),
  fc.string({ maxLength: 20 }),
);

type Mutation = (message: JsonObject) => fc.Arbitrary<JsonObject>;
const paramsOf = (message: JsonObject): JsonObject | null =>
  typeof message.params === "object" && message.params !== null && !Array.isArray(message.params) ? message.params : null;

const MUTATIONS: Mutation[] = [
  // The id: valid, wrong, or absent (a request becomes a notification).
  (m) => validId.map((id) => ({ ...m, id })),
  (m) => wrongId.map((id) => ({ ...m, id })),
  (m) => fc.constant(Object.fromEntries(Object.entries(m).filter(([key]) => key !== "id"))),
  // The method: another known one, an unknown one, a non-string.
  (m) => methodName.map((method) => ({ ...m, method })),
  (m) => anyJson.filter((v) => typeof v !== "string").map((method) => ({ ...m, method })),
  // Drop, rename or retype a member, top level or in params.
  (m) => someKey(m).map((drop) => Object.fromEntries(Object.entries(m).filter(([key]) => key !== drop))),
  (m) => someKey(m).chain((key) => fc.constantFrom(`${key}_`, `${key}s`, key.toUpperCase() === key ? `${key}x` : key.toUpperCase()).map((to) => renameKey(m, key, to))),
  (m) => fc.tuple(someKey(m), anyJson).map(([key, value]) => ({ ...m, [key]: value })),
  (m) => {
    const params = paramsOf(m);
    if (params === null || Object.keys(params).length === 0) return anyJson.map((value) => ({ ...m, params: value }));
    return fc.oneof(
      fc.constantFrom(...Object.keys(params)).map((drop) => ({ ...m, params: Object.fromEntries(Object.entries(params).filter(([key]) => key !== drop)) })),
      fc.tuple(fc.constantFrom(...Object.keys(params)), anyJson).map(([key, value]) => ({ ...m, params: { ...params, [key]: value } })),
      fc.tuple(fc.string({ maxLength: 8 }), anyJson).map(([key, value]) => ({ ...m, params: { ...params, [key]: value } })),
    );
  },
  // Extras: a jsonrpc member (accepted), unknown members, result/error next to method.
  (m) => fc.constant({ jsonrpc: "2.0", ...m }),
  (m) => fc.tuple(fc.string({ maxLength: 8 }), anyJson).map(([key, value]) => ({ ...m, [key]: value })),
  (m) => fc.oneof(anyJson.map((result) => ({ ...m, result })), anyJson.map((error) => ({ ...m, error }))),
];

/** One of the message's keys ("method" when it has none left, which adds it back). */
function someKey(message: JsonObject): fc.Arbitrary<string> {
  const keys = Object.keys(message);
  return keys.length === 0 ? fc.constant("method") : fc.constantFrom(...keys);
}

function renameKey(message: JsonObject, from: string, to: string): JsonObject {
  return Object.fromEntries(Object.entries(message).map(([key, value]) => [key === from ? to : key, value]));
}

/** A seed message with 0–3 mutations applied. */
const mutatedMessage: fc.Arbitrary<JsonObject> = fc
  .tuple(fc.constantFrom(...SEED_MESSAGES), fc.array(fc.nat({ max: MUTATIONS.length - 1 }), { maxLength: 3 }))
  .chain(([seed, picks]) => picks.reduce<fc.Arbitrary<JsonObject>>((acc, pick) => acc.chain((message) => MUTATIONS[pick]!(message)), fc.constant(seed)));

const encode = (text: string) => Buffer.from(text, "utf8");

/** One generated "line" (bytes, newline added by the batch). It may itself contain newlines. */
const lineBytes: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 6, arbitrary: mutatedMessage.map((m) => encode(JSON.stringify(m))) },
  { weight: 2, arbitrary: mutatedMessage.map((m) => encode(`${JSON.stringify(m)}\r`)) },
  { weight: 2, arbitrary: anyJson.map((v) => encode(JSON.stringify(v))) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 60 }).map(encode) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom("{", "}", "[", "]", '"', ":", ",", "\r", "\n", " ", "a", "1", "\\"), maxLength: 40 }).map(encode) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
  // Invalid UTF-8 inside an otherwise valid request (the server decodes it as U+FFFD).
  { weight: 1, arbitrary: fc.tuple(validId, fc.constantFrom([0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88])).map(([id, bad]) => Buffer.concat([encode(`{"id":${JSON.stringify(id)},"method":"account/read","params":{"x":"`), Buffer.from(bad), encode('"}}')])) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "\r", "\t", "\r\r", "\u00a0").map(encode) },
  // Around the size cap: a valid request padded to exactly the cap (served) or past it (skipped unread).
  { weight: 1, arbitrary: fc.tuple(validId, fc.integer({ min: -2, max: 3 * MAX_LINE_BYTES })).map(([id, extra]) => padRequest(id, MAX_LINE_BYTES + extra)) },
);

/** `{"id":…,"method":"account/read","params":{"pad":"xxx"}}` of `size` bytes (at least its frame). */
function padRequest(id: Json, size: number): Buffer {
  const head = `{"id":${JSON.stringify(id)},"method":"account/read","params":{"pad":"`;
  const tail = '"}}';
  return encode(head + "x".repeat(Math.max(0, size - head.length - tail.length)) + tail);
}

const batch = fc.record({ lines: fc.array(lineBytes, { minLength: 1, maxLength: 16 }), chunk: fc.integer({ min: 1, max: 4096 }) });

// ---------------------------------------------------------------------------------------------
// The oracle: what the server must do with a batch, by the contract and the transport's rules.

type RequestKey = string;
const keyOf = (id: unknown): RequestKey => (typeof id === "string" ? `s:${id}` : `n:${String(id)}`);
/** Strings, and integers in Codex's i64 range written as integers (the lines come from JSON.stringify). */
const isValidId = (id: unknown) =>
  typeof id === "string" || (typeof id === "number" && Number.isInteger(id) && /^-?[0-9]+$/.test(JSON.stringify(id)) && id >= -(2 ** 63) && id < 2 ** 63);
const hasOwn = (object: object, key: string) => Object.prototype.hasOwnProperty.call(object, key);

interface Expected {
  key: RequestKey;
  method: string;
}

/** Splits on LF exactly as the transport does, skips lines over the cap, strips one trailing CR, and finds requests with valid ids. */
function requestsIn(bytes: Buffer): Expected[] {
  const found: Expected[] = [];
  for (const segment of segments(bytes)) {
    const message = parseLine(segment);
    if (message === null || !hasOwn(message, "method") || typeof message.method !== "string") continue;
    if (!hasOwn(message, "id") || !isValidId(message.id)) continue;
    found.push({ key: keyOf(message.id), method: message.method });
  }
  return found;
}

function segments(bytes: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let at = bytes.indexOf(NEWLINE); at >= 0; at = bytes.indexOf(NEWLINE, start)) {
    parts.push(bytes.subarray(start, at));
    start = at + 1;
  }
  if (start < bytes.length) throw new Error("a batch must end with a newline");
  return parts;
}

function parseLine(segment: Buffer): Record<string, unknown> | null {
  if (segment.length > MAX_LINE_BYTES) return null;
  const line = segment.length > 0 && segment[segment.length - 1] === 0x0d ? segment.subarray(0, -1) : segment;
  const text = line.toString("utf8");
  if (text.trim().length === 0) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Drops lines that would ask for the raw token (getAuthStatus includeToken: true): the fuzzer must never request the secret. */
function withoutTokenRequests(lines: Buffer[]): Buffer[] {
  return lines.map((line) => {
    const kept = segments(Buffer.concat([line, Buffer.from([NEWLINE])])).filter((segment) => {
      const message = parseLine(segment);
      const params = message?.params as { includeToken?: unknown } | null | undefined;
      return !(message?.method === "getAuthStatus" && typeof params === "object" && params !== null && params.includeToken === true);
    });
    return Buffer.concat(kept.flatMap((segment, i) => (i === 0 ? [segment] : [Buffer.from([NEWLINE]), segment])));
  });
}

/** Long string values sent as credentials (apiKey, accessToken): they must never come back. */
function sentCredentials(lines: Buffer[]): string[] {
  const found: string[] = [];
  for (const line of lines) {
    for (const segment of segments(Buffer.concat([line, Buffer.from([NEWLINE])]))) {
      const params = parseLine(segment)?.params as Record<string, unknown> | undefined;
      if (typeof params !== "object" || params === null) continue;
      for (const key of ["apiKey", "accessToken"]) {
        const value = params[key];
        if (typeof value === "string" && value.length >= 16 && !/^(.)\1*$/.test(value)) found.push(value);
      }
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// The harness around one long-lived server.

class FuzzedServer {
  readonly server: RawAppServer;
  readonly problems: string[] = [];
  /** Requests with a valid id sent so far, and responses received, per id. */
  readonly expected = new Map<RequestKey, number>();
  readonly answered = new Map<RequestKey, number>();
  /** Every method requested with an id (to validate results). */
  readonly methodsById = new Map<RequestKey, Set<string>>();
  /** Arrival order of requests and of their responses (for the ordered property). */
  readonly responseOrder: RequestKey[] = [];
  #checkedLines = 0;

  constructor() {
    waitForDist();
    this.server = new RawAppServer({
      env: {
        CODEX_AUTH_APP_SERVER_MAX_LINE_BYTES: String(MAX_LINE_BYTES),
        // Nothing may leave the machine: every endpoint points at a closed local port.
        CODEX_AUTHAPI_BASE_URL: "http://127.0.0.1:9/api/accounts",
        CODEX_AUTH_ISSUER: "http://127.0.0.1:9",
        CODEX_REFRESH_TOKEN_URL_OVERRIDE: "http://127.0.0.1:9/oauth/token",
        CODEX_REVOKE_TOKEN_URL_OVERRIDE: "http://127.0.0.1:9/oauth/revoke",
      },
      config: ["chatgpt_base_url=http://127.0.0.1:9/backend-api/"],
    });
  }

  note(requests: Expected[]): void {
    for (const { key, method } of requests) {
      this.expected.set(key, (this.expected.get(key) ?? 0) + 1);
      const set = this.methodsById.get(key) ?? new Set<string>();
      set.add(method);
      this.methodsById.set(key, set);
    }
  }

  /** Checks every new stdout line against the envelope and the registry, and counts responses. */
  checkNewLines(): void {
    const lines = this.server.lines;
    for (; this.#checkedLines < lines.length; this.#checkedLines++) this.#check(lines[this.#checkedLines]!);
  }

  #check(line: string): void {
    const fail = (why: string): void => {
      this.problems.push(`${why}: ${line.slice(0, 200)}`);
    };
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return fail("stdout line is not JSON");
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) return fail("stdout line is not a JSON object");
    const record = message as Record<string, unknown>;
    if (hasOwn(record, "jsonrpc")) fail("stdout line has a jsonrpc member");
    if (!validateJSONRPCMessage(record)) fail("stdout line fails the envelope schema");
    if (typeof record.method === "string") {
      const descriptor = isKnownMethod(record.method) ? methods[record.method] : undefined;
      if (!descriptor || descriptor.direction !== "serverToClient") return fail("server sent a method it does not own");
      if (!descriptor.validateParams(record.params)) fail(`invalid ${record.method} params`);
      return;
    }
    const key = keyOf(record.id);
    this.answered.set(key, (this.answered.get(key) ?? 0) + 1);
    this.responseOrder.push(key);
    if ((this.answered.get(key) ?? 0) > (this.expected.get(key) ?? 0)) fail(`more responses than requests for id ${key}`);
    if (hasOwn(record, "error")) {
      const code = (record.error as { code?: unknown }).code;
      if (code !== -32600 && code !== -32603) fail(`error code ${String(code)} is not -32600 or -32603`);
      return;
    }
    const candidates = [...(this.methodsById.get(key) ?? [])].map((m) => (isKnownMethod(m) ? methods[m].validateResult : null)).filter((v) => v !== null);
    if (!candidates.some((validate) => validate!(record.result))) fail(`result valid for no method requested with id ${key}`);
  }

  unansweredKeys(): RequestKey[] {
    return [...this.expected].filter(([key, count]) => (this.answered.get(key) ?? 0) !== count).map(([key]) => key);
  }

  unanswered(): string[] {
    return this.unansweredKeys().map((key) => `${key}: ${this.answered.get(key) ?? 0}/${this.expected.get(key)}`);
  }

  /** Writes the batch in `chunk`-byte pieces, waiting for each write. */
  async write(bytes: Buffer, chunk: number): Promise<void> {
    for (let at = 0; at < bytes.length; at += chunk) {
      const piece = bytes.subarray(at, at + chunk);
      await new Promise<void>((resolve, reject) => this.server.child.stdin.write(piece, (error) => (error ? reject(error) : resolve())));
    }
  }

  /**
   * After a failed run: forget what that run still owed, so that the runs fast-check tries while
   * shrinking are judged on their own (the server is shared by all runs).
   */
  async resync(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 100));
    this.checkNewLines();
    for (const key of new Set([...this.expected.keys(), ...this.answered.keys()])) this.expected.set(key, this.answered.get(key) ?? 0);
    this.problems.length = 0;
  }

  /** Runs one batch; a failure resynchronizes the books before it propagates. */
  async run(body: () => Promise<void>): Promise<void> {
    try {
      await body();
      if (this.problems.length > 0) throw new Error(this.problems.slice(0, 5).join("\n"));
      if (!this.alive()) throw new Error("the server died");
    } catch (error) {
      if (this.alive()) await this.resync();
      throw error;
    }
  }

  #sentinels = 0;

  /**
   * Waits until every expected response has arrived. A sentinel request goes last: account
   * requests are answered in arrival order, so once it is answered everything queued before it
   * must have been too, and only requests that run beside the queue (rateLimits) get a grace period.
   */
  async settle(): Promise<void> {
    const sentinel = `sentinel-${++this.#sentinels}`;
    const line = encode(`${JSON.stringify({ id: sentinel, method: "account/read", params: {} })}\n`);
    this.note(requestsIn(line));
    await this.write(line, line.length);
    await this.until(() => (this.answered.get(keyOf(sentinel)) ?? 0) > 0, 30_000, "the sentinel request was not answered");
    const concurrentOnly = () =>
      this.unansweredKeys().every((key) => [...(this.methodsById.get(key) ?? [])].some((method) => CONCURRENT_METHODS.has(method)));
    if (!concurrentOnly()) throw new Error(`requests without exactly one response: ${this.unanswered().slice(0, 10).join(", ")}`);
    await this.until(() => this.unanswered().length === 0, 10_000, "requests without exactly one response");
  }

  async until(done: () => boolean, timeoutMs: number, failure: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.checkNewLines();
      if (done()) return;
      if (!this.alive()) throw new Error(`the server exited (${this.server.child.exitCode}); stderr tail:\n${this.server.stderr.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`${failure}: ${this.unanswered().slice(0, 10).join(", ")}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  alive(): boolean {
    return this.server.child.exitCode === null && this.server.child.signalCode === null;
  }

  /** Sends one request and waits for its response (counted like the others). */
  async request(message: JsonObject): Promise<Record<string, unknown>> {
    const line = encode(`${JSON.stringify(message)}\n`);
    this.note(requestsIn(line));
    const before = this.server.lines.length;
    await this.write(line, line.length);
    await this.settle();
    const key = keyOf(message.id);
    const reply = this.server.lines
      .slice(before)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((m) => !hasOwn(m, "method") && keyOf(m.id) === key);
    if (!reply) throw new Error(`no reply to ${key}`);
    return reply;
  }
}

const captured = new CapturedStreams();
const secrets: string[] = [];
afterAll(() => captured.assertNoSecrets(secrets));

async function withFuzzedServer(body: (fuzzed: FuzzedServer) => Promise<void>): Promise<void> {
  const fuzzed = new FuzzedServer();
  const secret = `sk-fuzz-secret-${randomBytes(16).toString("hex")}`;
  secrets.push(secret);
  try {
    expect(await fuzzed.request(initializeMessage("fuzz-init") as unknown as JsonObject)).toHaveProperty("result");
    expect(await fuzzed.request({ id: "fuzz-login", method: "account/login/start", params: { type: "apiKey", apiKey: secret } })).toEqual({
      id: "fuzz-login",
      result: { type: "apiKey" },
    });
    await body(fuzzed);
    // Still alive and serving.
    expect(fuzzed.alive()).toBe(true);
    const alive = await fuzzed.request({ id: "fuzz-alive", method: "account/read", params: {} });
    expect(alive).toMatchObject({ id: "fuzz-alive", result: { requiresOpenaiAuth: true } });
  } finally {
    const exit = await fuzzed.server.close();
    captured.add("fuzz stdout", fuzzed.server.stdout);
    captured.add("fuzz stderr", fuzzed.server.stderr);
    expect(exit).toEqual({ code: 0, signal: null });
  }
  fuzzed.checkNewLines();
  expect(fuzzed.problems).toEqual([]);
  expect(fuzzed.unanswered()).toEqual([]);
  // The secret in any form (whole, truncated, the masked middle) appears in no output.
  for (const fragment of leakFragments(secret)) {
    expect(fuzzed.server.stdout.includes(fragment)).toBe(false);
    expect(fuzzed.server.stderr.includes(fragment)).toBe(false);
  }
}

describe(`app-server input fuzzing (fast-check, ${FAULTS_RUNS} runs per property, one server per property)`, () => {
  it("random, mutated and malformed lines: valid stdout only, one response per request with a valid id, no leak, alive", async () => {
    await withFuzzedServer(async (fuzzed) => {
      const credentials = new Set<string>();
      await fc.assert(
        fc.asyncProperty(batch, ({ lines, chunk }) =>
          fuzzed.run(async () => {
            const kept = withoutTokenRequests(lines);
            const bytes = Buffer.concat(kept.flatMap((line) => [line, Buffer.from([NEWLINE])]));
            for (const credential of sentCredentials(kept)) credentials.add(credential);
            fuzzed.note(requestsIn(bytes));
            await fuzzed.write(bytes, chunk);
            await fuzzed.settle();
          }),
        ),
        propertyParameters(),
      );
      for (const credential of credentials) {
        expect(fuzzed.server.stdout.includes(credential), "a credential the fuzzer sent came back on stdout").toBe(false);
        expect(fuzzed.server.stderr.includes(credential), "a credential the fuzzer sent came back on stderr").toBe(false);
      }
    });
  }, 600_000);

  it("requests with unique ids (valid, invalid, unknown) in random chunks: exactly one response each, in arrival order", async () => {
    let counter = 0;
    await withFuzzedServer(async (fuzzed) => {
      await fc.assert(
        fc.asyncProperty(fc.array(mutatedMessage, { minLength: 1, maxLength: 24 }), fc.integer({ min: 1, max: 512 }), (messages, chunk) =>
          fuzzed.run(async () => {
            const start = fuzzed.responseOrder.length;
            const sent: RequestKey[] = [];
            const lines: Buffer[] = [];
            for (const generated of messages) {
              if (typeof generated.method !== "string") continue;
              // rateLimits runs beside the queue, so it is left out of an ordering check.
              if (generated.method === "account/rateLimits/read") continue;
              const message = generated.method === "getAuthStatus" ? { ...generated, params: { ...paramsOf(generated), includeToken: false } } : generated;
              const id = `ordered-${++counter}`;
              lines.push(encode(JSON.stringify({ ...message, id })));
              sent.push(keyOf(id));
            }
            const bytes = Buffer.concat(lines.flatMap((line) => [line, Buffer.from([NEWLINE])]));
            fuzzed.note(requestsIn(bytes));
            await fuzzed.write(bytes, chunk);
            await fuzzed.settle();
            expect(fuzzed.responseOrder.slice(start).filter((key) => !key.startsWith("s:sentinel-"))).toEqual(sent);
          }),
        ),
        propertyParameters(),
      );
    });
  }, 600_000);
});
