/**
 * The schema compatibility gate as a function (scripts/schema-diff.ts is its command line; tests
 * call it in process). See scripts/schema-diff.ts for the usage.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { applyAllowlist, EMPTY_ALLOWLIST, parseAllowlist, type Allowlist } from "../../src/compat/allowlist.js";
import { chooseBaseline, type GitQueries } from "../../src/compat/baseline.js";
import { CompatError, diffBundles, type DiffResult } from "../../src/compat/index.js";
import { buildReport, renderJson, renderText, type Report } from "../../src/compat/report.js";

const USAGE = `usage:
  schema-diff diff OLD NEW [--json]
  schema-diff check [--base <git-ref> | --base-dir <folder>] [--schemas <folder>] [--allowlist <file>] [--json]`;

/** Bundle files inside a folder written by \`codex app-server generate-json-schema\`, best first. */
const UPSTREAM_BUNDLES = ["codex_app_server_protocol.schemas.json", "codex_app_server_protocol.v2.schemas.json"];

async function bundleFolder(folder: string): Promise<unknown> {
  // Loaded lazily: a diff of two bundle files needs no bundler.
  const { bundleProtocolSchemas, protocolRoot } = await import("../codegen/bundle.js");
  if (!existsSync(path.join(protocolRoot(folder), "methods.json"))) {
    throw new CompatError("COMPAT_INPUT_INVALID", `${folder}: not a schema folder (no methods.json, no app-server/methods.json)`);
  }
  // Only what the comparison needs: a baseline may predate codegen's newer lint rules.
  return bundleProtocolSchemas(folder, { codegenLint: false });
}

async function readInput(input: string, label = input): Promise<unknown> {
  let stats;
  try {
    stats = statSync(input);
  } catch {
    throw new CompatError("COMPAT_INPUT_INVALID", `${label}: no such file or folder`);
  }
  if (stats.isDirectory()) {
    const upstream = UPSTREAM_BUNDLES.map((name) => path.join(input, name)).find((file) => existsSync(file));
    return upstream === undefined ? bundleFolder(input) : readJson(upstream, path.join(label, path.basename(upstream)));
  }
  return readJson(input, label);
}

function readJson(file: string, label = file): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new CompatError("COMPAT_INPUT_INVALID", `${label}: cannot read JSON: ${(error as Error).message}`);
  }
}

function git(cwd: string, args: string[]): string | undefined {
  try {
    return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

function gitQueries(root: string): GitQueries {
  const run = (...args: string[]) => git(root, args);
  return {
    lastReleaseTag: (rev) => run("describe", "--tags", "--abbrev=0", "--match", "v*", rev) || undefined,
    releaseTagsAtHead: () => (run("tag", "--points-at", "HEAD", "--list", "v*") ?? "").split("\n").filter(Boolean),
    commitOf: (rev) => run("rev-parse", "--verify", "--quiet", `${rev}^{commit}`) || undefined,
    currentBranch: () => run("symbolic-ref", "--short", "--quiet", "HEAD") || undefined,
    mergeBase: (a, b) => run("merge-base", a, b) || undefined,
    lastCommitTouching: (p) => run("log", "-1", "--format=%H", "--", p) || undefined,
    hasUncommittedChanges: (p) => (run("status", "--porcelain", "--untracked-files=all", "--", p) ?? "") !== "",
    isShallow: () => run("rev-parse", "--is-shallow-repository") === "true",
  };
}

/** Writes the files under `folder` as they are at `ref` into a temporary copy; returns the copy of `folder`. */
function materialise(root: string, ref: string, folder: string, into: string): string {
  // One `git archive` instead of a `git show` per file: two processes, whatever the file count.
  let archive: Buffer;
  try {
    archive = execFileSync("git", ["archive", "--format=tar", ref, "--", folder], { cwd: root, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 * 1024 * 1024 });
  } catch {
    // No such folder at that commit: the caller notes that there is no baseline.
    if (git(root, ["ls-tree", "--name-only", ref, "--", folder]) === "") return path.join(into, folder);
    throw new CompatError("COMPAT_BASELINE_UNAVAILABLE", `cannot read ${folder}/ at ${ref}`);
  }
  mkdirSync(into, { recursive: true });
  if (archive.length > 0) execFileSync("tar", ["-x", "-C", into], { input: archive, stdio: ["pipe", "ignore", "pipe"] });
  return path.join(into, folder);
}

interface CheckOptions {
  base: string | undefined;
  baseDir: string | undefined;
  schemas: string;
  allowlist: string | undefined;
  resolve: (p: string) => string;
}

/** The result when there is no baseline: nothing compared, so entries in the allowlist are stale. */
const NO_CHANGES: DiffResult = { findings: [], summary: { breaking: 0, nonBreaking: 0, methodsCompared: 0, methodsAdded: 0, methodsRemoved: 0 } };

async function runDiff(oldInput: string, newInput: string, resolve: (p: string) => string): Promise<Report> {
  const result = diffBundles(await readInput(resolve(oldInput), oldInput), await readInput(resolve(newInput), newInput), { oldLabel: oldInput, newLabel: newInput });
  return buildReport({ oldLabel: oldInput, newLabel: newInput, result });
}

function loadAllowlist(file: string, label: string): Allowlist {
  return existsSync(file) ? parseAllowlist(readJson(file, label), label) : EMPTY_ALLOWLIST;
}

async function runCheck(options: CheckOptions): Promise<Report> {
  const schemasDir = options.resolve(options.schemas);
  const allowlistFile = options.allowlist ?? path.join(options.schemas, "compat-allowlist.json");
  // Read first: an invalid allowlist is an error whatever the schemas say.
  const allowlist = loadAllowlist(options.resolve(allowlistFile), allowlistFile);
  const newLabel = `${options.schemas} (working tree)`;
  const newBundle = await bundleFolder(schemasDir);

  let oldBundle: unknown;
  let oldLabel: string;
  const notes: string[] = [];
  if (options.baseDir !== undefined) {
    oldBundle = await readInput(options.resolve(options.baseDir), options.baseDir);
    oldLabel = options.baseDir;
  } else {
    const root = git(schemasDir, ["rev-parse", "--show-toplevel"]);
    if (root === undefined) throw new CompatError("COMPAT_BASELINE_UNAVAILABLE", `${options.schemas} is not in a git repository: pass --base-dir`);
    const { protocolRoot } = await import("../codegen/bundle.js");
    const protocolPath = path.relative(root, protocolRoot(schemasDir)).split(path.sep).join("/");
    const baseline =
      options.base !== undefined ? { kind: "ref" as const, ref: options.base, reason: "given with --base" } : chooseBaseline(gitQueries(root), { protocolPath });
    if (baseline.kind === "none") {
      notes.push(`no baseline: ${baseline.reason}; nothing to compare, the check passes`);
      return buildReport({ oldLabel: "(none)", newLabel, notes, result: NO_CHANGES, allowlist: applyAllowlist([], allowlist) });
    }
    if (git(root, ["rev-parse", "--verify", "--quiet", `${baseline.ref}^{commit}`]) === undefined) {
      throw new CompatError("COMPAT_BASELINE_UNAVAILABLE", `git ref "${baseline.ref}" does not exist`);
    }
    oldLabel = `git ${/^[0-9a-f]{40}$/.test(baseline.ref) ? baseline.ref.slice(0, 12) : baseline.ref}`;
    notes.push(`baseline: ${baseline.reason}`);
    const scratch = mkdtempSync(path.join(tmpdir(), "schema-check-"));
    try {
      const folder = materialise(root, baseline.ref, protocolPath, scratch);
      if (!existsSync(path.join(folder, "methods.json"))) {
        notes.push(`no baseline: ${protocolPath}/ does not exist at ${oldLabel}; nothing to compare, the check passes`);
        return buildReport({ oldLabel: "(none)", newLabel, notes, result: NO_CHANGES, allowlist: applyAllowlist([], allowlist) });
      }
      oldBundle = await bundleFolder(folder);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  const result = diffBundles(oldBundle, newBundle, { oldLabel, newLabel });
  return buildReport({ oldLabel, newLabel, notes, result, allowlist: applyAllowlist(result.findings, allowlist) });
}

/** Where the command reads relative paths from and writes its output (the process's, or a test's). */
export interface SchemaDiffIo {
  cwd: string;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Colour the text report (a TTY without NO_COLOR). */
  color?: boolean;
}

/** The whole command; returns its exit code (0 compatible, 1 breaking or stale, 2 usage or input error). */
export async function runSchemaDiff(argv: string[], io: SchemaDiffIo): Promise<number> {
  const resolve = (p: string) => path.resolve(io.cwd, p);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: "boolean", default: false },
        base: { type: "string" },
        "base-dir": { type: "string" },
        schemas: { type: "string", default: "schemas" },
        allowlist: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    io.stderr(`schema-diff: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  try {
    let report: Report;
    if (command === "diff" && rest.length === 2) {
      report = await runDiff(rest[0]!, rest[1]!, resolve);
    } else if (command === "check" && rest.length === 0) {
      if (values.base !== undefined && values["base-dir"] !== undefined) throw new CompatError("COMPAT_USAGE", "give --base or --base-dir, not both");
      report = await runCheck({
        base: values.base,
        baseDir: values["base-dir"],
        schemas: values.schemas,
        allowlist: values.allowlist,
        resolve,
      });
    } else {
      throw new CompatError("COMPAT_USAGE", command === undefined ? "missing command" : `bad arguments for "${command}"`);
    }
    io.stdout(values.json ? renderJson(report) : renderText(report, { color: io.color === true }));
    return report.ok ? 0 : 1;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (error instanceof CompatError || (typeof code === "string" && error instanceof Error && error.name === "CodegenError")) {
      io.stderr(`schema-diff: ${error.message}${error instanceof CompatError && error.code === "COMPAT_USAGE" ? `\n${USAGE}` : ""}\n`);
      return 2;
    }
    throw error;
  }
}

