/**
 * `scripts/schema-diff.ts` as CI and people run it, on real files and real git repositories in
 * temporary folders. The command runs in process (scripts/schema-diff/run.ts: the same code the
 * CLI calls); one test goes through a real child process for argv, streams and the exit code.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSchemaDiff } from "../../scripts/schema-diff/run.js";
import { describeIf, git as gitRequirement } from "../support/requirements.js";
import { TSX_LOADER } from "../support/run.js";

const REPO = path.resolve(import.meta.dirname, "../..");
const SCRIPT = path.join(REPO, "scripts/schema-diff.ts");
const UPSTREAM = path.join(REPO, "test/fixtures/codex/upstream-codex");
const DRAFT_07 = "http://json-schema.org/draft-07/schema#";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function schemaDiff(args: string[], cwd: string): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await runSchemaDiff(args, { cwd, stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

function schemaDiffProcess(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    // The tsx loader in one Node process (node_modules/.bin/tsx would start a second one).
    const child = spawn(process.execPath, ["--import", TSX_LOADER, SCRIPT, ...args], { cwd, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const scratch: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "compat-cli-"));
  scratch.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function readJson(file: string): any {
  return JSON.parse(readFileSync(file, "utf8"));
}

/** A tiny bundle in our layout: account/updated carries an AuthMode. */
function tinyBundle(values: string[]) {
  return {
    $schema: DRAFT_07,
    definitions: {
      AuthMode: { type: "string", enum: values },
      AccountUpdatedNotification: { type: "object", properties: { authMode: { anyOf: [{ $ref: "#/definitions/AuthMode" }, { type: "null" }] } } },
    },
    "x-methods": [
      { method: "account/updated", direction: "serverToClient", kind: "notification", version: "v2", params: "AccountUpdatedNotification", result: null, experimental: false },
    ],
  };
}

describe("schema:diff", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    writeJson(path.join(dir, "old.json"), tinyBundle(["apikey", "chatgpt"]));
    writeJson(path.join(dir, "new.json"), tinyBundle(["apikey", "chatgpt", "headers"]));
  });

  it("the command: exits 1 on a breaking change and says what and where, without colour when not a TTY", async () => {
    const run = await schemaDiffProcess(["diff", "old.json", "new.json"], dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("account/updated");
    expect(run.stdout).toMatch(/BREAKING enum-value-added .*AuthMode: value "headers" added/);
    expect(run.stdout).toContain("/definitions/AuthMode/enum/2");
    expect(run.stdout).toContain("FAIL: 1 breaking change not allowlisted");
    expect(run.stdout).not.toContain("\x1b[");
  });

  it("--json prints one object with findings and a summary", async () => {
    const run = await schemaDiff(["diff", "old.json", "new.json", "--json"], dir);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ ok: false, summary: { breaking: 1, unallowedBreaking: 1, methodsAdded: 0 } });
    expect(report.findings).toEqual([
      expect.objectContaining({ rule: "enum-value-added", severity: "breaking", breaks: ["oldClients"], direction: "serverToClient", method: "account/updated", pointer: "/definitions/AuthMode/enum/2" }),
    ]);
    expect(report.summary.breakingFor).toEqual({ oldClients: 1, newClients: 0 });
  });

  it("the reverse change (a value removed from what clients receive) breaks new clients of older servers", async () => {
    const run = await schemaDiff(["diff", "new.json", "old.json", "--json"], dir);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.summary).toMatchObject({ breaking: 1, breakingFor: { oldClients: 0, newClients: 1 } });
    expect(report.findings).toEqual([expect.objectContaining({ rule: "enum-value-removed", breaks: ["newClients"], direction: "serverToClient" })]);
  });

  it("reads Codex's schema folders", async () => {
    const run = await schemaDiff(["diff", path.join(UPSTREAM, "0.142.0"), path.join(UPSTREAM, "0.169.0"), "--json"], dir);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.findings).toContainEqual(expect.objectContaining({ rule: "method-removed", method: "thread/rollback", pointer: "/definitions/ClientRequest/oneOf/16" }));
  });

  it("exits 2 on bad input and bad usage", async () => {
    writeFileSync(path.join(dir, "broken.json"), "{ not json");
    const broken = await schemaDiff(["diff", "old.json", "broken.json"], dir);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain("broken.json: cannot read JSON");
    const usage = await schemaDiff(["diff", "old.json"], dir);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("usage:");
  });
});

/**
 * A git repository holding a copy of the project's protocol schemas in one commit on main: made
 * once per file, then copied (`.git` included) for each test, which is the same repository without
 * three git processes per test.
 */
let template: string | undefined;
function gitRepo(): string {
  if (template === undefined) {
    template = tempDir();
    cpSync(path.join(REPO, "schemas/app-server"), path.join(template, "schemas/app-server"), { recursive: true });
    git(template, "init", "-q", "-b", "main");
    commitAll(template, "schemas");
  }
  const dir = tempDir();
  cpSync(template, dir, { recursive: true });
  return dir;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", ...args], {
    cwd,
    encoding: "utf8",
  });
}

function commitAll(cwd: string, message: string): void {
  git(cwd, "add", "-A");
  git(cwd, "commit", "-q", "-m", message);
}

const AUTH = "schemas/app-server/common/auth.json";
const ALLOWLIST = "schemas/compat-allowlist.json";

/** Adds a value to AuthMode; returns the pointer of the new value in the bundle. */
function addAuthMode(dir: string, value: string): string {
  const file = path.join(dir, AUTH);
  const schema = readJson(file);
  schema.definitions.AuthMode.enum.push(value);
  writeJson(file, schema);
  return `/definitions/AuthMode/enum/${schema.definitions.AuthMode.enum.length - 1}`;
}

function allow(dir: string, entries: unknown[]): void {
  writeJson(path.join(dir, ALLOWLIST), { entries });
}

async function check(dir: string, ...args: string[]) {
  const run = await schemaDiff(["check", "--json", ...args], dir);
  return { ...run, report: run.stdout ? JSON.parse(run.stdout) : undefined };
}

describeIf(gitRequirement(), "schema:check (git repositories in temporary folders)", () => {
  it("a clean single-commit clone has no baseline and passes with a note", async () => {
    const dir = gitRepo();
    const run = await check(dir);
    expect(run.code).toBe(0);
    expect(run.report.notes.join("\n")).toMatch(/no baseline: .*has not changed since the first commit/);
  });

  it("adding an AuthMode value fails until it is allowlisted with a reason", async () => {
    const dir = gitRepo();
    const pointer = addAuthMode(dir, "bedrockApiKey");

    const failing = await check(dir);
    expect(failing.code).toBe(1);
    expect(failing.report.notes[0]).toContain("uncommitted changes under schemas/app-server/ are checked against HEAD");
    expect(failing.report.findings).toEqual([
      expect.objectContaining({ rule: "enum-value-added", severity: "breaking", direction: "serverToClient", method: "account/updated", pointer }),
    ]);

    allow(dir, [{ rule: "enum-value-added", pointer, method: "account/updated", reason: "Bedrock login ships in 0.2; clients were told in the changelog" }]);
    const passing = await check(dir);
    expect(passing.code).toBe(0);
    expect(passing.report.summary).toMatchObject({ breaking: 1, allowlisted: 1, unallowedBreaking: 0 });
    expect(passing.report.findings[0].allowlisted.reason).toContain("Bedrock");

    // Committed but unreleased, on a clean tree: still caught (baseline: before the last schema commit).
    allow(dir, []);
    commitAll(dir, "AuthMode: bedrockApiKey");
    const committed = await check(dir);
    expect(committed.code).toBe(1);
    expect(committed.report.notes[0]).toContain("the state before the last commit that changed schemas/app-server/");
  });

  it("a v2-only copy of AuthMode with an extra value fails as well", async () => {
    const dir = gitRepo();
    const file = path.join(dir, "schemas/app-server/v2/account-notifications.json");
    const schema = readJson(file);
    const values = readJson(path.join(dir, AUTH)).definitions.AuthMode.enum as string[];
    schema.definitions.AccountUpdatedNotification.properties.authMode = { anyOf: [{ type: "string", enum: [...values, "headers"] }, { type: "null" }] };
    writeJson(file, schema);
    const run = await check(dir);
    expect(run.code).toBe(1);
    expect(run.report.findings).toContainEqual(
      expect.objectContaining({
        rule: "enum-value-added",
        method: "account/updated",
        pointer: `/definitions/AccountUpdatedNotification/properties/authMode/anyOf/0/enum/${values.length}`,
        details: expect.objectContaining({ value: "headers" }),
      }),
    );
  });

  it("rejects an entry without a reason, and fails on a stale entry", async () => {
    const dir = gitRepo();
    const pointer = addAuthMode(dir, "headers");

    allow(dir, [{ rule: "enum-value-added", pointer }]);
    const noReason = await check(dir);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain(`entries[0]: "reason" is required`);

    allow(dir, [{ rule: "enum-value-added", pointer, reason: "   " }, { rule: "no-such-rule", pointer, reason: "x" }]);
    const bad = await check(dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`entries[0]: "reason" is required`);
    expect(bad.stderr).toContain(`entries[1]: "rule" must be one of`);

    allow(dir, [
      { rule: "enum-value-added", pointer, reason: "planned" },
      { rule: "field-removed", pointer: "/definitions/GetAccountResponse/properties/userId", reason: "was needed once" },
    ]);
    const stale = await check(dir);
    expect(stale.code).toBe(1);
    expect(stale.report.summary).toMatchObject({ unallowedBreaking: 0, staleAllowlistEntries: 1 });
    expect(stale.report.staleAllowlistEntries).toEqual([expect.objectContaining({ index: 1, entry: expect.objectContaining({ rule: "field-removed" }) })]);
  });

  it("compares against the last release tag; after the next release the entry is stale", async () => {
    const dir = gitRepo();
    git(dir, "tag", "v0.1.0");
    const pointer = addAuthMode(dir, "headers");
    allow(dir, [{ rule: "enum-value-added", pointer, reason: "announced" }]);
    commitAll(dir, "AuthMode: headers");
    writeFileSync(path.join(dir, "README.md"), "unrelated\n");
    commitAll(dir, "docs");

    const sinceRelease = await check(dir);
    expect(sinceRelease.code).toBe(0);
    expect(sinceRelease.report.notes[0]).toContain("last release tag v0.1.0");
    expect(sinceRelease.report.summary.allowlisted).toBe(1);

    // Tagging HEAD keeps checking the release commit against the release before it.
    git(dir, "tag", "v0.2.0");
    expect((await check(dir)).code).toBe(0);

    writeFileSync(path.join(dir, "README.md"), "more\n");
    commitAll(dir, "docs again");
    const afterRelease = await check(dir);
    expect(afterRelease.code).toBe(1);
    expect(afterRelease.report.notes[0]).toContain("last release tag v0.2.0");
    expect(afterRelease.report.summary).toMatchObject({ breaking: 0, staleAllowlistEntries: 1 });
  });

  it("on a branch, compares against the merge base with main", async () => {
    const dir = gitRepo();
    writeFileSync(path.join(dir, "README.md"), "x\n");
    commitAll(dir, "docs");
    git(dir, "checkout", "-q", "-b", "feature");
    const file = path.join(dir, "schemas/app-server/v2/account-read.json");
    const schema = readJson(file);
    schema.definitions.GetAccountParams.additionalProperties = false;
    writeJson(file, schema);
    commitAll(dir, "close GetAccountParams");

    const run = await check(dir);
    expect(run.code).toBe(1);
    expect(run.report.notes[0]).toContain("merge base of HEAD with main");
    expect(run.report.findings).toEqual([
      expect.objectContaining({ rule: "additional-properties-tightened", direction: "clientToServer", method: "account/read", pointer: "/definitions/GetAccountParams/additionalProperties" }),
    ]);
  });

  it("a server→client field made required breaks new clients of older servers; the allowlist entry names that audience", async () => {
    const dir = gitRepo();
    const file = path.join(dir, "schemas/app-server/v2/account-read.json");
    const schema = readJson(file);
    const response = schema.definitions.GetAccountResponse;
    const field = Object.keys(response.properties).find((name) => !(response.required ?? []).includes(name))!;
    response.required = [...(response.required ?? []), field];
    writeJson(file, schema);
    const pointer = `/definitions/GetAccountResponse/properties/${field}`;

    const failing = await check(dir);
    expect(failing.code).toBe(1);
    expect(failing.report.findings).toEqual([
      expect.objectContaining({ rule: "field-required", severity: "breaking", breaks: ["newClients"], direction: "serverToClient", method: "account/read", pointer }),
    ]);
    const text = await schemaDiff(["check"], dir);
    expect(text.stdout).toContain("breaks new clients → older servers: new clients (validating with the new schemas) reject what older servers send");

    // An entry for the other audience covers nothing (and is stale); one for this audience does.
    allow(dir, [{ rule: "field-required", pointer, breaks: "oldClients", reason: "wrong audience" }]);
    const wrong = await check(dir);
    expect(wrong.code).toBe(1);
    expect(wrong.report.summary).toMatchObject({ unallowedBreaking: 1, staleAllowlistEntries: 1 });
    allow(dir, [{ rule: "field-required", pointer, breaks: "newClients", reason: "every supported server sends it; clients of older ones must upgrade the server first" }]);
    const allowed = await check(dir);
    expect(allowed.code).toBe(0);
    expect(allowed.report.summary).toMatchObject({ allowlisted: 1, unallowedBreaking: 0 });

    allow(dir, [{ rule: "field-required", pointer, breaks: "servers", reason: "x" }]);
    const bad = await check(dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`entries[0]: "breaks" must be oldClients`);
  });

  it("--base-dir and --base choose the baseline explicitly", async () => {
    const dir = gitRepo();
    const original = tempDir();
    cpSync(path.join(dir, "schemas"), path.join(original, "schemas"), { recursive: true });
    addAuthMode(dir, "headers");

    const fromDir = await check(dir, "--base-dir", path.join(original, "schemas"));
    expect(fromDir.code).toBe(1);
    expect(fromDir.report.old).toBe(path.join(original, "schemas"));

    const fromRef = await check(dir, "--base", "HEAD");
    expect(fromRef.code).toBe(1);
    expect(fromRef.report.notes[0]).toContain("given with --base");

    const missing = await check(dir, "--base", "no-such-ref");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`git ref "no-such-ref" does not exist`);
  });
});
