import { readFile } from "node:fs/promises";
import { isAuthError } from "../../auth/errors.js";
import { errorMessage, openCliAuth } from "../auth-setup.js";
import { writeLine, type CliContext } from "../context.js";

/**
 * `codex-auth app-server [--listen stdio://]`: the account surface of the Codex app-server protocol
 * as newline-delimited JSON on stdin/stdout. Diagnostics go to stderr; exit 0 at stdin EOF once
 * in-flight requests are answered.
 *
 * Test knobs (environment): CODEX_AUTH_APP_SERVER_REQUEST_TIMEOUT_MS (server→client request
 * timeout, default 10000), CODEX_AUTH_APP_SERVER_MAX_LINE_BYTES (input line cap, default 1 MiB).
 */
const USAGE = "Usage: codex-auth app-server [--listen stdio://]";

export async function runAppServerCommand(args: readonly string[], ctx: CliContext): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed === "help") {
    ctx.stdout.write(`${USAGE}\n\nServes the Codex app-server account protocol over stdio (one JSON object per line).\n`);
    return 0;
  }
  if (typeof parsed === "string") {
    writeLine(ctx.stderr, `error: ${parsed}\n\n${USAGE}`);
    return 2;
  }
  let knobs: { serverRequestTimeoutMs?: number; maxLineBytes?: number };
  try {
    knobs = readKnobs(ctx.env);
  } catch (error) {
    writeLine(ctx.stderr, `error: ${errorMessage(error)}`);
    return 2;
  }

  const setup = await openCliAuth(ctx, { enableCodexApiKeyEnv: false });
  if ("exitCode" in setup) return setup.exitCode;
  const { createAppServer } = await import("../../app-server/server.js");
  const { createStreamLogger } = await import("../../app-server/log.js");
  const log = createStreamLogger(ctx.stderr);

  // Preflight: a stored or env PAT is checked with a live whoami before serving; a failure is
  // reported here and the server starts without credentials (as Codex does).
  try {
    await setup.manager.current();
  } catch (error) {
    if (!isAuthError(error)) throw error;
    log.warn(`credentials could not be loaded: ${error.message}`);
  }

  const server = createAppServer({
    input: ctx.stdin,
    output: ctx.stdout,
    errorOutput: ctx.stderr,
    auth: setup.manager,
    config: setup.config,
    codexHome: setup.codexHome,
    version: await packageVersion(),
    log,
    ...knobs,
  });
  await server.run();
  return 0;
}

function parseArgs(args: readonly string[]): { listen: "stdio" } | "help" | string {
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === "--help" || arg === "-h") return "help";
    if (arg === "--listen" || arg.startsWith("--listen=")) {
      const value = arg === "--listen" ? args[++index] : arg.slice("--listen=".length);
      if (value === undefined) return "a value is required for '--listen <URL>' but none was supplied";
      if (value !== "stdio://" && value !== "stdio") return `unsupported --listen value '${value}': only stdio:// is supported`;
      continue;
    }
    return `unexpected argument '${/^[\w-]{1,40}$/.test(arg) ? arg : "<redacted>"}' found`;
  }
  return { listen: "stdio" };
}

function readKnobs(env: CliContext["env"]): { serverRequestTimeoutMs?: number; maxLineBytes?: number } {
  const positive = (name: string): number | undefined => {
    const raw = env[name]?.trim();
    if (!raw) return undefined;
    if (!/^\d+$/.test(raw) || Number(raw) <= 0) throw new Error(`${name} must be a positive integer, got '${raw}'`);
    return Number(raw);
  };
  const serverRequestTimeoutMs = positive("CODEX_AUTH_APP_SERVER_REQUEST_TIMEOUT_MS");
  const maxLineBytes = positive("CODEX_AUTH_APP_SERVER_MAX_LINE_BYTES");
  return {
    ...(serverRequestTimeoutMs !== undefined ? { serverRequestTimeoutMs } : {}),
    ...(maxLineBytes !== undefined ? { maxLineBytes } : {}),
  };
}

/** The package version, found by walking up from this module (works from src/ and dist/). */
async function packageVersion(): Promise<string> {
  for (let url = new URL("./", import.meta.url), depth = 0; depth < 6; depth++, url = new URL("../", url)) {
    try {
      const manifest = JSON.parse(await readFile(new URL("package.json", url), "utf8")) as { name?: string; version?: string };
      if (manifest.name === "codex-auth" && manifest.version) return manifest.version;
    } catch {
      // Not here: keep walking up.
    }
  }
  return "0.0.0";
}
