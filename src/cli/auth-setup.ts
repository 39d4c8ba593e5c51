import { resolveCodexHome } from "../auth/codex-home.js";
import { loadAuthConfig, type AuthConfig } from "../auth/config.js";
import { isAuthError } from "../auth/errors.js";
import { maskArgumentsIn } from "../protocol/safe-text.js";
import { AuthManager } from "../auth/manager.js";
import { writeLine, type CliContext } from "./context.js";

export interface CliAuthSetup {
  codexHome: string;
  config: AuthConfig;
  manager: AuthManager;
}

/**
 * CODEX_HOME, config.toml with the `-c` overrides, and an AuthManager. Failures are printed with
 * Codex's prefixes (`Error parsing -c overrides:` / `Error loading configuration:`); the result is
 * then the exit code and message.
 */
export interface CliSetupFailure {
  exitCode: number;
  /** The printed message without its prefix. */
  message: string;
}

export interface CliAuthOptions {
  enableCodexApiKeyEnv: boolean;
  /** Refresh due ChatGPT tokens when loading (default true; `login status` does not, as Codex). */
  proactiveRefresh?: boolean;
  /** Where the manager's diagnostics go (failed revoke or refresh); never stdout or stderr. */
  log?: (codexHome: string) => (message: string) => void;
}

export async function openCliAuth(ctx: CliContext, options: CliAuthOptions): Promise<CliAuthSetup | CliSetupFailure> {
  let codexHome: string;
  let config: AuthConfig;
  try {
    codexHome = resolveCodexHome(ctx.env);
    config = await loadAuthConfig(codexHome, ctx.configOverrides);
  } catch (error) {
    const prefix = isAuthError(error, "CONFIG_OVERRIDE_INVALID") ? "Error parsing -c overrides" : "Error loading configuration";
    // Config errors quote the override (`Invalid override (missing '='): <arg>`, `unknown variant
    // \`<value>\``); a key pasted after `-c` is masked by the one argv masker.
    const message = maskArgumentsIn(errorMessage(error), ctx.configOverrides);
    writeLine(ctx.stderr, `${prefix}: ${message}`);
    return { exitCode: 1, message };
  }
  const manager = await AuthManager.create({
    codexHome,
    config,
    env: ctx.env,
    enableCodexApiKeyEnv: options.enableCodexApiKeyEnv,
    ...(options.proactiveRefresh === undefined ? {} : { proactiveRefresh: options.proactiveRefresh }),
    ...(options.log === undefined ? {} : { log: options.log(codexHome) }),
  });
  return { codexHome, config, manager };
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
