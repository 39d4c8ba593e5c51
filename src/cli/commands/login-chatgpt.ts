import type { ChatgptLoginError } from "../../auth/chatgpt/errors.js";
import type { AuthManager } from "../../auth/manager.js";
import { assertChatgptLoginAllowed } from "../../auth/policy.js";
import { terminalSafeInline } from "../../protocol/safe-text.js";
import { errorMessage, openCliAuth } from "../auth-setup.js";
import { openBrowser } from "../browser.js";
import { writeLine, type CliContext } from "../context.js";
import { createLoginLog } from "../login-log.js";
import { readLoginKnobs, type LoginKnobs } from "../login-knobs.js";
import { packageVersion } from "../version.js";

/**
 * `codex-auth login` (browser PKCE) and `codex-auth login --device-auth`, as Codex 0.169.0 runs
 * them: the forced-method gate, then existing auth is cleared (logout with revoke, best effort),
 * then the flow. Human lines go to stderr; the device-code prompt goes to stdout. Every failure is
 * `Error logging in: <reason>` with exit 1; Ctrl-C cancels the login (the callback server closes,
 * polling stops, nothing is saved) with exit 130.
 */
export interface ChatgptLoginFlags {
  /** Hidden `--experimental_issuer <URL>` (Codex's); else `CODEX_AUTH_ISSUER`, else https://auth.openai.com. */
  issuer: string | null;
  /** Hidden `--experimental_client-id <ID>`. */
  clientId: string | null;
}

const EXIT_INTERRUPTED = 130;

export async function runBrowserLogin(ctx: CliContext, flags: ChatgptLoginFlags): Promise<number> {
  return runChatgptLogin(ctx, {
    start: (manager, knobs, signal) =>
      manager.startChatgptLogin({ ...overrides(flags), ...(knobs.loginPort === undefined ? {} : { port: knobs.loginPort }), signal }),
    announce: (handle) => {
      writeLine(
        ctx.stderr,
        `Starting local login server on http://localhost:${handle.port}.\nIf your browser did not open, navigate to this URL to authenticate:\n\n${handle.authUrl}\n\nOn a remote or headless machine? Use \`codex-auth login --device-auth\` instead.`,
      );
      openBrowser(handle.authUrl, ctx.env);
    },
  });
}

export async function runDeviceCodeLogin(ctx: CliContext, flags: ChatgptLoginFlags): Promise<number> {
  let maxWaitMs: number | undefined;
  return runChatgptLogin(ctx, {
    start: (manager, knobs, signal) => {
      maxWaitMs = knobs.deviceCodeTimeoutMs;
      return manager.startDeviceCodeLogin({ ...overrides(flags), ...(maxWaitMs === undefined ? {} : { maxWaitMs }), signal });
    },
    announce: async (login) => {
      const { describeWait, DEVICE_CODE_MAX_WAIT_MS } = await import("../../auth/chatgpt/device-code.js");
      ctx.stdout.write(
        deviceCodePrompt({
          version: await packageVersion(),
          // The issuer's fields: stripped here, since the prompt carries our own colour codes.
          verificationUrl: terminalSafeInline(login.verificationUrl),
          userCode: terminalSafeInline(login.userCode),
          expiresIn: describeWait(maxWaitMs ?? DEVICE_CODE_MAX_WAIT_MS),
          color: useColor(ctx),
        }),
      );
    },
  });
}

/** The shape both ChatGPT logins share: start, tell the user what to do, wait, report. */
async function runChatgptLogin<L extends { done: Promise<unknown> }>(
  ctx: CliContext,
  flow: { start(manager: AuthManager, knobs: LoginKnobs, signal: AbortSignal): Promise<L>; announce(login: L): void | Promise<void> },
): Promise<number> {
  const prepared = await prepare(ctx);
  if (typeof prepared === "number") return prepared;
  const interrupt = interruption(ctx);
  try {
    let login: L;
    try {
      login = await flow.start(prepared.manager, prepared.knobs, interrupt.signal);
    } catch (error) {
      writeLine(ctx.stderr, `Error logging in: ${errorMessage(error)}`);
      return 1;
    }
    await flow.announce(login);
    try {
      await login.done;
    } catch (error) {
      return reportFailure(ctx, error, interrupt.signal);
    }
    writeLine(ctx.stderr, "Successfully logged in");
    return 0;
  } finally {
    interrupt.dispose();
  }
}

/**
 * Codex's device-code prompt, with the product named `codex-auth` where it names the CLI.
 * **[differs]** Codex colours it unconditionally (escape codes even in a file or pipe); here colour
 * is used only when stdout is a terminal and `NO_COLOR` is unset.
 */
export function deviceCodePrompt(input: { version: string; verificationUrl: string; userCode: string; expiresIn: string; color: boolean }): string {
  const paint = (code: string) => (text: string) => (input.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const dim = paint("90");
  const link = paint("94");
  return [
    "",
    `Welcome to codex-auth [v${dim(input.version)}]`,
    dim("The Codex login and account system"),
    "",
    "Follow these steps to sign in with ChatGPT using device code authorization:",
    "",
    "1. Open this link in your browser and sign in to your account",
    `   ${link(input.verificationUrl)}`,
    "",
    `2. Enter this one-time code ${dim(`(expires in ${input.expiresIn})`)}`,
    `   ${link(input.userCode)}`,
    "",
    dim("Continue only if you started this login in codex-auth. If a website or another person gave you this code, cancel."),
    "",
  ]
    .map((line) => `${line}\n`)
    .join("");
}

function useColor(ctx: CliContext): boolean {
  const noColor = ctx.env.NO_COLOR;
  return (ctx.stdout as { isTTY?: boolean }).isTTY === true && (noColor === undefined || noColor === "");
}

/** Config, the forced-method gate, the knobs, then the logout that precedes every ChatGPT login. */
async function prepare(ctx: CliContext): Promise<{ manager: AuthManager; knobs: LoginKnobs } | number> {
  const setup = await openCliAuth(ctx, { enableCodexApiKeyEnv: false, log: createLoginLog });
  if ("exitCode" in setup) return setup.exitCode;
  try {
    assertChatgptLoginAllowed(setup.config);
  } catch (error) {
    writeLine(ctx.stderr, errorMessage(error));
    return 1;
  }
  let knobs: LoginKnobs;
  try {
    knobs = readLoginKnobs(ctx.env);
  } catch (error) {
    writeLine(ctx.stderr, `Error logging in: ${errorMessage(error)}`);
    return 1;
  }
  // As Codex: existing auth is revoked and removed before a new ChatGPT login; failures only go to the log.
  try {
    await setup.manager.logout();
  } catch (error) {
    createLoginLog(setup.codexHome)(`failed to clear existing auth before login: ${errorMessage(error)}`);
  }
  return { manager: setup.manager, knobs };
}

function overrides(flags: ChatgptLoginFlags): { issuer?: string; clientId?: string } {
  return { ...(flags.issuer ? { issuer: flags.issuer } : {}), ...(flags.clientId ? { clientId: flags.clientId } : {}) };
}

/**
 * `Error logging in: <reason>`, preceded by the line Codex's callback server prints for an issuer
 * refusal (`OAuth callback error: ...`) or a failed code exchange (`Token exchange error: ...`).
 */
function reportFailure(ctx: CliContext, error: unknown, interrupted: AbortSignal): number {
  const message = errorMessage(error);
  const code = (error as Partial<ChatgptLoginError> | null)?.code;
  if (!interrupted.aborted) {
    if (code === "ACCESS_DENIED") writeLine(ctx.stderr, `OAuth callback error: ${message}`);
    if (code === "TOKEN_EXCHANGE_FAILED") writeLine(ctx.stderr, message.replace(/^Token exchange failed: /, "Token exchange error: "));
  }
  writeLine(ctx.stderr, `Error logging in: ${message}`);
  return interrupted.aborted ? EXIT_INTERRUPTED : 1;
}

/** Aborts on the context's signal, else on SIGINT/SIGTERM while the login runs. */
function interruption(ctx: CliContext): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  if (ctx.signal) {
    if (ctx.signal.aborted) abort();
    else ctx.signal.addEventListener("abort", abort, { once: true });
    return { signal: controller.signal, dispose: () => ctx.signal?.removeEventListener("abort", abort) };
  }
  process.on("SIGINT", abort);
  process.on("SIGTERM", abort);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", abort);
      process.off("SIGTERM", abort);
    },
  };
}
