import { appendFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { terminalSafeInline } from "../protocol/safe-text.js";

/**
 * The login commands' log (Codex keeps `codex-login.log` in its log folder): diagnostics that must
 * not reach stdout or stderr, such as a failed best-effort revoke at logout. One line per message,
 * appended to `$CODEX_HOME/log/codex-auth-login.log` (folder 0700, file 0600). Messages are
 * secret-free by construction; a log that cannot be written is silently skipped.
 */
export const LOGIN_LOG_FILE = "codex-auth-login.log";

export function loginLogPath(codexHome: string): string {
  return path.join(codexHome, "log", LOGIN_LOG_FILE);
}

export function createLoginLog(codexHome: string): (message: string) => void {
  const file = loginLogPath(codexHome);
  return (message) => {
    try {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      appendFileSync(file, `${new Date().toISOString()} ${terminalSafeInline(message).replace(/\s+/g, " ").trim()}\n`, { mode: 0o600 });
    } catch {
      // Logging is best effort.
    }
  };
}
