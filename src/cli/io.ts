import { admitCredential, type Secret } from "../auth/secret.js";
import { describeLibraryError } from "../protocol/safe-text.js";
import { writeLine, type CliContext } from "./context.js";

export type StdinSecretKind = "apiKey" | "accessToken";

const TEXTS: Record<StdinSecretKind, { flag: string; what: string; envVar: string; failure: string }> = {
  apiKey: { flag: "--with-api-key", what: "API key", envVar: "OPENAI_API_KEY", failure: "Error logging in" },
  accessToken: { flag: "--with-access-token", what: "access token", envVar: "CODEX_ACCESS_TOKEN", failure: "Error logging in with access token" },
};

/**
 * Codex's `read_stdin_secret`: refuse an interactive terminal (a secret typed there would echo and
 * land in shell history habits), announce the read, read to EOF, trim, refuse empty. Returns the
 * secret wrapped at once, or the exit code after printing the message.
 */
export async function readStdinSecret(kind: StdinSecretKind, ctx: CliContext): Promise<Secret | number> {
  const { flag, what, envVar, failure } = TEXTS[kind];
  if (ctx.stdin.isTTY) {
    writeLine(ctx.stderr, `${flag} expects the ${what} on stdin. Try piping it, e.g. \`printenv ${envVar} | codex-auth login ${flag}\`.`);
    return 1;
  }
  writeLine(ctx.stderr, `Reading ${what} from stdin...`);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of ctx.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  } catch (error) {
    writeLine(ctx.stderr, `Failed to read stdin: ${describeLibraryError(error)}`);
    return 1;
  }
  const raw = Buffer.concat(chunks);
  const value = raw.toString("utf8").trim();
  // Do not leave the secret's bytes lying in buffers longer than needed.
  raw.fill(0);
  for (const chunk of chunks) chunk.fill(0);
  if (value.length === 0) {
    writeLine(ctx.stderr, `No ${what} provided via stdin.`);
    return 1;
  }
  try {
    return admitCredential(value, `the ${what} read from stdin`);
  } catch (error) {
    writeLine(ctx.stderr, `${failure}: ${(error as Error).message}`);
    return 1;
  }
}
