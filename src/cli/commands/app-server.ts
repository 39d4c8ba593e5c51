import { isAuthError } from "../../auth/errors.js";
import { displayArgument } from "../args.js";
import { errorMessage, openCliAuth } from "../auth-setup.js";
import { writeLine, type CliContext } from "../context.js";
import { readLoginKnobs, type LoginKnobs } from "../login-knobs.js";
import { packageVersions } from "../version.js";

/**
 * `codex-auth app-server [--listen stdio://]`: the account surface of the Codex app-server protocol
 * as newline-delimited JSON on stdin/stdout. Diagnostics go to stderr; exit 0 at stdin EOF once
 * in-flight requests are answered.
 *
 * Test knobs (environment): CODEX_AUTH_APP_SERVER_REQUEST_TIMEOUT_MS (server→client request
 * timeout, default 10000), CODEX_AUTH_APP_SERVER_MAX_LINE_BYTES (input line cap, default 1 MiB),
 * and the login knobs of ../login-knobs.ts (CODEX_AUTH_LOGIN_PORT, CODEX_AUTH_DEVICE_CODE_TIMEOUT_MS,
 * CODEX_APP_SERVER_LOGIN_ISSUER).
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
  let loginKnobs: LoginKnobs;
  try {
    knobs = readKnobs(ctx.env);
    loginKnobs = readLoginKnobs(ctx.env);
  } catch (error) {
    writeLine(ctx.stderr, `error: ${errorMessage(error)}`);
    return 2;
  }

  const { createAppServer } = await import("../../app-server/server.js");
  const { createStreamLogger } = await import("../../app-server/log.js");
  const log = createStreamLogger(ctx.stderr);
  // The manager's diagnostics (failed refresh or revoke, Codex's texts) are the server's error log.
  const setup = await openCliAuth(ctx, { enableCodexApiKeyEnv: false, log: () => (message) => log.error(message) });
  if ("exitCode" in setup) return setup.exitCode;
  const loginIssuer = ctx.env.CODEX_APP_SERVER_LOGIN_ISSUER?.trim();

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
    configOverrides: ctx.configOverrides,
    codexHome: setup.codexHome,
    ...(await packageVersions()),
    log,
    chatgptLogin: {
      ...(loginIssuer ? { issuer: loginIssuer } : {}),
      ...(loginKnobs.loginPort === undefined ? {} : { loginPort: loginKnobs.loginPort }),
      ...(loginKnobs.deviceCodeTimeoutMs === undefined ? {} : { deviceCodeTimeoutMs: loginKnobs.deviceCodeTimeoutMs }),
    },
    ...knobs,
  });
  // SIGTERM / SIGINT end the session as stdin EOF does (answered, flushed, exit 0); a second one
  // gets the default action, so a stuck shutdown can still be interrupted.
  const stop = () => server.stop();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  try {
    await server.run();
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
  }
  return 0;
}

function parseArgs(args: readonly string[]): { listen: "stdio" } | "help" | string {
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === "--help" || arg === "-h") return "help";
    if (arg === "--listen" || arg.startsWith("--listen=")) {
      const value = arg === "--listen" ? args[++index] : arg.slice("--listen=".length);
      if (value === undefined) return "a value is required for '--listen <URL>' but none was supplied";
      if (value !== "stdio://" && value !== "stdio") return `unsupported --listen value '${displayArgument(value)}': only stdio:// is supported`;
      continue;
    }
    return `unexpected argument '${displayArgument(arg)}' found`;
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
