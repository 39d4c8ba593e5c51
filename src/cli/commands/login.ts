import { isAuthError } from "../../auth/errors.js";
import { USAGE, displayArgument, parseFlags, usageError } from "../args.js";
import { errorMessage, openCliAuth } from "../auth-setup.js";
import { writeLine, type CliContext } from "../context.js";
import { readStdinSecret } from "../io.js";

const FLAGS = {
  "with-api-key": { type: "boolean" },
  "with-access-token": { type: "boolean" },
  "device-auth": { type: "boolean" },
  "api-key": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** `codex-auth login [--with-api-key | --with-access-token | --device-auth]`, dispatched in Codex's order. */
export async function runLoginCommand(args: readonly string[], ctx: CliContext): Promise<number> {
  // The deprecated `--api-key <KEY>` may carry a key: answer before parsing so it is never echoed.
  if (args.some((arg) => arg === "--api-key" || arg.startsWith("--api-key="))) {
    writeLine(ctx.stderr, "The --api-key flag is no longer supported. Pipe the key instead, e.g. `printenv OPENAI_API_KEY | codex-auth login --with-api-key`.");
    return 1;
  }
  const hidden = extractHiddenOptions(args);
  if (typeof hidden === "string") return usageError(ctx, hidden, USAGE.login);
  const parsed = parseFlags(hidden.rest, FLAGS, USAGE.login, ctx);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (values.help) {
    ctx.stdout.write((await import("../help.js")).LOGIN_HELP);
    return 0;
  }
  if (positionals.length > 0) return usageError(ctx, `unexpected argument '${displayArgument(positionals[0] as string)}' found`, USAGE.login);

  if (values["with-api-key"] && values["with-access-token"]) {
    writeLine(ctx.stderr, "Choose one login credential source: --with-api-key or --with-access-token.");
    return 1;
  }
  if (values["device-auth"]) return (await import("./login-chatgpt.js")).runDeviceCodeLogin(ctx, hidden.flags);
  if (values["with-api-key"]) return loginWithApiKey(ctx);
  if (values["with-access-token"]) return loginWithAccessToken(ctx);
  return (await import("./login-chatgpt.js")).runBrowserLogin(ctx, hidden.flags);
}

const HIDDEN_OPTIONS = { "--experimental_issuer": "issuer", "--experimental_client-id": "clientId" } as const;

/** Codex's hidden `--experimental_issuer <URL>` and `--experimental_client-id <ID>` (also `--name=value`). */
function extractHiddenOptions(args: readonly string[]): { flags: { issuer: string | null; clientId: string | null }; rest: string[] } | string {
  const flags: { issuer: string | null; clientId: string | null } = { issuer: null, clientId: null };
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const name = arg.split("=")[0] as string;
    const key = (HIDDEN_OPTIONS as Record<string, "issuer" | "clientId">)[name];
    if (key === undefined) {
      rest.push(arg);
      continue;
    }
    const value = arg.includes("=") ? arg.slice(name.length + 1) : args[++i];
    if (value === undefined) return `a value is required for '${name} <${key === "issuer" ? "URL" : "ID"}>' but none was supplied`;
    flags[key] = value;
  }
  return { flags, rest };
}

async function loginWithApiKey(ctx: CliContext): Promise<number> {
  const key = await readStdinSecret("apiKey", ctx);
  if (typeof key === "number") return key;
  const setup = await openCliAuth(ctx, { enableCodexApiKeyEnv: false });
  if ("exitCode" in setup) return setup.exitCode;
  try {
    await setup.manager.loginWithApiKey(key);
  } catch (error) {
    writeLine(ctx.stderr, isAuthError(error, "LOGIN_METHOD_DISABLED") ? error.message : `Error logging in: ${errorMessage(error)}`);
    return 1;
  }
  writeLine(ctx.stderr, "API key saved. Authentication is checked when you send a request.");
  return 0;
}

async function loginWithAccessToken(ctx: CliContext): Promise<number> {
  const token = await readStdinSecret("accessToken", ctx);
  if (typeof token === "number") return token;
  const setup = await openCliAuth(ctx, { enableCodexApiKeyEnv: false });
  if ("exitCode" in setup) return setup.exitCode;
  try {
    await setup.manager.loginWithAccessToken(token);
  } catch (error) {
    writeLine(ctx.stderr, isAuthError(error, "LOGIN_METHOD_DISABLED") ? error.message : `Error logging in with access token: ${errorMessage(error)}`);
    return 1;
  }
  writeLine(ctx.stderr, "Successfully logged in");
  return 0;
}
